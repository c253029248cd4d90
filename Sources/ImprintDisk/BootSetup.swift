import Foundation
import ImprintCore

/// How a master boots, read from its ESP's files and its partition types.
public enum BootSetup {
    /// `shim+grub-efi`, `grub-efi`, `systemd-boot` (whichever the ESP holds, the fallback loader's first), and
    /// `grub-bios` when a BIOS boot partition exists.
    public static func found(esp: String?, layout: DiskLayout) -> [String] {
        var found: [String] = []
        if let esp {
            let files = Set(((FileManager.default.enumerator(atPath: esp)?.allObjects as? [String]) ?? []).map { $0.lowercased() })
            let shim = files.contains { $0.hasSuffix("shimx64.efi") } || files.contains("efi/boot/mmx64.efi")
            let grub = files.contains { $0.hasSuffix("grubx64.efi") }
            if grub { found.append(shim ? "shim+grub-efi" : "grub-efi") }
            if files.contains(where: { $0.hasSuffix("systemd-bootx64.efi") }) { found.append("systemd-boot") }
        }
        if layout.partitions.contains(where: { $0.role == .biosBoot }) { found.append("grub-bios") }
        return found
    }
}

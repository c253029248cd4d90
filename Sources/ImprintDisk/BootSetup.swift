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

extension BootSetup {
    /// The copies that give an ESP the removable-media fallback path `\EFI\BOOT\BOOTX64.EFI`, which firmware with no
    /// boot entry (a new unit, a reset NVRAM) starts, when the master booted through an NVRAM entry only: shim (with
    /// the GRUB and MokManager it starts from its own folder), else GRUB, else systemd-boot, from the vendor folder
    /// that has it. Empty when the fallback is there already. Paths are relative to the ESP, `from` to `to`.
    public static func fallbackCopies(esp: String) -> [(from: String, to: String)] {
        let manager = FileManager.default
        let boot = "EFI/BOOT"
        let existing = (try? manager.contentsOfDirectory(atPath: esp + "/" + boot)) ?? []
        if existing.contains(where: { $0.lowercased() == "bootx64.efi" }) { return [] }
        let vendors = ((try? manager.contentsOfDirectory(atPath: esp + "/EFI")) ?? []).filter { $0.uppercased() != "BOOT" }.sorted()
        func find(_ name: String) -> String? {
            for vendor in vendors {
                let files = (try? manager.contentsOfDirectory(atPath: "\(esp)/EFI/\(vendor)")) ?? []
                if let file = files.first(where: { $0.lowercased() == name }) { return "EFI/\(vendor)/\(file)" }
            }
            return nil
        }
        if let shim = find("shimx64.efi") {
            let folder = (shim as NSString).deletingLastPathComponent
            var copies = [(shim, "\(boot)/BOOTX64.EFI")]
            for companion in ["grubx64.efi", "mmx64.efi"] where manager.fileExists(atPath: "\(esp)/\(folder)/\(companion)") {
                copies.append(("\(folder)/\(companion)", "\(boot)/\(companion)"))
            }
            return copies
        }
        if let loader = find("grubx64.efi") ?? find("systemd-bootx64.efi") { return [(loader, "\(boot)/BOOTX64.EFI")] }
        return []
    }
}

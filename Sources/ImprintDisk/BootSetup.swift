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

extension BootSetup {
    /// The firmware boot entry a live unit gets for its restored disk: the loader the master's vendor folder holds
    /// (shim first, so Secure Boot keeps working, else GRUB, else systemd-boot), as a path the firmware reads
    /// (`\EFI\debian\shimx64.efi`), labelled with the vendor folder's name as grub-install labels its entry. Nil when
    /// the ESP has no vendor loader (the fallback path alone then boots it).
    public static func bootEntry(esp: String) -> (label: String, loader: String)? {
        let manager = FileManager.default
        let vendors = ((try? manager.contentsOfDirectory(atPath: esp + "/EFI")) ?? []).filter { $0.uppercased() != "BOOT" }.sorted()
        for wanted in ["shimx64.efi", "grubx64.efi", "systemd-bootx64.efi"] {
            for vendor in vendors {
                let files = (try? manager.contentsOfDirectory(atPath: "\(esp)/EFI/\(vendor)")) ?? []
                if let file = files.first(where: { $0.lowercased() == wanted }) {
                    return (vendor, "\\EFI\\\(vendor)\\\(file)")
                }
            }
        }
        return nil
    }
}

/// A firmware boot entry for a restored disk: which ESP partition, which loader, under which label.
public struct BootEntry: Equatable, Sendable {
    public var disk: String
    public var partition: Int
    public var label: String
    public var loader: String

    public init(disk: String, partition: Int, label: String, loader: String) {
        self.disk = disk
        self.partition = partition
        self.label = label
        self.loader = loader
    }

    /// Replaces the firmware's entries with this label by this one (efibootmgr, on a live UEFI machine only).
    /// - Important: changes the machine's NVRAM boot order: the new entry comes first.
    /// - Returns: the numbers of the entries it removed.
    public func install() throws(DiskError) -> [String] {
        let listing = try DiskTool.output(of: DiskTool.listBootEntries())
        let replaced = DiskTool.bootEntries(labelled: label, in: listing)
        for number in replaced { _ = try DiskTool.output(of: DiskTool.deleteBootEntry(number)) }
        _ = try DiskTool.output(of: DiskTool.createBootEntry(disk: disk, partition: partition, label: label, loader: loader))
        return replaced
    }

    /// Whether a restore onto `disk` should add an entry: a block device (not an image file) restored on a machine
    /// booted by UEFI, whose variables are at `efiVariables` (`/sys/firmware/efi/efivars` on the live system).
    public static func applies(to disk: String, efiVariables: String) -> Bool {
        var info = stat()
        guard stat(disk, &info) == 0, info.st_mode & S_IFMT == S_IFBLK else { return false }
        return FileManager.default.fileExists(atPath: efiVariables)
    }
}

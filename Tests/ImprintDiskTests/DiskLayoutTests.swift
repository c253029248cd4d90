import Foundation
import ImprintCore
@testable import ImprintDisk
import ImprintTestSupport
import Testing

/// A master like a Debian desktop's disk: a 512 MiB ESP, a 40 GiB root, a 16 GiB /home and 4 GiB of swap.
func desktopLayout() -> DiskLayout {
    let gib: Int64 = 1 << 30
    let mib: Int64 = 1 << 20
    return DiskLayout(label: "gpt", diskID: "D15C0000-0000-4000-8000-000000000000", sectorSize: 512, size: 64 * gib, partitions: [
        PartitionLayout(
            number: 1, start: mib, size: 512 * mib, type: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", name: "EFI system",
            fileSystem: FileSystemLayout(type: "vfat", uuid: "AB12-CD34", usedBytes: 6 * mib), mountPoint: "/boot/efi"),
        PartitionLayout(
            number: 2, start: 513 * mib, size: 40 * gib, type: "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", name: "root",
            fileSystem: FileSystemLayout(type: "ext4", uuid: "11111111-2222-4333-8444-555555555555", usedBytes: 5 * gib),
            mountPoint: "/"),
        PartitionLayout(
            number: 3, start: 513 * mib + 40 * gib, size: 16 * gib, type: "933AC7E1-2EB4-4F13-B844-0E14E2AEF915",
            fileSystem: FileSystemLayout(type: "ext4", uuid: "66666666-7777-4888-8999-aaaaaaaaaaaa", usedBytes: 2 * gib),
            mountPoint: "/home"),
        PartitionLayout(
            number: 4, start: 513 * mib + 56 * gib, size: 4 * gib, type: "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F",
            fileSystem: FileSystemLayout(type: "swap", uuid: "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff")),
    ])
}

/// Fresh ids in a row, so a test can tell them apart and from the master's.
final class Counter: @unchecked Sendable {
    var next = 0
    func uuid() -> String {
        next += 1
        return String(format: "%08X-0000-4000-8000-%012X", next, next)
    }
}

@Suite struct DiskLayoutTests {
    static let mib: Int64 = 1 << 20
    static let gib: Int64 = 1 << 30

    /// On a smaller disk the ESP and swap keep their size, /home keeps its share but at least its data plus a
    /// margin, and the root takes the rest; every partition starts on a MiB and ends before the backup GPT.
    @Test func smallerDisk() throws {
        let counter = Counter()
        let laid = try desktopLayout().scaled(toDisk: "unit.img", size: 32 * Self.gib, sectorSize: 512, newUUID: counter.uuid)
        let sizes = laid.partitions.map(\.size)
        #expect(sizes[0] == 512 * Self.mib)
        #expect(sizes[3] == 4 * Self.gib)
        #expect(sizes[2] < 16 * Self.gib && sizes[2] >= DiskLayout.minimumSize(used: 2 * Self.gib))
        #expect(sizes[1] >= DiskLayout.minimumSize(used: 5 * Self.gib))
        for partition in laid.partitions { #expect(partition.start % Self.mib == 0 && partition.size % Self.mib == 0) }
        for (a, b) in zip(laid.partitions, laid.partitions.dropFirst()) { #expect(a.start + a.size == b.start) }
        let last = try #require(laid.partitions.last)
        #expect(last.start + last.size <= 32 * Self.gib - 33 * 512)
        // Nothing is left unused but the alignment slack at the end.
        #expect(32 * Self.gib - (last.start + last.size) < 2 * Self.mib)
    }

    /// On a larger disk the root grows and the others keep their master sizes.
    @Test func largerDisk() throws {
        let laid = try desktopLayout().scaled(toDisk: "unit.img", size: 256 * Self.gib, sectorSize: 512, newUUID: Counter().uuid)
        #expect(laid.partitions.map(\.size)[0] == 512 * Self.mib)
        #expect(laid.partitions.map(\.size)[2] == 16 * Self.gib)
        #expect(laid.partitions.map(\.size)[3] == 4 * Self.gib)
        #expect(laid.partitions.map(\.size)[1] > 200 * Self.gib)
    }

    /// A disk that cannot hold the data with its margins is refused, naming the disk's size and the size needed.
    @Test func tooSmall() {
        #expect {
            try desktopLayout().scaled(toDisk: "tiny.img", size: 8 * Self.gib, sectorSize: 512, newUUID: Counter().uuid)
        } throws: { error in
            guard case .tooSmall(let disk, let size, let needed) = error as? DiskError else { return false }
            let text = "\(error)"
            return disk == "tiny.img" && size == 8 * Self.gib && needed > size && text.contains("8.0 GiB") && text.contains("larger disk")
        }
    }

    /// When the root needs more than its proportional share, the other file systems give back down to their own
    /// minimums.
    @Test func othersGiveBack() throws {
        var layout = desktopLayout()
        layout.partitions[1].fileSystem?.usedBytes = 12 * Self.gib
        let laid = try layout.scaled(toDisk: "unit.img", size: 22 * Self.gib, sectorSize: 512, newUUID: Counter().uuid)
        #expect(laid.partitions[1].size >= DiskLayout.minimumSize(used: 12 * Self.gib))
        #expect(laid.partitions[2].size >= DiskLayout.minimumSize(used: 2 * Self.gib))
    }

    /// The disk, every partition and every file system get new ids, none the master's, a vfat id in its own form.
    @Test func newIDs() throws {
        let master = desktopLayout()
        let laid = try master.scaled(toDisk: "unit.img", size: 64 * Self.gib, sectorSize: 512, newUUID: Counter().uuid)
        let ids = [laid.diskID] + laid.partitions.compactMap(\.uuid) + laid.partitions.compactMap { $0.fileSystem?.uuid }
        #expect(Set(ids).count == ids.count)
        let old = [master.diskID] + master.partitions.compactMap(\.uuid) + master.partitions.compactMap { $0.fileSystem?.uuid }
        #expect(Set(ids).isDisjoint(with: old))
        #expect(laid.partitions[0].fileSystem?.uuid?.count == 9 && laid.partitions[0].fileSystem?.uuid?.dropFirst(4).first == "-")
        #expect(laid.partitions[1].fileSystem?.uuid == laid.partitions[1].fileSystem?.uuid?.lowercased())
    }

    /// sfdisk lays the script of a scaled layout on a disk image file, and its own dump reads back as the same
    /// layout: starts, sizes, types, GUIDs, names and the disk's GUID. No MBR is taken.
    @Test func sfdiskRoundTrip() throws {
        let folder = try TemporaryDirectory()
        let disk = folder.file("unit.img")
        let size: Int64 = 30 * Self.gib
        #expect(try runProcess("/usr/bin/truncate", ["-s", "\(size)", disk]).status == 0)
        let laid = try desktopLayout().scaled(toDisk: disk, size: size, sectorSize: 512, newUUID: Counter().uuid)
        let written = try runProcess("/sbin/sfdisk", ["--quiet", disk], input: PartitionTable.script(laid, sectorSize: 512))
        #expect(written.status == 0, "\(written.error)")
        let verify = try runProcess("/sbin/sfdisk", ["--verify", disk])
        #expect(verify.output.contains("No errors detected"), "\(verify.output)")
        let dump = try runProcess("/sbin/sfdisk", ["--json", disk])
        let read = try PartitionTable.parse(sfdiskJSON: Data(dump.output.utf8), disk: disk, size: size)
        #expect(read.diskID == laid.diskID)
        #expect(read.partitions.map(\.start) == laid.partitions.map(\.start))
        #expect(read.partitions.map(\.size) == laid.partitions.map(\.size))
        #expect(read.partitions.map(\.type) == laid.partitions.map(\.type))
        #expect(read.partitions.map(\.uuid) == laid.partitions.map(\.uuid))
        #expect(read.partitions.map(\.name) == laid.partitions.map(\.name))

        let mbr = folder.file("mbr.img")
        #expect(try runProcess("/usr/bin/truncate", ["-s", "64M", mbr]).status == 0)
        #expect(try runProcess("/sbin/sfdisk", ["--quiet", mbr], input: "label: dos\n,,83\n").status == 0)
        let mbrDump = try runProcess("/sbin/sfdisk", ["--json", mbr])
        #expect {
            try PartitionTable.parse(sfdiskJSON: Data(mbrDump.output.utf8), disk: mbr, size: 64 << 20)
        } throws: { "\($0)".contains("MBR") && "\($0)".contains("mbr.img") }
    }
}

@Suite struct DiskReferencesTests {
    static let fstab = """
        # <file system> <mount point> <type> <options> <dump> <pass>
        UUID=11111111-2222-4333-8444-555555555555 /         ext4 errors=remount-ro 0 1
        UUID=AB12-CD34                            /boot/efi vfat umask=0077      0 1
        PARTUUID=0a1b2c3d-0000-4000-8000-000000000004 none swap sw 0 0
        # UUID=99999999-9999-4999-8999-999999999999 /old ext4 defaults 0 2
        /dev/sr0 /media/cdrom0 udf,iso9660 user,noauto 0 0
        """

    /// The ids fstab names, comments left out, in lower case.
    @Test func namesInFstab() {
        #expect(DiskReferences.names(in: Self.fstab) == [
            "11111111-2222-4333-8444-555555555555", "ab12-cd34", "0a1b2c3d-0000-4000-8000-000000000004",
        ])
    }

    /// GRUB's search lines and a kernel command line name their ids too, options before the id included.
    @Test func namesInGrub() {
        let grub = """
            search --no-floppy --fs-uuid --set=root 11111111-2222-4333-8444-555555555555
            search.fs_uuid 11111111-2222-4333-8444-555555555555 root hd0,gpt2
            linux /boot/vmlinuz-6.1.0-28-amd64 root=UUID=11111111-2222-4333-8444-555555555555 ro quiet resume=UUID=bbbbbbbb-cccc-4ddd-8eee-ffffffffffff
            """
        #expect(DiskReferences.names(in: grub) == ["11111111-2222-4333-8444-555555555555", "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"])
    }

    /// Rewriting replaces each renamed id in the case the file used and leaves the rest of every line as it was.
    @Test func rewrite() {
        let renames = [
            "11111111-2222-4333-8444-555555555555": "12345678-0000-4000-8000-000000000001",
            "ab12-cd34": "EF56-7890",
            "0a1b2c3d-0000-4000-8000-000000000004": "12345678-0000-4000-8000-000000000004",
        ]
        let (text, count) = DiskReferences.rewrite(Self.fstab, renames: renames)
        #expect(count == 3)
        #expect(text.contains("UUID=12345678-0000-4000-8000-000000000001 /         ext4 errors=remount-ro 0 1"))
        #expect(text.contains("UUID=EF56-7890                            /boot/efi vfat"))
        #expect(text.contains("PARTUUID=12345678-0000-4000-8000-000000000004 none swap"))
        #expect(text.contains("# UUID=99999999-9999-4999-8999-999999999999 /old"))
        #expect(text.split(separator: "\n").count == Self.fstab.split(separator: "\n").count)
        #expect(DiskReferences.names(in: text).isDisjoint(with: renames.keys))
    }
}

@Suite struct BootSetupTests {
    /// A master that booted through an NVRAM entry only (Debian's default grub-install) gets the fallback path: shim
    /// as \EFI\BOOT\BOOTX64.EFI with the GRUB and MokManager it starts beside it; one that has it gets nothing; GRUB
    /// alone or systemd-boot alone is copied as the fallback loader.
    @Test func fallbackLoader() throws {
        let folder = try TemporaryDirectory()
        for name in ["shimx64.efi", "grubx64.efi", "mmx64.efi", "grub.cfg"] { _ = try folder.write("shim/EFI/debian/\(name)", name) }
        let copies = BootSetup.fallbackCopies(esp: folder.file("shim"))
        #expect(copies.map(\.from) == ["EFI/debian/shimx64.efi", "EFI/debian/grubx64.efi", "EFI/debian/mmx64.efi"])
        #expect(copies.map(\.to) == ["EFI/BOOT/BOOTX64.EFI", "EFI/BOOT/grubx64.efi", "EFI/BOOT/mmx64.efi"])

        _ = try folder.write("has/EFI/BOOT/BOOTX64.EFI", "shim")
        _ = try folder.write("has/EFI/debian/shimx64.efi", "shim")
        #expect(BootSetup.fallbackCopies(esp: folder.file("has")).isEmpty)

        _ = try folder.write("grub/EFI/debian/grubx64.efi", "grub")
        #expect(BootSetup.fallbackCopies(esp: folder.file("grub")).map(\.to) == ["EFI/BOOT/BOOTX64.EFI"])
        _ = try folder.write("sdboot/EFI/systemd/systemd-bootx64.efi", "sd")
        #expect(BootSetup.fallbackCopies(esp: folder.file("sdboot")).map(\.from) == ["EFI/systemd/systemd-bootx64.efi"])
        try FileManager.default.createDirectory(atPath: folder.file("empty"), withIntermediateDirectories: true)
        #expect(BootSetup.fallbackCopies(esp: folder.file("empty")).isEmpty)
    }

    /// The boot setup a capture records: shim with GRUB, GRUB alone, systemd-boot, and a BIOS boot partition.
    @Test func found() throws {
        let folder = try TemporaryDirectory()
        _ = try folder.write("esp/EFI/debian/shimx64.efi", "shim")
        _ = try folder.write("esp/EFI/debian/grubx64.efi", "grub")
        var layout = desktopLayout()
        #expect(BootSetup.found(esp: folder.file("esp"), layout: layout) == ["shim+grub-efi"])
        layout.partitions.append(PartitionLayout(number: 5, start: 0, size: 1 << 20, type: "21686148-6449-6E6F-744E-656564454649"))
        _ = try folder.write("sd/EFI/systemd/systemd-bootx64.efi", "sd")
        #expect(BootSetup.found(esp: folder.file("sd"), layout: layout) == ["systemd-boot", "grub-bios"])
    }
}

@Suite struct BootEntryTests {
    /// A live unit's NVRAM entry starts the vendor's shim when there is one (Secure Boot), else GRUB, else
    /// systemd-boot, labelled with the vendor folder's name; an ESP with only the fallback path gets none.
    @Test func entryPrefersShim() throws {
        let folder = try TemporaryDirectory()
        for name in ["shimx64.efi", "grubx64.efi"] { _ = try folder.write("shim/EFI/debian/\(name)", name) }
        _ = try folder.write("shim/EFI/BOOT/BOOTX64.EFI", "shim")
        #expect(BootSetup.bootEntry(esp: folder.file("shim"))?.loader == "\\EFI\\debian\\shimx64.efi")
        #expect(BootSetup.bootEntry(esp: folder.file("shim"))?.label == "debian")
        _ = try folder.write("grub/EFI/ubuntu/grubx64.efi", "grub")
        #expect(BootSetup.bootEntry(esp: folder.file("grub"))?.loader == "\\EFI\\ubuntu\\grubx64.efi")
        _ = try folder.write("sd/EFI/systemd/systemd-bootx64.efi", "sd")
        #expect(BootSetup.bootEntry(esp: folder.file("sd"))?.label == "systemd")
        _ = try folder.write("fallback/EFI/BOOT/BOOTX64.EFI", "shim")
        #expect(BootSetup.bootEntry(esp: folder.file("fallback")) == nil)
    }

    /// The efibootmgr commands: create names the disk, the ESP's number, the label and the loader; the entries a
    /// second restore replaces are those with the same label, in the old and the new listing format.
    @Test func efibootmgrCommands() {
        let create = DiskTool.createBootEntry(disk: "/dev/nvme0n1", partition: 1, label: "debian", loader: "\\EFI\\debian\\shimx64.efi")
        #expect(create.executable == "/usr/bin/efibootmgr")
        #expect(create.arguments == ["--create", "--disk", "/dev/nvme0n1", "--part", "1", "--label", "debian", "--loader", "\\EFI\\debian\\shimx64.efi"])
        #expect(DiskTool.deleteBootEntry("0003").arguments == ["--bootnum", "0003", "--delete-bootnum"])
        let listing = """
            BootCurrent: 0001
            Timeout: 1 seconds
            BootOrder: 0003,0001,0000
            Boot0000* UiApp\tFvVol(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(462caa21-7614-4503-836e-8ab6f4662331)
            Boot0001* debian\tHD(1,GPT,0f0e...,0x800,0x100000)/File(\\EFI\\debian\\shimx64.efi)
            Boot0003* debian
            Boot0004  debian-old
            Boot00A0* Windows Boot Manager
            """
        #expect(DiskTool.bootEntries(labelled: "debian", in: listing) == ["0001", "0003"])
        #expect(DiskTool.bootEntries(labelled: "Windows Boot Manager", in: listing) == ["00A0"])
    }

    /// Only a block device on a machine booted by UEFI gets an entry: never a disk image file.
    @Test func onlyLiveDisksGetAnEntry() throws {
        let folder = try TemporaryDirectory()
        let image = try folder.write("disk.img", "")
        try FileManager.default.createDirectory(atPath: folder.file("efivars"), withIntermediateDirectories: true)
        #expect(!BootEntry.applies(to: image, efiVariables: folder.file("efivars")))
        #expect(!BootEntry.applies(to: "/dev/null", efiVariables: folder.file("efivars")))
        #expect(!BootEntry.applies(to: folder.file("missing"), efiVariables: folder.file("efivars")))
        // The same file as a block device (a loop device, as a real disk is) does, while the firmware has variables.
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: image))
        try file.truncate(atOffset: 1 << 20)
        try file.close()
        let attached = try runProcess("/sbin/losetup", ["--find", "--show", image])
        try #require(attached.status == 0, "\(attached.error)")
        let loop = attached.output.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? runProcess("/sbin/losetup", ["--detach", loop]) }
        #expect(BootEntry.applies(to: loop, efiVariables: folder.file("efivars")))
        #expect(!BootEntry.applies(to: loop, efiVariables: folder.file("no-efivars")))
    }
}

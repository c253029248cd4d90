import Foundation
import ImprintTestSupport
import ImprintWire
import Testing

/// A small master disk built with the real tools in a test's folder: a GPT with an ESP (FAT32, made and filled by
/// mtools, since this kernel has no vfat), a root and a /home (ext4, filled by `mkfs.ext4 -d`), the root's fstab
/// naming each by UUID.
struct SmallMasterDisk {
    static let mib = 1 << 20
    static let rootUUID = "3f0c5a1e-8d2b-4c7e-9a61-0b5d2e7f4a10"
    static let homeUUID = "7b2e9d40-1c3a-4f58-8e6d-5a9c0b1f2e34"
    static let espID = "1234ABCD"
    /// Where each partition starts, and its size, in MiB: ESP 1-65, root 65-765, home 765-965 (a sparse file).
    static let espStart = 1, rootStart = 65, homeStart = 765
    static let espSize = 64, rootSize = 700, homeSize = 200

    var path: String

    /// - Parameters:
    ///   - homeUUID: the /home file system's UUID, in the fstab too.
    init(in folder: TemporaryDirectory, homeUUID: String = Self.homeUUID) throws {
        let root = "disk-root"
        _ = try folder.write("\(root)/etc/fstab", """
            # <file system> <mount point> <type> <options> <dump> <pass>
            UUID=\(Self.rootUUID) / ext4 errors=remount-ro 0 1
            UUID=1234-ABCD /boot/efi vfat umask=0077 0 1
            UUID=\(homeUUID) /home ext4 defaults 0 2

            """)
        _ = try folder.write("\(root)/etc/hostname", "master\n")
        _ = try folder.write("\(root)/etc/machine-id", "0123456789abcdef0123456789abcdef\n")
        _ = try folder.write("\(root)/boot/grub/grub.cfg", """
            search --no-floppy --fs-uuid --set=root \(Self.rootUUID)
            linux /boot/vmlinuz root=UUID=\(Self.rootUUID) ro

            """)
        _ = try folder.write("\(root)/usr/share/doc/readme", String(repeating: "imprint ", count: 20_000))
        try FileManager.default.createDirectory(atPath: folder.file("\(root)/boot/efi"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder.file("\(root)/home"), withIntermediateDirectories: true)
        _ = try folder.write("disk-home/pupil/notes.txt", "my homework\n")
        _ = try folder.write("disk-esp/EFI/BOOT/BOOTX64.EFI", "shim, as the fallback loader\n")
        _ = try folder.write("disk-esp/EFI/BOOT/grubx64.efi", "grub\n")
        _ = try folder.write("disk-esp/EFI/debian/shimx64.efi", "shim\n")
        _ = try folder.write("disk-esp/EFI/debian/grub.cfg", "search.fs_uuid \(Self.rootUUID) root\n")

        path = folder.file("master.img")
        try Self.run("/usr/bin/truncate", ["-s", "1000M", path])
        try Self.run("/sbin/sfdisk", ["--quiet", path], input: """
            label: gpt
            unit: sectors

            start=\(Self.espStart * 2048), size=\(Self.espSize * 2048), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system"
            start=\(Self.rootStart * 2048), size=\(Self.rootSize * 2048), type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root"
            start=\(Self.homeStart * 2048), size=\(Self.homeSize * 2048), type=933AC7E1-2EB4-4F13-B844-0E14E2AEF915, name="home"

            """)
        try Self.run("/sbin/mkfs.vfat", ["-F", "32", "-s", "1", "--offset", "\(Self.espStart * 2048)", "-i", Self.espID, "-n", "ESP", path, "\(Self.espSize * 1024)"])
        try Self.run("/usr/bin/mcopy", ["-s", "-p", "-m", "-i", "\(path)@@\(Self.espStart * Self.mib)", folder.file("disk-esp/EFI"), "::/"])
        try Self.run("/sbin/mkfs.ext4", [
            "-q", "-U", Self.rootUUID, "-L", "root", "-d", folder.file(root), "-E", "offset=\(Self.rootStart * Self.mib)", path, "\(Self.rootSize)M",
        ])
        try Self.run("/sbin/mkfs.ext4", [
            "-q", "-U", homeUUID, "-d", folder.file("disk-home"), "-E", "offset=\(Self.homeStart * Self.mib)", path, "\(Self.homeSize)M",
        ])
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], input: String? = nil) throws -> ProcessResult {
        let result = try runProcess(executable, arguments, input: input)
        guard result.status == 0 else {
            throw ProcessFailure(description: "\(executable) \(arguments.joined(separator: " ")): \(result.error)")
        }
        return result
    }

    struct ProcessFailure: Error, CustomStringConvertible { var description: String }
}

@Suite struct DiskCaptureTests {
    static let binary = packageRoot.appendingPathComponent(".build/debug/imprint").path

    func environment(_ folder: TemporaryDirectory) throws -> [String: String] {
        try FileManager.default.createDirectory(atPath: folder.file("tmp"), withIntermediateDirectories: true)
        return ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TMPDIR": folder.file("tmp"), "IMPRINT_INVENTORY": folder.file("inventory.db")]
    }

    /// capture --disk reads the GPT and each file system, mounts them where the disk's own fstab says (in a private
    /// mount namespace it enters by itself), and images the system as one tree: the ESP's files under /boot/efi,
    /// /home's under /home. The manifest records the layout and the boot setup, inspect shows it, GNU tar reads
    /// the image, the disk is not changed by one byte, and no mount, loop device or folder is left behind.
    @Test func capturesTheWholeDisk() throws {
        let folder = try TemporaryDirectory()
        let disk = try SmallMasterDisk(in: folder)
        let before = try runProcess("/usr/bin/sha256sum", [disk.path]).output
        let image = folder.file("master.imprint")
        let captured = try runProcess(Self.binary, ["capture", "--disk", disk.path, "-o", image, "--model", "OptiPlex 7090", "--generalize"],
                                      environment: try environment(folder))
        #expect(captured.status == 0, "\(captured.error)")
        #expect(captured.output.contains("disk          gpt, 3 partitions"), "\(captured.output)")
        #expect(captured.output.contains("boots by shim+grub-efi"), "\(captured.output)")
        #expect(try runProcess("/usr/bin/sha256sum", [disk.path]).output == before)
        #expect(try runProcess("/sbin/losetup", ["-j", disk.path]).output.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.file("tmp")).isEmpty)

        let listing = try runProcess("/bin/tar", ["-tzf", image]).output
        for path in ["etc/fstab", "boot/efi/EFI/BOOT/BOOTX64.EFI", "boot/efi/EFI/debian/grub.cfg", "home/pupil/notes.txt", "usr/share/doc/readme"] {
            #expect(listing.contains(path), "\(path) missing from the image")
        }

        let inspected = try runProcess(Self.binary, ["inspect", image, "--json"], environment: try environment(folder))
        #expect(inspected.status == 0, "\(inspected.error)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(inspected.output.utf8)) as? [String: Any])
        let manifest = try #require(json["manifest"] as? [String: Any])
        #expect(manifest["source"] as? String == disk.path)
        let layout = try #require(manifest["disk"] as? [String: Any])
        #expect(layout["label"] as? String == "gpt")
        #expect(layout["boot"] as? [String] == ["shim+grub-efi"])
        let partitions = try #require(layout["partitions"] as? [[String: Any]])
        #expect(partitions.map { $0["mountPoint"] as? String } == ["/boot/efi", "/", "/home"])
        #expect(partitions.map { $0["start"] as? Int } == [1, 65, 765].map { $0 * SmallMasterDisk.mib })
        let fileSystems = partitions.compactMap { $0["fileSystem"] as? [String: Any] }
        #expect(fileSystems.map { $0["type"] as? String } == ["vfat", "ext4", "ext4"])
        #expect(fileSystems.map { $0["uuid"] as? String } == ["1234-ABCD", SmallMasterDisk.rootUUID, SmallMasterDisk.homeUUID])
        #expect((fileSystems[1]["usedBytes"] as? Int ?? 0) > 100_000)
        let text = try runProcess(Self.binary, ["inspect", image], environment: try environment(folder)).output
        #expect(text.contains("partition 1   64.0 MiB, EFI system, 'EFI system', vfat 1234-ABCD 'ESP'"), "\(text)")
        #expect(text.contains("mounted at /home"), "\(text)")
    }

    /// A disk whose file system is mounted writable is refused (exit 75, naming the mount and the way out), no
    /// image is written; with --quiesced the same capture goes ahead, reading that file system through its mount.
    @Test func refusesAWritableMount() throws {
        let folder = try TemporaryDirectory()
        let disk = try SmallMasterDisk(in: folder)
        let image = folder.file("master.imprint")
        try FileManager.default.createDirectory(atPath: folder.file("mounted"), withIntermediateDirectories: true)
        func captureWhileMounted(_ extra: [String]) throws -> ProcessResult {
            let mount = "mount -o loop,offset=\(SmallMasterDisk.homeStart * SmallMasterDisk.mib),sizelimit=\(SmallMasterDisk.homeSize * SmallMasterDisk.mib) \"$1\" \"$2\""
            return try runProcess("/usr/bin/unshare", [
                "--mount", "--propagation", "private", "/bin/sh", "-c", "\(mount) && shift 2 && exec \"$@\"", "sh",
                disk.path, folder.file("mounted"), Self.binary, "capture", "--disk", disk.path, "-o", image, "--model", "OptiPlex 7090",
            ] + extra, environment: try environment(folder))
        }
        let refused = try captureWhileMounted([])
        #expect(refused.status == 75, "\(refused.output) \(refused.error)")
        #expect(refused.error.contains(folder.file("mounted")) && refused.error.contains("--quiesced"), "\(refused.error)")
        #expect(!FileManager.default.fileExists(atPath: image))
        let quiesced = try captureWhileMounted(["--quiesced"])
        #expect(quiesced.status == 0, "\(quiesced.error)")
        // The mounted /home is read through its mount, not mounted a second time.
        #expect(try runProcess("/bin/tar", ["-tzf", image]).output.contains("home/pupil/notes.txt"))
    }

    /// A disk with an MBR, a disk without a partition table (blank, or a file system on the whole of it, as a
    /// partition named instead of its disk holds), and a disk image without --model, are refused with a message that
    /// says what to do (exit 65), and no image is written.
    @Test func refusals() throws {
        let folder = try TemporaryDirectory()
        let mbr = folder.file("mbr.img")
        try SmallMasterDisk.run("/usr/bin/truncate", ["-s", "64M", mbr])
        try SmallMasterDisk.run("/sbin/sfdisk", ["--quiet", mbr], input: "label: dos\n,,83\n")
        let refused = try runProcess(Self.binary, ["capture", "--disk", mbr, "-o", folder.file("x.imprint"), "--model", "X"],
                                     environment: try environment(folder))
        #expect(refused.status == 65)
        #expect(refused.error.contains("MBR") && refused.error.contains("--mbrtogpt"), "\(refused.error)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("x.imprint")))

        // sfdisk fails on both; the refusal says what blkid finds there instead.
        let blank = folder.file("blank.img")
        try SmallMasterDisk.run("/usr/bin/truncate", ["-s", "64M", blank])
        let bare = folder.file("bare.img")
        try SmallMasterDisk.run("/usr/bin/truncate", ["-s", "64M", bare])
        try SmallMasterDisk.run("/sbin/mkfs.ext4", ["-q", bare])
        for (path, holds) in [(blank, "neither a partition table nor a file system"), (bare, "a file system (ext4) without a partition table")] {
            let untabled = try runProcess(Self.binary, ["capture", "--disk", path, "-o", folder.file("t.imprint"), "--model", "X"],
                                          environment: try environment(folder))
            #expect(untabled.status == 65, "\(untabled.error)")
            #expect(untabled.error.contains(holds) && untabled.error.contains("not /dev/sda1") && untabled.error.contains("--root"),
                    "\(untabled.error)")
            #expect(!FileManager.default.fileExists(atPath: folder.file("t.imprint")))
        }

        let disk = try SmallMasterDisk(in: folder)
        let noModel = try runProcess(Self.binary, ["capture", "--disk", disk.path, "-o", folder.file("y.imprint")], environment: try environment(folder))
        #expect(noModel.status == 65)
        #expect(noModel.error.contains("--model"), "\(noModel.error)")
    }

    /// A file system Imprint does not capture yet (btrfs here, made by the real mkfs.btrfs on /home) is recognised
    /// by its type and refused by name before an image is written, and the disk is left as it was.
    @Test func refusesAFileSystemItCannotCapture() throws {
        let folder = try TemporaryDirectory()
        // A UUID of its own: mkfs.btrfs refuses one that a block device already has, and other tests attach the
        // usual master's partitions as loop devices at the same time.
        let uuid = UUID().uuidString.lowercased()
        let disk = try SmallMasterDisk(in: folder, homeUUID: uuid)
        let home = folder.file("home.btrfs")
        try SmallMasterDisk.run("/usr/bin/truncate", ["-s", "\(SmallMasterDisk.homeSize)M", home])
        try SmallMasterDisk.run("/usr/sbin/mkfs.btrfs", ["-q", "-U", uuid, home])
        try SmallMasterDisk.run("/bin/dd", [
            "if=\(home)", "of=\(disk.path)", "bs=1M", "seek=\(SmallMasterDisk.homeStart)", "conv=notrunc,sparse", "status=none",
        ])
        let before = try SmallMasterDisk.run("/usr/bin/sha256sum", [disk.path]).output
        let refused = try runProcess(Self.binary, ["capture", "--disk", disk.path, "-o", folder.file("z.imprint"), "--model", "X"],
                                     environment: try environment(folder))
        #expect(refused.status == 65, "\(refused.error)")
        #expect(refused.error.contains("partition 3 (/home) holds btrfs"), "\(refused.error)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("z.imprint")))
        #expect(try SmallMasterDisk.run("/usr/bin/sha256sum", [disk.path]).output == before)
    }
}

@Suite struct DiskRestoreTests {
    static let binary = DiskCaptureTests.binary
    static let mib = SmallMasterDisk.mib

    /// The master disk captured (generalized) once, and the test's folder.
    func captured() throws -> (folder: TemporaryDirectory, image: String, master: SmallMasterDisk, environment: [String: String]) {
        let folder = try TemporaryDirectory()
        let master = try SmallMasterDisk(in: folder)
        let environment = try DiskCaptureTests().environment(folder)
        let image = folder.file("master.imprint")
        let capture = try runProcess(Self.binary, ["capture", "--disk", master.path, "-o", image, "--model", "OptiPlex 7090", "--generalize"],
                                     environment: environment)
        #expect(capture.status == 0, "\(capture.error)")
        return (folder, image, master, environment)
    }

    func blankDisk(_ folder: TemporaryDirectory, _ name: String, megabytes: Int) throws -> String {
        let path = folder.file(name)
        try SmallMasterDisk.run("/usr/bin/truncate", ["-s", "\(megabytes)M", path])
        return path
    }

    func table(_ disk: String) throws -> [DiskPartition] { try diskPartitions(disk) }

    /// blkid's view of the file system of `partition`: TYPE, UUID, LABEL.
    func fileSystem(_ disk: String, _ partition: DiskPartition) throws -> [String: String] { try partitionProbe(disk, partition) }

    /// One file of the ext file system at `offset`, read with debugfs.
    func read(_ path: String, _ disk: String, offset: Int) throws -> String {
        try SmallMasterDisk.run("/sbin/debugfs", ["-R", "cat \(path)", "\(disk)?offset=\(offset)"]).output
    }

    /// Restored onto a blank disk smaller than the master and onto a larger one: a new GPT scaled to each (the ESP
    /// at its size, /home at its share, the root taking the rest, all on MiB boundaries), new GUIDs and file system
    /// UUIDs (none the master's, none shared between the two units), the files of every file system in place, and
    /// every place that named the master's ids (fstab, GRUB's configuration on the root and on the ESP) naming the
    /// new ones, which blkid finds on the disk.
    @Test func ontoSmallerAndLargerDisks() throws {
        let (folder, image, masterDisk, environment) = try captured()
        var seen: Set<String> = [SmallMasterDisk.rootUUID, SmallMasterDisk.homeUUID, "1234-ABCD"]
        for (name, size) in [("small.img", 600), ("large.img", 2000)] {
            let disk = try blankDisk(folder, name, megabytes: size)
            let restored = try runProcess(Self.binary, ["restore", image, "--disk", disk, "--facts", fixturePath("demo/facts/RM204-07.json")],
                                          environment: environment)
            #expect(restored.status == 0, "\(restored.error)")
            #expect(restored.output.contains("/etc/fstab: 3 rewritten"), "\(restored.output)")
            let verify = try SmallMasterDisk.run("/sbin/sfdisk", ["--verify", disk])
            #expect(verify.output.contains("No errors detected"), "\(verify.output)")
            let partitions = try table(disk)
            #expect(partitions.count == 3)
            #expect(partitions[0].size == SmallMasterDisk.espSize * Self.mib)
            #expect(partitions.allSatisfy { $0.start % Self.mib == 0 && $0.size % Self.mib == 0 })
            #expect(partitions[2].start + partitions[2].size <= size * Self.mib - 33 * 512)
            if size < 1000 {
                #expect(partitions[1].size < SmallMasterDisk.rootSize * Self.mib && partitions[2].size < SmallMasterDisk.homeSize * Self.mib)
            } else {
                #expect(partitions[1].size > 1500 * Self.mib && partitions[2].size == SmallMasterDisk.homeSize * Self.mib)
            }
            let esp = try fileSystem(disk, partitions[0])
            let root = try fileSystem(disk, partitions[1])
            let home = try fileSystem(disk, partitions[2])
            #expect(esp["TYPE"] == "vfat" && root["TYPE"] == "ext4" && home["TYPE"] == "ext4")
            let ids = [esp["UUID"], root["UUID"], home["UUID"]].compactMap { $0 } + partitions.map { $0.uuid.lowercased() }
            #expect(ids.count == 6 && seen.isDisjoint(with: ids), "ids must be new: \(ids)")
            seen.formUnion(ids)

            let fstab = try read("/etc/fstab", disk, offset: partitions[1].start)
            // Rewriting fstab leaves its folder's time as the master's, like every other folder's.
            func folderTime(_ disk: String, offset: Int) throws -> String? {
                try SmallMasterDisk.run("/sbin/debugfs", ["-R", "stat /etc", "\(disk)?offset=\(offset)"]).output
                    .split(separator: "\n").first { $0.contains("mtime:") }.map(String.init)
            }
            let restoredTime = try #require(try folderTime(disk, offset: partitions[1].start))
            #expect(try restoredTime == folderTime(masterDisk.path, offset: SmallMasterDisk.rootStart * Self.mib))
            for id in [esp["UUID"], root["UUID"], home["UUID"]].compactMap({ $0 }) { #expect(fstab.contains("UUID=\(id) "), "\(fstab)") }
            #expect(try read("/boot/grub/grub.cfg", disk, offset: partitions[1].start).contains("root=UUID=\(root["UUID"] ?? "?") ro"))
            #expect(try read("/pupil/notes.txt", disk, offset: partitions[2].start) == "my homework\n")
            #expect(try read("/etc/machine-id", disk, offset: partitions[1].start) != "0123456789abcdef0123456789abcdef\n")
            let espConfig = try SmallMasterDisk.run("/usr/bin/mtype", ["-i", "\(disk)@@\(partitions[0].start)", "::/EFI/debian/grub.cfg"]).output
            #expect(espConfig == "search.fs_uuid \(root["UUID"] ?? "?") root\n", "\(espConfig)")
            let fallback = try SmallMasterDisk.run("/usr/bin/mtype", ["-i", "\(disk)@@\(partitions[0].start)", "::/EFI/BOOT/BOOTX64.EFI"]).output
            #expect(fallback == "shim, as the fallback loader\n")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.file("tmp")).isEmpty)
            #expect(try runProcess("/sbin/losetup", ["-j", disk]).output.isEmpty)
        }
    }

    /// A disk too small for the data is refused before anything is written, naming both sizes; a disk holding data
    /// is refused without --force when no one can be asked (exit 22), and is not changed by one byte; a folder's
    /// image is refused for a disk.
    @Test func refusals() throws {
        let (folder, image, master, environment) = try captured()
        let tiny = try blankDisk(folder, "tiny.img", megabytes: 200)
        let tinyBefore = try runProcess("/usr/bin/sha256sum", [tiny]).output
        let small = try runProcess(Self.binary, ["restore", image, "--disk", tiny, "--force"], environment: environment)
        #expect(small.status == 65, "\(small.error)")
        #expect(small.error.contains("200.0 MiB") && small.error.contains("larger disk"), "\(small.error)")
        #expect(try runProcess("/usr/bin/sha256sum", [tiny]).output == tinyBefore)

        let holding = folder.file("holding.img")
        try FileManager.default.copyItem(atPath: master.path, toPath: holding)
        let before = try runProcess("/usr/bin/sha256sum", [holding]).output
        let refused = try runProcess(Self.binary, ["restore", image, "--disk", holding, "--facts", fixturePath("demo/facts/RM204-07.json")], environment: environment)
        #expect(refused.status == 22, "\(refused.error)")
        #expect(refused.error.contains("holding.img"), "\(refused.error)")
        #expect(try runProcess("/usr/bin/sha256sum", [holding]).output == before)

        _ = try folder.write("tree/etc/hostname", "x\n")
        let folderImage = folder.file("folder.imprint")
        #expect(try runProcess(Self.binary, ["capture", "--root", folder.file("tree"), "-o", folderImage, "--model", "OptiPlex 7090"],
                               environment: environment).status == 0)
        let notDisk = try runProcess(Self.binary, ["restore", folderImage, "--disk", tiny, "--force"], environment: environment)
        #expect(notDisk.status == 65)
        #expect(notDisk.error.contains("--root DIR"), "\(notDisk.error)")
        #expect(try runProcess("/usr/bin/sha256sum", [tiny]).output == tinyBefore)
    }

    /// --dry-run shows what the disk holds (with the newest file under its /home), the new table as a diff of the old
    /// one, and each id's renaming, then stops: the disk is not changed by one byte, even without --force.
    @Test func dryRun() throws {
        let (folder, image, master, environment) = try captured()
        let holding = folder.file("holding.img")
        try FileManager.default.copyItem(atPath: master.path, toPath: holding)
        let before = try runProcess("/usr/bin/sha256sum", [holding]).output
        let plan = try runProcess(Self.binary, ["restore", image, "--disk", holding, "--dry-run", "--facts", fixturePath("demo/facts/RM204-07.json")],
                                  environment: environment)
        #expect(plan.status == 0, "\(plan.error)")
        #expect(plan.output.contains("would lay a new GPT and restore onto it (dry run, nothing written)"), "\(plan.output)")
        #expect(plan.output.contains("erasing what it holds:") && plan.output.contains("ext4 'root'"), "\(plan.output)")
        #expect(plan.output.contains("the newest file under /home was changed ") && plan.output.contains(": /home/pupil/notes.txt"), "\(plan.output)")
        #expect(plan.output.contains("+start=2048, size=131072, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B"), "\(plan.output)")
        #expect(plan.output.contains("UUID \(SmallMasterDisk.rootUUID) -> "), "\(plan.output)")
        #expect(try runProcess("/usr/bin/sha256sum", [holding]).output == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.file("tmp")).isEmpty)
    }

    /// An image of a master that boots by BIOS only (a BIOS boot partition, no ESP) is refused for a disk, naming
    /// the way out, before anything is written.
    @Test func biosMasterRefused() throws {
        let folder = try TemporaryDirectory()
        let environment = try DiskCaptureTests().environment(folder)
        let uuid = "0d6c9b1a-2f3e-4a5b-8c7d-9e0f1a2b3c4d"
        _ = try folder.write("bios-root/etc/fstab", "UUID=\(uuid) / ext4 defaults 0 1\n")
        _ = try folder.write("bios-root/etc/hostname", "master\n")
        let disk = folder.file("bios.img")
        try SmallMasterDisk.run("/usr/bin/truncate", ["-s", "300M", disk])
        try SmallMasterDisk.run("/sbin/sfdisk", ["--quiet", disk], input: """
            label: gpt
            start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649
            start=4096, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4

            """)
        try SmallMasterDisk.run("/sbin/mkfs.ext4", ["-q", "-U", uuid, "-d", folder.file("bios-root"), "-E", "offset=\(4096 * 512)", disk, "200M"])
        let image = folder.file("bios.imprint")
        let capture = try runProcess(Self.binary, ["capture", "--disk", disk, "-o", image, "--model", "OptiPlex 7090"], environment: environment)
        #expect(capture.status == 0, "\(capture.error)")
        #expect(capture.output.contains("boots by grub-bios"), "\(capture.output)")
        let blank = try blankDisk(folder, "blank.img", megabytes: 600)
        let before = try runProcess("/usr/bin/sha256sum", [blank]).output
        let refused = try runProcess(Self.binary, ["restore", image, "--disk", blank, "--force"], environment: environment)
        #expect(refused.status == 65, "\(refused.error)")
        #expect(refused.error.contains("boots by BIOS") && refused.error.contains("--root DIR"), "\(refused.error)")
        #expect(try runProcess("/usr/bin/sha256sum", [blank]).output == before)
    }

    /// On a terminal, a disk holding data is shown and asked about twice: "n" at the first question, or a wrong name
    /// at the second, keeps it as it was (exit 22); "y" and the disk's name erase it and restore.
    @Test func asksTwiceOnATerminal() throws {
        let (folder, image, master, environment) = try captured()
        var terminal = environment
        terminal["TERM"] = "xterm"
        let holding = folder.file("holding.img")
        try FileManager.default.copyItem(atPath: master.path, toPath: holding)
        let before = try runProcess("/usr/bin/sha256sum", [holding]).output
        let arguments = ["restore", image, "--disk", holding, "--facts", fixturePath("demo/facts/RM204-07.json")]
        let first = "Restoring erases all of it. Erase \(holding)? [y/N] "
        let second = "type the disk's name (holding.img) to erase it: "

        let no = try runOnTerminal(Self.binary, arguments, environment: terminal, answers: [(first, "n")])
        #expect(no.status == 22, "\(no.transcript)")
        #expect(no.transcript.contains("holds data:") && no.transcript.contains("Do you need the data on this computer?"), "\(no.transcript)")
        #expect(no.transcript.contains("ext4 'root'"), "\(no.transcript)")
        let wrongName = try runOnTerminal(Self.binary, arguments, environment: terminal, answers: [(first, "y"), (second, "master.img")])
        #expect(wrongName.status == 22, "\(wrongName.transcript)")
        #expect(try runProcess("/usr/bin/sha256sum", [holding]).output == before)

        let yes = try runOnTerminal(Self.binary, arguments, environment: terminal, answers: [(first, "y"), (second, "holding.img")])
        #expect(yes.status == 0, "\(yes.transcript)")
        #expect(try runProcess("/usr/bin/sha256sum", [holding]).output != before)
        #expect(try table(holding).count == 3)
    }

    /// A disk restore killed (SIGKILL) before each of its first disk and file operations never leaves a disk that
    /// passes for restored (the ESP, written last, has no boot loader yet), nor a mount or loop device behind; a
    /// `restore --force` afterwards makes the disk whole: its ids consistent and its file systems clean. A damaged
    /// image stops the restore (exit 20) the same way.
    @Test func killedOrDamagedThenRestoredAgain() throws {
        let (folder, image, _, environment) = try captured()
        let disk = try blankDisk(folder, "unit.img", megabytes: 600)
        let arguments = ["restore", image, "--disk", disk, "--force", "--facts", fixturePath("demo/facts/RM204-07.json")]
        func bootLoaderWritten() throws -> Bool {
            let partitions = try? table(disk)
            guard let esp = partitions?.first else { return false }
            return try runProcess("/usr/bin/mtype", ["-i", "\(disk)@@\(esp.start)", "::/EFI/BOOT/BOOTX64.EFI"]).status == 0
        }
        var operation = 1
        while true {
            var killing = environment
            killing["IMPRINT_TEST_KILL_AT_OPERATION"] = String(operation)
            let killed = try runProcess(Self.binary, arguments, environment: killing)
            if killed.status == 0 { break }
            #expect(killed.status == 9, "operation \(operation): \(killed.error)")
            #expect(try !bootLoaderWritten(), "killed at operation \(operation), the disk must not look restored")
            #expect(try runProcess("/sbin/losetup", ["-j", disk]).output.isEmpty, "a loop device left after operation \(operation)")
            operation += operation < 6 ? 1 : 7
        }
        #expect(operation > 6, "the restore must have been killed at several points")

        // A byte changed two thirds into the image: found when that block is restored, after the disk was laid.
        let damaged = folder.file("damaged.imprint")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: image))
        bytes[bytes.count * 2 / 3] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: damaged))
        let stopped = try runProcess(Self.binary, ["restore", damaged, "--disk", disk, "--force", "--facts", fixturePath("demo/facts/RM204-07.json")],
                                     environment: environment)
        #expect(stopped.status == 20, "\(stopped.error)")
        #expect(try !bootLoaderWritten())

        let redone = try runProcess(Self.binary, arguments, environment: environment)
        #expect(redone.status == 0, "\(redone.error)")
        #expect(try bootLoaderWritten())
        let partitions = try table(disk)
        let root = try fileSystem(disk, partitions[1])
        let fstab = try read("/etc/fstab", disk, offset: partitions[1].start)
        #expect(fstab.contains("UUID=\(root["UUID"] ?? "?") / ext4"), "\(fstab)")
        for partition in partitions.dropFirst() {
            let check = try runProcess("/sbin/e2fsck", ["-fn", "\(disk)?offset=\(partition.start)"])
            #expect(check.status == 0, "\(check.output)")
        }
        // A killed restore cannot remove its (empty) mount folder; nothing is mounted on it or left in it.
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.file("tmp")) {
            let inside = try FileManager.default.contentsOfDirectory(atPath: folder.file("tmp/\(name)"))
            #expect(name.hasPrefix("imprint-disk-") && inside.isEmpty, "\(name): \(inside)")
        }
    }

    /// restore --disk --json prints exactly the fields README documents for it: the layout laid with the new ids,
    /// the rewrites, the boot fallback and (null for an image file) the firmware boot entry.
    /// `restore --server URL --disk DISK`: the server's image is streamed onto a whole disk, laid and rewritten as from
    /// a file, personalized with the server's record, with the server's address and the unit's token (0600) in the
    /// new root and the ESP written last; `--json` says what was laid. A window that only personalizes is exit 30; a
    /// disk holding data is refused (exit 22); neither changes one byte. The refusal is reported `failed`, and the
    /// same unit, asking again in the same window with `--force`, is armed anew and restored. An admin restores the
    /// image by its URL onto a blank disk.
    @Test func fromTheServer() throws {
        let (folder, image, master, environment) = try captured()
        let demo = ["printers", "groups", "units"].map { ["inventory", "import", fixturePath("demo/\($0).csv")] }
        let server = try RunningServer(setup: demo)
        let added = try runProcess(Self.binary, ["library", "add", image, "--library", server.library])
        #expect(added.status == 0, "\(added.error)")
        let facts = fixturePath("demo/facts/RM204-07.json")
        let holding = folder.file("holding.img")
        try FileManager.default.copyItem(atPath: master.path, toPath: holding)
        let before = try runProcess("/usr/bin/sha256sum", [holding]).output

        // A window that only personalizes has no image for a disk: exit 30, nothing written.
        let personalizing = try server.admin("POST", ServerAPI.windowsPath, json: #"{"group":"RM204","actions":["personalize"],"minutes":30}"#)
        #expect(personalizing.status == 201, "\(personalizing.text)")
        let nothing = try runProcess(Self.binary, ["restore", "--server", server.url, "--disk", holding, "--facts", facts, "--force"], environment: environment)
        #expect(nothing.status == 30, "\(nothing.error)")
        #expect(nothing.error.contains("personalizes without restoring"), "\(nothing.error)")
        #expect(try runProcess("/usr/bin/sha256sum", [holding]).output == before)
        #expect(try server.admin("DELETE", ServerAPI.windowPath(group: "RM204")).status == 204)

        let opened = try server.admin("POST", ServerAPI.windowsPath, json: #"{"group":"RM204","actions":["restore"],"minutes":30}"#)
        #expect(opened.status == 201, "\(opened.text)")
        let refused = try runProcess(Self.binary, ["restore", "--server", server.url, "--disk", holding, "--facts", facts], environment: environment)
        #expect(refused.status == 22, "\(refused.error)")
        #expect(try runProcess("/usr/bin/sha256sum", [holding]).output == before)
        let fleet = try JSONDecoder.server.decode([FleetRow].self, from: try server.admin("GET", ServerAPI.fleetPath).body)
        #expect(fleet.first { $0.unit == "RM204-07" }?.state == .failed)

        let restored = try runProcess(
            Self.binary, ["restore", "--server", server.url, "--disk", holding, "--facts", facts, "--force", "--json"], environment: environment)
        #expect(restored.status == 0, "\(restored.error)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(restored.output.utf8)) as? [String: Any])
        #expect(json["root"] is NSNull && json["work"] as? String == "restored")
        let disk = try #require(json["disk"] as? [String: Any])
        #expect((disk["rewrites"] as? [[String: Any]])?.contains { $0["path"] as? String == "/etc/fstab" } == true)
        #expect((json["run"] as? [String: Any])?["result"] as? String == "applied")

        let partitions = try table(holding)
        let root = try partitionProbe(holding, partitions[1])
        #expect(root["UUID"] != SmallMasterDisk.rootUUID)
        #expect(try read("/etc/fstab", holding, offset: partitions[1].start).contains("UUID=\(root["UUID"] ?? "?") "))
        #expect(try read("/etc/hostname", holding, offset: partitions[1].start) == "RM204-07\n")
        #expect(try read("/etc/imprint/server", holding, offset: partitions[1].start) == server.url + "\n")
        let token = try SmallMasterDisk.run("/sbin/debugfs", ["-R", "stat /var/lib/imprint/server-token", "\(holding)?offset=\(partitions[1].start)"]).output
        #expect(token.contains("Mode:  0600"), "\(token)")
        let fallback = try SmallMasterDisk.run("/usr/bin/mtype", ["-i", "\(holding)@@\(partitions[0].start)", "::/EFI/BOOT/BOOTX64.EFI"]).output
        #expect(fallback == "shim, as the fallback loader\n")
        let after = try JSONDecoder.server.decode([FleetRow].self, from: try server.admin("GET", ServerAPI.fleetPath).body)
        #expect(after.first { $0.unit == "RM204-07" }?.state == .personalized)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.file("tmp")).isEmpty)
        #expect(try runProcess("/sbin/losetup", ["-j", holding]).output.isEmpty)

        // An admin restores the library's image by its URL onto a blank disk: laid and rewritten, not personalized.
        let blank = try blankDisk(folder, "blank.img", megabytes: 600)
        let byURL = try runProcess(
            Self.binary, ["restore", server.url + ServerAPI.imagesPath + "/master.imprint", "--disk", blank, "--admin-token-file", server.adminTokenFile, "--facts", facts],
            environment: environment)
        #expect(byURL.status == 0, "\(byURL.error)")
        #expect(byURL.output.contains("/etc/fstab: 3 rewritten"), "\(byURL.output)")
        #expect(try read("/etc/hostname", blank, offset: try table(blank)[1].start) == "master\n")
    }

    @Test func reportsJSON() throws {
        let (folder, image, _, environment) = try captured()
        let disk = try blankDisk(folder, "unit.img", megabytes: 600)
        let restored = try runProcess(Self.binary, ["restore", image, "--disk", disk, "--facts", fixturePath("demo/facts/RM204-07.json"), "--json"],
                                      environment: environment)
        #expect(restored.status == 0, "\(restored.error)")
        let documented = try #require(try JSONFieldTests().documentedFields()["restore --disk"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(restored.output.utf8)) as? [String: Any])
        #expect(Set(json.keys) == documented)
        let laid = try #require(json["laid"] as? [String: Any])
        let partitions = try #require(laid["partitions"] as? [[String: Any]])
        let root = try partitionProbe(disk, try table(disk)[1])
        #expect((partitions[1]["fileSystem"] as? [String: Any])?["uuid"] as? String == root["UUID"])
        let rewrites = try #require(json["rewrites"] as? [[String: Any]])
        #expect(rewrites.contains { $0["path"] as? String == "/etc/fstab" && $0["count"] as? Int == 3 })
        // A disk image file never gets a firmware boot entry, even on a UEFI machine.
        #expect(json["bootEntry"] is NSNull)
    }
}

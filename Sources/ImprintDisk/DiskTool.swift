import Foundation
import ImprintCore

/// The programs whole-disk work runs, as values whose argument vectors tests check without running them. Each takes
/// the disk and a partition's byte offset, so a disk image file and a real disk are read the same way, with no
/// partition device nodes needed.
public enum DiskTool {
    /// `sfdisk --json`: the partition table.
    public static func dumpTable(_ disk: String) -> ChildProcess {
        ChildProcess("/sbin/sfdisk", ["--json", disk])
    }

    /// `sfdisk --dump`: the partition table as the script sfdisk reads.
    public static func dumpScript(_ disk: String) -> ChildProcess {
        ChildProcess("/sbin/sfdisk", ["--dump", disk])
    }

    /// `blkid -p` on one partition: its file system's type, UUID and label, read from the superblock.
    public static func probe(_ disk: String, offset: Int64, size: Int64) -> ChildProcess {
        ChildProcess("/sbin/blkid", ["-p", "-o", "export", "-O", "\(offset)", "-S", "\(size)", disk])
    }

    /// `blkid -p` on the whole disk: what it holds where a partition table was looked for (`PTTYPE`, or a file
    /// system's `TYPE`); exit status 2 when it finds nothing.
    public static func probeWhole(_ disk: String) -> ChildProcess {
        ChildProcess("/sbin/blkid", ["-p", "-o", "export", disk])
    }

    /// `blkid -o export`'s `KEY=value` lines as a dictionary (the first of a repeated key).
    static func fields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "="), fields[String(line[..<equals])] == nil else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return fields
    }

    /// `dumpe2fs -h`: an ext file system's block counts and features.
    public static func ext4Header(_ disk: String, offset: Int64) -> ChildProcess {
        ChildProcess("/sbin/dumpe2fs", ["-h", "\(disk)?offset=\(offset)"])
    }

    /// `debugfs -R 'cat PATH'`: one file of an ext file system, read without mounting it.
    public static func readFile(_ path: String, disk: String, offset: Int64) -> ChildProcess {
        ChildProcess("/sbin/debugfs", ["-R", "cat \(path)", "\(disk)?offset=\(offset)"])
    }

    /// `mount` of one partition through a loop device of its own, read-only; the journal is not replayed (`noload`),
    /// so not one byte of the disk changes.
    public static func mountReadOnly(_ disk: String, partition: PartitionLayout, type: String, at folder: String) -> ChildProcess {
        var options = ["ro", "loop", "offset=\(partition.start)", "sizelimit=\(partition.size)"]
        if type.hasPrefix("ext") && type != "ext2" { options.append("noload") }
        return ChildProcess("/bin/mount", ["-t", type, "-o", options.joined(separator: ","), disk, folder])
    }

    /// A read-only view of a file system already mounted at `source`.
    public static func bindReadOnly(_ source: String, at folder: String) -> ChildProcess {
        ChildProcess("/bin/mount", ["--bind", "-o", "ro", source, folder])
    }

    /// A tmpfs over `folder`, to hold files copied out of a FAT file system (this process's kernel may lack vfat).
    public static func mountScratch(at folder: String) -> ChildProcess {
        ChildProcess("/bin/mount", ["-t", "tmpfs", "-o", "mode=0755", "imprint-scratch", folder])
    }

    /// `umount -R`: a folder and everything mounted below it.
    public static func unmount(_ folder: String) -> ChildProcess {
        ChildProcess("/bin/umount", ["-R", folder])
    }

    /// `mcopy` of a FAT file system's whole tree into `folder`, times and attributes kept (mtools reads the disk
    /// directly, so no vfat driver is needed).
    public static func copyOutOfFAT(_ disk: String, offset: Int64, to folder: String) -> ChildProcess {
        ChildProcess("/usr/bin/mcopy", ["-s", "-p", "-m", "-n", "-Q", "-i", "\(disk)@@\(offset)", "::/*", folder + "/"])
    }

    /// Runs `copyOutOfFAT`; an empty FAT file system (mcopy finds no `::/*`) copies nothing.
    static func extractFAT(_ disk: String, offset: Int64, to folder: String) throws(DiskError) {
        let command = copyOutOfFAT(disk, offset: offset, to: folder)
        let result: ChildProcess.Result
        do {
            result = try command.run()
        } catch {
            throw .toolFailed(command: command.description, status: 127, output: "\(error)")
        }
        if result.status == 0 || result.errorText.contains("\"::/*\" not found") { return }
        throw .toolFailed(command: command.description, status: result.status, output: result.errorText)
    }

    /// Runs `command`; its standard output when it exits 0.
    /// - Throws: `DiskError.toolFailed` naming the command and what it said.
    public static func output(of command: ChildProcess) throws(DiskError) -> String {
        let result: ChildProcess.Result
        do {
            result = try command.run()
        } catch {
            throw .toolFailed(command: command.description, status: 127, output: "\(error)")
        }
        guard result.status == 0 else {
            throw .toolFailed(command: command.description, status: result.status, output: result.errorText + result.outputText)
        }
        return result.outputText
    }
}

extension DiskTool {
    /// `sfdisk` laying `script` on the disk, wiping what signatures the old table and partitions had.
    public static func writeTable(_ disk: String, script: String) -> ChildProcess {
        ChildProcess("/sbin/sfdisk", ["--quiet", "--wipe", "always", "--wipe-partitions", "always", disk], input: Array(script.utf8))
    }

    /// The program that makes `fileSystem` on `partition` of the disk, at its offset, with the id and label the
    /// new layout gives it; nil for a type Imprint does not make (swap is made through a loop device instead).
    public static func makeFileSystem(_ disk: String, partition: PartitionLayout, fileSystem: FileSystemLayout) -> ChildProcess? {
        let kib = partition.size / 1024
        switch fileSystem.type {
        case "ext4", "ext3", "ext2":
            var arguments = ["-q", "-F", "-t", fileSystem.type, "-E", "offset=\(partition.start)"]
            if let uuid = fileSystem.uuid { arguments += ["-U", uuid] }
            if let label = fileSystem.label { arguments += ["-L", label] }
            return ChildProcess("/sbin/mke2fs", arguments + [disk, "\(kib)k"])
        case "vfat":
            var arguments: [String] = []
            // FAT32 needs 65,525 clusters at least (fewer and mtools, like some firmware, refuses to read it): the
            // largest cluster of up to 8 sectors that gives that many; mkfs.fat picks FAT16 for a disk too small.
            if let sectors = [8, 4, 2, 1].first(where: { partition.size / Int64(512 * $0) >= 66_000 }) {
                arguments += ["-F", "32", "-s", "\(sectors)"]
            }
            // -I: on a block device that already shows partitions (the kernel read the new table) mkfs.fat refuses
            // the whole disk unless told; writing at the partition's offset is what is meant.
            arguments += ["-I", "--offset", "\(partition.start / 512)"]
            if let id = fileSystem.uuid { arguments += ["-i", id.filter(\.isHexDigit)] }
            if let label = fileSystem.label { arguments += ["-n", label] }
            return ChildProcess("/sbin/mkfs.fat", arguments + [disk, "\(kib)"])
        default:
            return nil
        }
    }

    /// `mount` of one new partition, writable, through a loop device that goes away with the mount.
    public static func mountWritable(_ disk: String, partition: PartitionLayout, type: String, at folder: String) -> ChildProcess {
        ChildProcess("/bin/mount", ["-t", type, "-o", "loop,offset=\(partition.start),sizelimit=\(partition.size)", disk, folder])
    }

    /// `mcopy` of a folder's contents into the root of a FAT file system on the disk, times kept.
    public static func copyIntoFAT(_ disk: String, offset: Int64, entries: [String]) -> ChildProcess {
        ChildProcess("/usr/bin/mcopy", ["-s", "-p", "-m", "-o", "-Q", "-i", "\(disk)@@\(offset)"] + entries + ["::/"])
    }

    /// A loop device over one partition (for `mkswap`), printed by `losetup --show`.
    public static func attachLoop(_ disk: String, partition: PartitionLayout) -> ChildProcess {
        ChildProcess("/sbin/losetup", ["--find", "--show", "--offset", "\(partition.start)", "--sizelimit", "\(partition.size)", disk])
    }

    public static func detachLoop(_ device: String) -> ChildProcess { ChildProcess("/sbin/losetup", ["--detach", device]) }

    /// `mkswap` with the new layout's UUID and label.
    public static func makeSwap(_ device: String, fileSystem: FileSystemLayout) -> ChildProcess {
        var arguments = ["-q"]
        if let uuid = fileSystem.uuid { arguments += ["-U", uuid] }
        if let label = fileSystem.label { arguments += ["-L", label] }
        return ChildProcess("/sbin/mkswap", arguments + [device])
    }
}

extension DiskTool {
    /// `efibootmgr`: the firmware's boot entries, one `BootXXXX* LABEL` line each.
    public static func listBootEntries() -> ChildProcess { ChildProcess("/usr/bin/efibootmgr", []) }

    /// `efibootmgr --create`: a boot entry for `loader` on the ESP, partition `partition` of `disk`, put first in
    /// the boot order (efibootmgr's default).
    public static func createBootEntry(disk: String, partition: Int, label: String, loader: String) -> ChildProcess {
        ChildProcess("/usr/bin/efibootmgr", [
            "--create", "--disk", disk, "--part", "\(partition)", "--label", label, "--loader", loader,
        ])
    }

    /// `efibootmgr --delete-bootnum`: removes entry `number` (four hex digits).
    public static func deleteBootEntry(_ number: String) -> ChildProcess {
        ChildProcess("/usr/bin/efibootmgr", ["--bootnum", number, "--delete-bootnum"])
    }

    /// The numbers of the entries labelled `label` in efibootmgr's listing, so a second restore replaces its entry
    /// instead of stacking another.
    static func bootEntries(labelled label: String, in listing: String) -> [String] {
        listing.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("Boot"), line.count > 8 else { return nil }
            let number = line.dropFirst(4).prefix(4)
            guard number.count == 4, number.allSatisfy(\.isHexDigit) else { return nil }
            var rest = line.dropFirst(8)
            if rest.first == "*" { rest = rest.dropFirst() }
            let name = rest.drop { $0 == " " }
            // Newer efibootmgr prints the device path after a tab.
            let entryLabel = name.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return entryLabel.trimmingCharacters(in: .whitespaces) == label ? String(number) : nil
        }
    }
}

extension DiskTool {
    /// The kernel file systems a chroot of the restored system needs for its own tools: /proc, /sys and /dev (bound
    /// read-only from this machine's; the private mount namespace keeps them from anyone else).
    public static func mountForChroot(_ root: String) -> [ChildProcess] {
        [
            ChildProcess("/bin/mount", ["-t", "proc", "-o", "nosuid,nodev,noexec", "proc", root + "/proc"]),
            ChildProcess("/bin/mount", ["-t", "sysfs", "-o", "ro,nosuid,nodev,noexec", "sysfs", root + "/sys"]),
            ChildProcess("/bin/mount", ["--rbind", "-o", "ro", "/dev", root + "/dev"]),
        ]
    }

    /// `update-initramfs -u -k all` run by the restored system on itself, so its initramfs carries the settings the
    /// restore rewrote (the resume device, crypttab) instead of the master's.
    public static func updateInitramfs(_ root: String) -> ChildProcess {
        ChildProcess(
            "/usr/sbin/chroot", [root, "/usr/sbin/update-initramfs", "-u", "-k", "all"],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"], timeout: .seconds(600))
    }
}

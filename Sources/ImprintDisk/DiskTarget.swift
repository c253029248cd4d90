import Foundation
import Glibc
import ImprintCore

/// A unit's disk being made from a whole-disk image: a new GPT scaled to it, new file systems with new ids, all
/// mounted under one folder for the image engine to restore the system's tree into, then the ids the system names
/// rewritten and the ESP's files written last.
///
/// Like `DiskSource`, it mounts in this process's mount namespace, which must be a private one.
public struct DiskTarget: Sendable {
    public var disk: String
    /// The master's layout, from the image.
    public var master: DiskLayout
    /// The layout laid on this disk: new sizes and ids.
    public var laid: DiskLayout
    /// The folder holding the new system's tree.
    public var root: String

    /// The layout `master` takes on `disk`, checked before anything is written.
    /// - Throws: `DiskError.tooSmall` naming both sizes.
    public static func plan(_ master: DiskLayout, onto disk: String, newUUID: () -> String) throws(DiskError) -> DiskLayout {
        let size = try DiskUse.size(of: disk)
        return try master.scaled(toDisk: disk, size: size, sectorSize: master.sectorSize, newUUID: newUUID)
    }

    /// Lays `laid` on the disk, makes its file systems and mounts them under `folder` (empty) where the master's
    /// fstab put them (FAT file systems get a scratch folder, copied in by `finish`).
    /// - Important: erases the disk: its partition table and the start of every file system on it.
    public static func lay(_ laid: DiskLayout, master: DiskLayout, onto disk: String, at folder: String) throws -> DiskTarget {
        FaultInjection.beforeFileOperation()
        _ = try DiskTool.output(of: DiskTool.writeTable(disk, script: PartitionTable.script(laid, sectorSize: laid.sectorSize)))
        for partition in laid.partitions {
            guard let fileSystem = partition.fileSystem else { continue }
            FaultInjection.beforeFileOperation()
            if fileSystem.type == "swap" {
                try makeSwap(disk, partition: partition, fileSystem: fileSystem)
            } else if let make = DiskTool.makeFileSystem(disk, partition: partition, fileSystem: fileSystem) {
                _ = try DiskTool.output(of: make)
            }
        }
        let target = DiskTarget(disk: disk, master: master, laid: laid, root: folder)
        do {
            try target.mount()
        } catch {
            target.close()
            throw error
        }
        return target
    }

    static func makeSwap(_ disk: String, partition: PartitionLayout, fileSystem: FileSystemLayout) throws(DiskError) {
        let device = try DiskTool.output(of: DiskTool.attachLoop(disk, partition: partition))
            .trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? DiskTool.detachLoop(device).run() }
        _ = try DiskTool.output(of: DiskTool.makeSwap(device, fileSystem: fileSystem))
    }

    /// Mounts the root, then the others by the depth of their mount points.
    func mount() throws(DiskError) {
        let mounted = laid.partitions.filter { $0.mountPoint != nil && $0.fileSystem != nil }
            .sorted { ($0.mountPoint ?? "").split(separator: "/").count < ($1.mountPoint ?? "").split(separator: "/").count }
        for partition in mounted {
            guard let fileSystem = partition.fileSystem, let point = partition.mountPoint else { continue }
            let folder = point == "/" ? root : root + point
            if point != "/" { try makeFolders(folder) }
            if fileSystem.type == "vfat" {
                _ = try DiskTool.output(of: DiskTool.mountScratch(at: folder))
            } else {
                _ = try DiskTool.output(of: DiskTool.mountWritable(disk, partition: partition, type: fileSystem.type, at: folder))
            }
        }
        // A new ext4 has lost+found; the image brings the root's own.
        rmdir(root + "/lost+found")
    }

    func makeFolders(_ folder: String) throws(DiskError) {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw .toolFailed(command: "mkdir \(folder)", status: 1, output: "\(error)")
        }
    }

    /// The master's ids (file systems' and partitions', lower case) by the new ones this disk gave them.
    public var renames: [String: String] {
        var renames: [String: String] = [:]
        for (old, new) in zip(master.partitions, laid.partitions) {
            if let from = old.uuid, let to = new.uuid { renames[from.lowercased()] = to.lowercased() }
            if let from = old.fileSystem?.uuid, let to = new.fileSystem?.uuid { renames[from.lowercased()] = to }
        }
        return renames
    }

    /// One file of the restored system that names disks by id, rewritten.
    public struct Rewrite: Codable, Equatable, Sendable {
        public var path: String
        public var count: Int
    }

    /// Rewrites every place the restored system names the master's disks by id, then checks that every id it
    /// names is one of this disk's.
    /// - Throws: `DiskError.invalidLayout` naming an id no partition has, and the file.
    public func rewriteReferences() throws -> [Rewrite] {
        var rewrites: [Rewrite] = []
        let ours = Set(laid.partitions.flatMap { [$0.uuid?.lowercased(), $0.fileSystem?.uuid?.lowercased()].compactMap { $0 } })
        for path in DiskReferences.paths(under: root) {
            guard let text = try? String(contentsOfFile: root + "/" + path, encoding: .utf8) else { continue }
            let (rewritten, count) = DiskReferences.rewrite(text, renames: renames)
            if count > 0 {
                try replace(path, with: Data(rewritten.utf8))
                rewrites.append(Rewrite(path: "/" + path, count: count))
            }
            if let unknown = DiskReferences.names(in: rewritten).subtracting(ours).sorted().first {
                throw DiskError.invalidLayout(
                    "/\(path) names the disk id \(unknown), which no partition or file system of the restored disk has; "
                        + "fix it in the master and capture again")
            }
        }
        return rewrites
    }

    /// The rewritten files an initramfs carries a copy of: its own must be made again to name the new ids.
    public static let initramfsFiles: Set<String> = ["/etc/initramfs-tools/conf.d/resume", "/etc/crypttab"]

    /// Makes the restored system's initramfs again, with its own `update-initramfs` in a chroot, when `rewrites`
    /// changed a file the initramfs holds a copy of (else it would wait at boot for the master's swap to resume from).
    /// - Returns: whether it ran.
    public func regenerateInitramfs(after rewrites: [Rewrite]) throws -> Bool {
        guard rewrites.contains(where: { Self.initramfsFiles.contains($0.path) }),
            FileManager.default.isExecutableFile(atPath: root + "/usr/sbin/update-initramfs")
        else { return false }
        var mounted: [String] = []
        defer { for point in mounted.reversed() { _ = try? DiskTool.unmount(point).run() } }
        for (point, command) in zip(["/proc", "/sys", "/dev"], DiskTool.mountForChroot(root)) {
            try makeFolders(root + point)
            _ = try DiskTool.output(of: command)
            mounted.append(root + point)
        }
        FaultInjection.beforeFileOperation()
        _ = try DiskTool.output(of: DiskTool.updateInitramfs(root))
        return true
    }

    /// Gives the ESP the fallback boot path when the master had none (`BootSetup.fallbackCopies`).
    /// - Returns: the copies made, `from` to `to`, relative to the ESP.
    public func addFallbackLoader() throws -> [(from: String, to: String)] {
        guard let point = laid.partitions.first(where: { $0.role == .efiSystem })?.mountPoint else { return [] }
        let esp = root + point
        let copies = BootSetup.fallbackCopies(esp: esp)
        for (from, to) in copies {
            try makeFolders(esp + "/" + (to as NSString).deletingLastPathComponent)
            do {
                try FileManager.default.copyItem(atPath: esp + "/" + from, toPath: esp + "/" + to)
            } catch {
                throw DiskError.toolFailed(command: "copy \(from) to \(to) on the ESP", status: 1, output: "\(error)")
            }
        }
        return copies
    }

    /// The firmware boot entry this disk should get (`BootSetup.bootEntry`), read from the ESP's files before
    /// `finish` writes them; nil when the image has no ESP or no vendor loader.
    public func plannedBootEntry() -> BootEntry? {
        guard let esp = laid.partitions.first(where: { $0.role == .efiSystem }), let point = esp.mountPoint,
            let (label, loader) = BootSetup.bootEntry(esp: root + point)
        else { return nil }
        return BootEntry(disk: disk, partition: esp.number, label: label, loader: loader)
    }

    /// Writes `data` over the file at `path` (relative to the root), atomically, and puts back the times of its folder
    /// as the restore left them (the master's), which the rename would otherwise move to now.
    func replace(_ path: String, with data: Data) throws {
        let folder = root + "/" + (path as NSString).deletingLastPathComponent
        var before = stat()
        let known = stat(folder, &before) == 0
        try TargetRoot(root).write("/" + path, data)
        if known {
            var times = [before.st_atim, before.st_mtim]
            utimensat(AT_FDCWD, folder, &times, AT_SYMLINK_NOFOLLOW)
        }
    }

    /// Writes the scratch folders into their FAT file systems (the ESP last of all, so a disk cut short has no
    /// boot loader yet), then unmounts everything.
    public func finish() throws {
        // The ESP after every other FAT file system.
        let fats = laid.partitions.filter { $0.fileSystem?.type == "vfat" }.sorted { ($0.role == .efiSystem ? 1 : 0) < ($1.role == .efiSystem ? 1 : 0) }
        for partition in fats {
            guard let point = partition.mountPoint else { continue }
            let folder = root + point
            let entries = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().map { folder + "/" + $0 }
            if !entries.isEmpty {
                FaultInjection.beforeFileOperation()
                _ = try DiskTool.output(of: DiskTool.copyIntoFAT(disk, offset: partition.start, entries: entries))
            }
        }
        close()
    }

    /// Unmounts everything (the folder itself stays, empty, for its maker to remove).
    public func close() {
        _ = try? DiskTool.unmount(root).run()
    }
}

import Foundation
import Glibc
import ImprintCore

/// A master's disk opened for capture: its layout read and its file systems mounted read-only under one folder, each
/// where the master's fstab mounts it, so the image engine captures the whole system as one tree.
///
/// The mounts are made in this process's mount namespace, which must be a private one (`MountNamespace`): they
/// vanish with the process, and nothing else on the machine sees them.
public struct DiskSource {
    public var disk: String
    /// The layout, with each partition's file system, data size and mount point filled in.
    public var layout: DiskLayout
    /// The folder holding the system's tree.
    public var root: String

    /// Reads `disk`'s layout and mounts its file systems under a new folder.
    /// - Parameters:
    ///   - quiesced: the user says the disk's writable mounts are idle; without it a disk mounted writable is refused.
    /// - Important: mounts (read-only) in this process's mount namespace; call `close()` when done.
    public static func open(_ disk: String, quiesced: Bool) throws -> DiskSource {
        var layout = try read(disk)
        if !quiesced {
            let mounts = DiskUse.writableMounts(of: disk)
            if !mounts.isEmpty { throw DiskError.inUse(disk: disk, mountPoints: mounts) }
        }
        let rootNumber = try assignMountPoints(&layout, disk: disk)
        let folder = try makeFolder()
        var source = DiskSource(disk: disk, layout: layout, root: folder)
        do {
            try source.mount(root: rootNumber)
            source.layout.boot = BootSetup.found(esp: source.layout.partitions.first { $0.role == .efiSystem }
                .flatMap(\.mountPoint).map { folder + $0 }, layout: source.layout)
        } catch {
            source.close()
            throw error
        }
        return source
    }

    /// Unmounts everything and removes the folder.
    public func close() {
        _ = try? DiskTool.unmount(root).run()
        rmdir(root)
    }

    /// The partition table and each partition's file system, with the bytes its files use.
    public static func read(_ disk: String) throws(DiskError) -> DiskLayout {
        let size = try DiskUse.size(of: disk)
        var layout = try PartitionTable.parse(sfdiskJSON: Data(try tableDump(disk).utf8), disk: disk, size: size)
        for index in layout.partitions.indices {
            let partition = layout.partitions[index]
            // blkid exits 2 when it finds no file system: a BIOS boot partition, an empty one.
            guard let probed = try? DiskTool.output(of: DiskTool.probe(disk, offset: partition.start, size: partition.size)) else {
                continue
            }
            let fields = DiskTool.fields(probed)
            guard let type = fields["TYPE"] else { continue }
            var fileSystem = FileSystemLayout(type: type, uuid: fields["UUID"], label: fields["LABEL"])
            if type.hasPrefix("ext") {
                let header = try DiskTool.output(of: DiskTool.ext4Header(disk, offset: partition.start))
                (fileSystem.usedBytes, fileSystem.features) = ext4Usage(header)
            }
            layout.partitions[index].fileSystem = fileSystem
        }
        return layout
    }

    /// What `sfdisk --json` prints for `disk`. A disk without a partition table (sfdisk fails on it) is refused
    /// saying what blkid finds there instead: a file system (a partition named instead of its disk), or nothing.
    static func tableDump(_ disk: String) throws(DiskError) -> String {
        do {
            return try DiskTool.output(of: DiskTool.dumpTable(disk))
        } catch {
            guard let probed = try? DiskTool.probeWhole(disk).run(), probed.status == 0 || probed.status == 2 else { throw error }
            let fields = DiskTool.fields(probed.outputText)
            if fields["PTTYPE"] != nil { throw error }
            let holds = fields["TYPE"].map { "a file system (\($0)) without a partition table, as a partition does" }
                ?? "neither a partition table nor a file system"
            throw .unsupportedTable(
                disk: disk,
                reason: "it holds \(holds); Imprint captures whole GPT disks: name the disk itself (/dev/sda, not /dev/sda1), "
                    + "or capture a root folder with 'imprint capture --root'")
        }
    }

    /// The bytes in use and the features, from `dumpe2fs -h`'s text.
    static func ext4Usage(_ header: String) -> (Int64?, [String]?) {
        var fields: [String: String] = [:]
        for line in header.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let features = fields["Filesystem features"].map { $0.split(separator: " ").map(String.init) }
        guard let blocks = fields["Block count"].flatMap({ Int64($0) }), let free = fields["Free blocks"].flatMap({ Int64($0) }),
            let blockSize = fields["Block size"].flatMap({ Int64($0) })
        else { return (nil, features) }
        return ((blocks - free) * blockSize, features)
    }

    /// Finds the root file system (the ext one whose /etc/fstab mounts it at `/`) and gives every partition its
    /// fstab's mount point. Returns the root's partition number.
    static func assignMountPoints(_ layout: inout DiskLayout, disk: String) throws(DiskError) -> Int {
        for partition in layout.partitions where partition.fileSystem?.type.hasPrefix("ext") == true {
            guard let text = try? DiskTool.output(of: DiskTool.readFile("/etc/fstab", disk: disk, offset: partition.start)) else { continue }
            let entries = FstabEntry.parse(text)
            guard entries.contains(where: { $0.mountPoint == "/" && $0.names(partition) }) else { continue }
            for index in layout.partitions.indices {
                let entry = entries.first { $0.names(layout.partitions[index]) }
                if let point = entry?.mountPoint, point.hasPrefix("/") { layout.partitions[index].mountPoint = point }
            }
            return partition.number
        }
        throw .unsupportedTable(
            disk: disk,
            reason: "no ext4 file system on it has an /etc/fstab that mounts it at '/' by UUID, LABEL, PARTUUID or "
                + "PARTLABEL; capture a disk that holds an installed system")
    }

    /// An empty folder of its own under the temporary folder ($TMPDIR, else /tmp), the mounts' top.
    public static func makeFolder() throws(DiskError) -> String {
        let pattern = NSTemporaryDirectory() + "imprint-disk-XXXXXX"
        var template = Array(pattern.utf8CString)
        guard mkdtemp(&template) != nil else {
            throw .toolFailed(command: "mkdtemp \(pattern)", status: errno, output: String(cString: strerror(errno)))
        }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Mounts the root, then the others by depth of their mount points (`/boot` before `/boot/efi`).
    func mount(root rootNumber: Int) throws(DiskError) {
        let mountedHere = DiskUse.mounts(of: disk)
        let mounted = layout.partitions.filter { $0.number == rootNumber }
            + layout.partitions.filter { $0.number != rootNumber && $0.mountPoint != nil }
                .sorted { ($0.mountPoint ?? "").split(separator: "/").count < ($1.mountPoint ?? "").split(separator: "/").count }
        for partition in mounted {
            guard let fileSystem = partition.fileSystem, let point = partition.mountPoint else { continue }
            let folder = point == "/" ? root : root + point
            // A file system this system has mounted already (the user said it is idle) is read through that mount,
            // not mounted a second time beside it.
            if let existing = mountedHere.first(where: { $0.offset == partition.start }) {
                _ = try DiskTool.output(of: DiskTool.bindReadOnly(existing.mountPoint, at: folder))
                continue
            }
            switch fileSystem.type {
            case "vfat":
                _ = try DiskTool.output(of: DiskTool.mountScratch(at: folder))
                try DiskTool.extractFAT(disk, offset: partition.start, to: folder)
            case "ext4", "ext3", "ext2":
                _ = try DiskTool.output(of: DiskTool.mountReadOnly(disk, partition: partition, type: fileSystem.type, at: folder))
            default:
                throw .unsupportedTable(
                    disk: disk,
                    reason: "partition \(partition.number) (\(point)) holds \(fileSystem.type); Imprint captures ext2/3/4 "
                        + "and vfat file systems so far")
            }
        }
    }
}

extension DiskSource {
    /// What `disk` holds, a line per partition (size, kind, file system, label, data, the system on it), for the
    /// question a restore asks before it erases a disk; empty when the disk is blank (no table, no file system).
    public static func contents(of disk: String) -> [String] {
        guard let layout = try? read(disk) else {
            // No GPT: an MBR, a file system on the whole disk, or nothing at all.
            let found = (try? DiskTool.output(of: ChildProcess("/sbin/blkid", ["-p", "-o", "export", disk]))) ?? ""
            let fields = DiskTool.fields(found)
            if let table = fields["PTTYPE"] { return ["a partition table of type \(table)"] }
            if let type = fields["TYPE"] { return ["a \(type) file system on the whole disk"] }
            return []
        }
        var lines = layout.partitions.map { partition in
            var words = ["partition \(partition.number): \(Bytes.text(partition.size))", partition.role == .other ? partition.type : partition.role.rawValue]
            if let fileSystem = partition.fileSystem {
                words.append(fileSystem.type + (fileSystem.label.map { " " + quoted($0) } ?? ""))
                if let used = fileSystem.usedBytes { words.append("\(Bytes.text(used)) used") }
                if fileSystem.type.hasPrefix("ext"), let system = operatingSystem(disk, offset: partition.start) { words.append(system) }
            }
            return words.joined(separator: ", ")
        }
        if let (time, path) = newestHomeFile(disk, layout: layout) {
            let stamp = ISO8601DateFormatter.string(from: time, timeZone: .current, formatOptions: [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime])
            lines.append("the newest file under /home was changed \(stamp): \(path)")
        }
        return lines
    }

    /// The last identity Imprint gave the system on `disk`: the last line of the identity log of the first ext file
    /// system that has one, read with debugfs (not one byte of the disk changes); nil when none has.
    public static func identity(on disk: String) -> IdentityRecord? {
        guard let layout = try? read(disk) else { return nil }
        for partition in layout.partitions where partition.fileSystem?.type.hasPrefix("ext") == true {
            guard let log = try? DiskTool.output(of: DiskTool.readFile(IdentityRecord.logPath, disk: disk, offset: partition.start)) else { continue }
            if let record = IdentityRecord.last(ofLog: log) { return record }
        }
        return nil
    }

    /// The most recently changed file under the disk's /home (its own file system, or the root's folder), read
    /// through a read-only mount; nil when there is none or it cannot be read. Needs a private mount namespace.
    static func newestHomeFile(_ disk: String, layout: DiskLayout) -> (Date, String)? {
        var layout = layout
        guard (try? assignMountPoints(&layout, disk: disk)) != nil else { return nil }
        let home = layout.partitions.first { $0.mountPoint == "/home" }
        guard let partition = home ?? layout.partitions.first(where: { $0.mountPoint == "/" }),
            let type = partition.fileSystem?.type, type.hasPrefix("ext"), let folder = try? makeFolder()
        else { return nil }
        defer {
            _ = try? DiskTool.unmount(folder).run()
            rmdir(folder)
        }
        guard (try? DiskTool.output(of: DiskTool.mountReadOnly(disk, partition: partition, type: type, at: folder))) != nil else { return nil }
        let top = home == nil ? folder + "/home" : folder
        var newest: (Date, String)?
        let walker = FileManager.default.enumerator(
            at: URL(fileURLWithPath: top), includingPropertiesForKeys: [.contentModificationDateKey, .isRegularFileKey])
        var seen = 0
        while let url = walker?.nextObject() as? URL, seen < 200_000 {
            seen += 1
            guard let values = try? url.resourceValues(forKeys: [.contentModificationDateKey, .isRegularFileKey]),
                values.isRegularFile == true, let time = values.contentModificationDate
            else { continue }
            if newest.map({ time > $0.0 }) ?? true { newest = (time, "/home" + url.path.dropFirst(top.count)) }
        }
        return newest
    }

    /// The system an ext file system holds, by its os-release's PRETTY_NAME, read without mounting it.
    static func operatingSystem(_ disk: String, offset: Int64) -> String? {
        for path in ["/etc/os-release", "/usr/lib/os-release"] {
            guard let text = try? DiskTool.output(of: DiskTool.readFile(path, disk: disk, offset: offset)) else { continue }
            for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
                return String(line.dropFirst("PRETTY_NAME=".count)).trimmingQuotes
            }
        }
        return nil
    }
}

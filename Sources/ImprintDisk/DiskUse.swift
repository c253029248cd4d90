import Foundation
import Glibc
import ImprintCore

/// What the running system knows about a disk: its size, and where its file systems are mounted.
public enum DiskUse {
    /// The size of a disk image file or a block device, in bytes.
    public static func size(of disk: String) throws(DiskError) -> Int64 {
        let descriptor = open(disk, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .unsupportedTable(disk: disk, reason: "cannot be opened: \(String(cString: strerror(errno)).lowercased())")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw .unsupportedTable(disk: disk, reason: "cannot be read: \(String(cString: strerror(errno)).lowercased())")
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return Int64(status.st_size)
        case S_IFBLK:
            let end = lseek(descriptor, 0, SEEK_END)
            guard end > 0 else {
                throw .unsupportedTable(disk: disk, reason: "its size cannot be read: \(String(cString: strerror(errno)).lowercased())")
            }
            return Int64(end)
        default: throw .unsupportedTable(disk: disk, reason: "is neither a block device nor a disk image file")
        }
    }

    /// Whether `disk` is a block device (not a disk image file).
    public static func isBlockDevice(_ disk: String) -> Bool {
        var status = stat()
        return stat(disk, &status) == 0 && status.st_mode & S_IFMT == S_IFBLK
    }

    /// A file system of the disk that the running system has mounted.
    public struct Mounted: Equatable, Sendable {
        /// Where its partition starts on the disk, in bytes.
        public var offset: Int64
        public var mountPoint: String
        public var writable: Bool
    }

    /// The file systems of `disk` mounted on this system (their whole trees, not bind mounts of a folder): through
    /// its partitions (a block device), or through loop devices backed by the disk (a disk image file).
    public static func mounts(of disk: String, mountInfo: String? = nil) -> [Mounted] {
        let devices = deviceOffsets(of: disk)
        guard !devices.isEmpty else { return [] }
        let text = mountInfo ?? ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "")
        return mounts(devices: devices, mountInfo: text)
    }

    /// The mount points of file systems of `disk` mounted writable.
    public static func writableMounts(of disk: String) -> [String] {
        mounts(of: disk).filter(\.writable).map(\.mountPoint)
    }

    /// The mounts in `/proc/self/mountinfo` text of the devices in `devices` (`major:minor` to the byte offset of
    /// their partition); only mounts of a file system's root (`/` in the fourth field), so a bind mount of one of
    /// its folders is not taken for the whole file system.
    static func mounts(devices: [String: Int64], mountInfo: String) -> [Mounted] {
        mountInfo.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 5, let offset = devices[String(fields[2])], fields[3] == "/" else { return nil }
            let point = FstabEntry.unescape(fields[4])
            return Mounted(offset: offset, mountPoint: point, writable: fields[5].split(separator: ",").contains("rw"))
        }
    }

    /// `major:minor` of every device that shows part of `disk`, with the byte offset on the disk where it starts:
    /// the disk's partitions (a block device), or the loop devices backed by the disk file and their partitions.
    static func deviceOffsets(of disk: String) -> [String: Int64] {
        var status = stat()
        guard stat(disk, &status) == 0 else { return [:] }
        var disks: [String: Int64] = [:]
        if status.st_mode & S_IFMT == S_IFBLK {
            disks["\(major(status.st_rdev)):\(minor(status.st_rdev))"] = 0
        } else {
            let path = URL(fileURLWithPath: disk).standardizedFileURL.resolvingSymlinksInPath().path
            for name in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/block")) ?? [] where name.hasPrefix("loop") {
                let folder = "/sys/block/\(name)"
                guard sysfsValue(folder + "/loop/backing_file") == path, let number = sysfsValue(folder + "/dev") else { continue }
                disks[number] = sysfsValue(folder + "/loop/offset").flatMap { Int64($0) } ?? 0
            }
        }
        var devices = disks
        // Partitions appear as folders of the disk's sysfs entry that have a `partition` file and a `start` sector.
        for (number, base) in disks {
            let folder = "/sys/dev/block/\(number)"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
                guard FileManager.default.fileExists(atPath: "\(folder)/\(name)/partition"),
                    let dev = sysfsValue("\(folder)/\(name)/dev"), let start = sysfsValue("\(folder)/\(name)/start").flatMap({ Int64($0) })
                else { continue }
                devices[dev] = base + start * 512
            }
        }
        return devices
    }

    static func sysfsValue(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func major(_ device: dev_t) -> UInt32 { UInt32((device >> 8) & 0xfff) | UInt32((device >> 32) & ~0xfff) }
    static func minor(_ device: dev_t) -> UInt32 { UInt32(device & 0xff) | UInt32((device >> 12) & ~0xff) }
}

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
        case S_IFBLK: return Int64(lseek(descriptor, 0, SEEK_END))
        default: throw .unsupportedTable(disk: disk, reason: "is neither a block device nor a disk image file")
        }
    }

    /// The mount points of file systems on `disk` mounted read-write: through its partitions' device numbers (a
    /// block device), or through loop devices backed by it (a disk image file).
    public static func writableMounts(of disk: String, mountInfo: String? = nil) -> [String] {
        let devices = deviceNumbers(of: disk)
        guard !devices.isEmpty else { return [] }
        let text = mountInfo ?? ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "")
        return writableMounts(devices: devices, mountInfo: text)
    }

    /// The mount points in `/proc/self/mountinfo` text of file systems on `devices` (`major:minor`) mounted `rw`.
    static func writableMounts(devices: Set<String>, mountInfo: String) -> [String] {
        mountInfo.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 5, devices.contains(String(fields[2])) else { return nil }
            return fields[5].split(separator: ",").contains("rw") ? String(fields[4]) : nil
        }
    }

    /// `major:minor` of the disk's partitions (a block device) or of the loop devices backed by the disk file and
    /// their partitions.
    static func deviceNumbers(of disk: String) -> Set<String> {
        var status = stat()
        guard stat(disk, &status) == 0 else { return [] }
        var disks: [String] = []
        if status.st_mode & S_IFMT == S_IFBLK {
            disks.append("\(major(status.st_rdev)):\(minor(status.st_rdev))")
        } else {
            let real = (try? FileManager.default.destinationOfSymbolicLink(atPath: disk)) ?? disk
            let path = URL(fileURLWithPath: real).standardizedFileURL.resolvingSymlinksInPath().path
            for name in (try? FileManager.default.contentsOfDirectory(atPath: "/sys/block")) ?? [] where name.hasPrefix("loop") {
                guard let backing = try? String(contentsOfFile: "/sys/block/\(name)/loop/backing_file", encoding: .utf8),
                    backing.trimmingCharacters(in: .whitespacesAndNewlines) == path,
                    let number = try? String(contentsOfFile: "/sys/block/\(name)/dev", encoding: .utf8)
                else { continue }
                disks.append(number.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        var numbers = Set(disks)
        // Partitions appear as folders of the disk's sysfs entry that have a `partition` file.
        for number in disks {
            let folder = "/sys/dev/block/\(number)"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            where FileManager.default.fileExists(atPath: "\(folder)/\(name)/partition") {
                if let dev = try? String(contentsOfFile: "\(folder)/\(name)/dev", encoding: .utf8) {
                    numbers.insert(dev.trimmingCharacters(in: .whitespacesAndNewlines))
                }
            }
        }
        return numbers
    }

    static func major(_ device: dev_t) -> UInt32 { UInt32((device >> 8) & 0xfff) | UInt32((device >> 32) & ~0xfff) }
    static func minor(_ device: dev_t) -> UInt32 { UInt32(device & 0xff) | UInt32((device >> 12) & ~0xff) }
}

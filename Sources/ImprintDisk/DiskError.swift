import Foundation
import ImprintCore

/// Errors from whole-disk work: a disk that cannot be read or laid out, a tool that failed.
public enum DiskError: Error, Equatable, Sendable {
    /// The partition table is not one a whole-disk image handles (an MBR, say), or cannot be read.
    case unsupportedTable(disk: String, reason: String)
    /// The image cannot be laid on a disk: an image of a folder, a master that boots by BIOS only.
    case unsupportedImage(image: String, reason: String)
    /// The target disk cannot hold the image's data, or its layout.
    case tooSmall(disk: String, size: Int64, needed: Int64)
    /// A program the disk work runs failed.
    case toolFailed(command: String, status: Int32, output: String)
    /// The disk has file systems mounted writable: a capture would read files while they change.
    case inUse(disk: String, mountPoints: [String])
    /// A layout that cannot be laid: overlapping partitions, a partition past the disk's end.
    case invalidLayout(String)
}

extension DiskError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .unsupportedTable(disk, reason):
            return "disk \(quoted(disk)): \(reason)"
        case let .unsupportedImage(image, reason):
            return "\(quoted(image)) \(reason)"
        case let .tooSmall(disk, size, needed):
            return "disk \(quoted(disk)) holds \(Bytes.text(size)), and this image needs at least \(Bytes.text(needed)) "
                + "(its data, room for the file systems to work, and the partitions that keep their size); "
                + "restore it onto a larger disk"
        case let .toolFailed(command, status, output):
            let said = output.trimmingCharacters(in: .whitespacesAndNewlines)
            return "\(command) failed with exit status \(status)\(said.isEmpty ? "" : ": \(said)")"
        case let .inUse(disk, mountPoints):
            return "disk \(quoted(disk)) has file systems mounted writable (\(mountPoints.joined(separator: ", "))); "
                + "capture it from another system (a live USB stick), unmount them, or say they are idle with '--quiesced'"
        case .invalidLayout(let reason):
            return "invalid disk layout: \(reason)"
        }
    }
}

/// Sizes for people: binary units, one decimal.
enum Bytes {
    static func text(_ bytes: Int64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f %@", value, units[unit])
    }
}

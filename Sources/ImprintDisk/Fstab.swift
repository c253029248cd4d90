import ImprintCore

/// One line of /etc/fstab: what to mount, where, as what.
public struct FstabEntry: Equatable, Sendable {
    /// The first field: `UUID=...`, `PARTUUID=...`, `LABEL=...`, `/dev/sda1`, `tmpfs`.
    public var spec: String
    public var mountPoint: String
    public var type: String

    /// Reads fstab's text: comments and blank lines skipped, octal escapes (`\040` for a space) decoded.
    public static func parse(_ text: String) -> [FstabEntry] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = fields.first, !first.hasPrefix("#"), fields.count >= 3 else { return nil }
            return FstabEntry(spec: unescape(first), mountPoint: unescape(fields[1]), type: String(fields[2]))
        }
    }

    static func unescape(_ field: Substring) -> String {
        var result = ""
        var rest = field[...]
        while let slash = rest.firstIndex(of: "\\") {
            result += rest[..<slash]
            let digits = rest[rest.index(after: slash)...].prefix(3)
            if digits.count == 3, let code = UInt8(digits, radix: 8) {
                result.unicodeScalars.append(Unicode.Scalar(code))
                rest = rest[rest.index(slash, offsetBy: 4)...]
            } else {
                result += "\\"
                rest = rest[rest.index(after: slash)...]
            }
        }
        return result + rest
    }

    /// Whether this entry names `partition` (by its file system's UUID or label, or the partition's GUID or name).
    public func names(_ partition: PartitionLayout) -> Bool {
        let (kind, value) = split
        switch kind {
        case "UUID": return partition.fileSystem?.uuid?.lowercased() == value.lowercased()
        case "LABEL": return partition.fileSystem?.label == value
        case "PARTUUID": return partition.uuid?.lowercased() == value.lowercased()
        case "PARTLABEL": return partition.name == value
        default: return false
        }
    }

    /// The spec as a kind and a value: `UUID=x` and `/dev/disk/by-uuid/x` both read as ("UUID", "x").
    var split: (String, String) {
        for kind in ["UUID", "LABEL", "PARTUUID", "PARTLABEL"] where spec.hasPrefix(kind + "=") {
            return (kind, String(spec.dropFirst(kind.count + 1)).trimmingQuotes)
        }
        for (folder, kind) in [("/dev/disk/by-uuid/", "UUID"), ("/dev/disk/by-label/", "LABEL"),
                               ("/dev/disk/by-partuuid/", "PARTUUID"), ("/dev/disk/by-partlabel/", "PARTLABEL")]
        where spec.hasPrefix(folder) {
            return (kind, String(spec.dropFirst(folder.count)))
        }
        return ("", spec)
    }
}

extension String {
    var trimmingQuotes: String {
        count >= 2 && first == "\"" && last == "\"" ? String(dropFirst().dropLast()) : self
    }
}

import Foundation

/// One entry of the tar stream, as capture writes it and restore reads it. Paths are raw bytes (names need not be
/// UTF-8), relative to the root, without a leading "./"; the root itself is the empty path.
struct TarEntry: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        case file, hardLink, symlink, characterDevice, blockDevice, directory, fifo
    }

    /// A data segment of a sparse file: `offset` in the file, `length` bytes.
    struct Segment: Equatable, Sendable {
        var offset: UInt64
        var length: UInt64
    }

    var path: [UInt8]
    var kind: Kind
    /// Permission bits with setuid, setgid and sticky.
    var mode: UInt32
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    var userName: [UInt8] = []
    var groupName: [UInt8] = []
    var seconds: Int64 = 0
    var nanoseconds: Int64 = 0
    /// The bytes of data in the archive (for a sparse file: its map and segments).
    var size: UInt64 = 0
    /// A symbolic link's target, or a hard link's first path.
    var linkTarget: [UInt8] = []
    var deviceMajor: UInt32 = 0
    var deviceMinor: UInt32 = 0
    var attributes: [(name: [UInt8], value: [UInt8])] = []
    /// For a sparse file: its real size (the data segments come with the data).
    var sparseSize: UInt64?

    var displayPath: String { Self.displayPath(of: path) }

    /// How reports show the entry at `path` (relative to the root, no leading slash): from the root, with one.
    static func displayPath(of path: [UInt8]) -> String { path.isEmpty ? "/" : "/" + String(decoding: path, as: UTF8.self) }

    static func == (left: TarEntry, right: TarEntry) -> Bool {
        left.path == right.path && left.kind == right.kind && left.mode == right.mode && left.uid == right.uid
            && left.gid == right.gid && left.seconds == right.seconds && left.nanoseconds == right.nanoseconds
            && left.size == right.size && left.linkTarget == right.linkTarget
            && left.attributes.map(\.name) == right.attributes.map(\.name)
            && left.attributes.map(\.value) == right.attributes.map(\.value)
    }
}

/// POSIX pax tar headers (POSIX.1-2001; GNU tar's sparse format 1.0).
enum TarFormat {
    static let blockSize = 512

    /// The headers for `entry`: a pax extended header when a value does not fit ustar, then the ustar header.
    static func headers(for entry: TarEntry) -> [UInt8] {
        let (records, name) = paxRecords(for: entry)
        let header = ustarHeader(for: entry, name: name)
        guard !records.isEmpty else { return header }
        return paxHeader(records, for: entry) + header
    }

    /// The pax records `entry` needs (the values ustar cannot hold, the sparse map's keys, the xattrs), and the name
    /// its ustar header carries.
    private static func paxRecords(for entry: TarEntry) -> (records: [UInt8], name: [UInt8]) {
        let archivePath = Array("./".utf8) + entry.path + (entry.kind == .directory && !entry.path.isEmpty ? [UInt8(ascii: "/")] : [])
        var records: [UInt8] = []
        func add(_ key: String, _ value: [UInt8]) { records += record(Array(key.utf8), value) }

        var name = archivePath
        if let realSize = entry.sparseSize {
            add("GNU.sparse.major", Array("1".utf8))
            add("GNU.sparse.minor", Array("0".utf8))
            add("GNU.sparse.name", archivePath)
            add("GNU.sparse.realsize", Array(String(realSize).utf8))
            name = Array("./GNUSparseFile.0/".utf8) + Array(lastComponent(entry.path).prefix(80))
        } else if archivePath.count > 100 || !isPortable(archivePath) {
            add("path", archivePath)
        }
        if entry.linkTarget.count > 100 || !isPortable(entry.linkTarget) { add("linkpath", entry.linkTarget) }
        if entry.nanoseconds != 0 || entry.seconds < 0 || entry.seconds > 0o77777777777 {
            add("mtime", Array(timeText(entry.seconds, entry.nanoseconds).utf8))
        }
        if entry.uid > 0o7777777 { add("uid", Array(String(entry.uid).utf8)) }
        if entry.gid > 0o7777777 { add("gid", Array(String(entry.gid).utf8)) }
        if entry.userName.count > 31 || !isPortable(entry.userName) { add("uname", entry.userName) }
        if entry.groupName.count > 31 || !isPortable(entry.groupName) { add("gname", entry.groupName) }
        if entry.size > 0o77777777777 { add("size", Array(String(entry.size).utf8)) }
        for attribute in entry.attributes { add("SCHILY.xattr." + String(decoding: attribute.name, as: UTF8.self), attribute.value) }
        return (records, name)
    }

    /// The pax extended header carrying `records`, padded to a whole block.
    private static func paxHeader(_ records: [UInt8], for entry: TarEntry) -> [UInt8] {
        var pax = ustar(
            name: Array("./PaxHeaders/".utf8) + Array(lastComponent(entry.path).prefix(80)), type: UInt8(ascii: "x"),
            mode: 0o644, size: UInt64(records.count), seconds: max(0, min(entry.seconds, 0o77777777777)))
        pax.replaceSubrange(257..<265, with: Array("ustar\u{0}00".utf8))
        finishChecksum(&pax)
        return pax + records + [UInt8](repeating: 0, count: padding(UInt64(records.count)))
    }

    /// The ustar header of `entry` under `name`; a value too large for its field is left zero (a pax record has it).
    private static func ustarHeader(for entry: TarEntry, name: [UInt8]) -> [UInt8] {
        let type: UInt8
        switch entry.kind {
        case .file: type = UInt8(ascii: "0")
        case .hardLink: type = UInt8(ascii: "1")
        case .symlink: type = UInt8(ascii: "2")
        case .characterDevice: type = UInt8(ascii: "3")
        case .blockDevice: type = UInt8(ascii: "4")
        case .directory: type = UInt8(ascii: "5")
        case .fifo: type = UInt8(ascii: "6")
        }
        var header = ustar(
            name: name, type: type, mode: entry.mode, size: entry.size <= 0o77777777777 ? entry.size : 0,
            seconds: max(0, min(entry.seconds, 0o77777777777)))
        putOctal(&header, 108, width: 8, UInt64(entry.uid <= 0o7777777 ? entry.uid : 0))
        putOctal(&header, 116, width: 8, UInt64(entry.gid <= 0o7777777 ? entry.gid : 0))
        put(&header, 157, 100, Array(entry.linkTarget.prefix(100)))
        put(&header, 265, 32, entry.userName.count <= 31 ? entry.userName : [])
        put(&header, 297, 32, entry.groupName.count <= 31 ? entry.groupName : [])
        if entry.kind == .characterDevice || entry.kind == .blockDevice {
            putOctal(&header, 329, width: 8, UInt64(entry.deviceMajor))
            putOctal(&header, 337, width: 8, UInt64(entry.deviceMinor))
        }
        finishChecksum(&header)
        return header
    }

    /// The zero bytes that pad `size` bytes of data to the next 512-byte boundary.
    static func padding(_ size: UInt64) -> Int { Int((UInt64(blockSize) - size % UInt64(blockSize)) % UInt64(blockSize)) }

    /// The text of a sparse file's map (GNU format 1.0): the count, then offset and length per segment, padded.
    static func sparseMap(_ segments: [TarEntry.Segment]) -> [UInt8] {
        var text = "\(segments.count)\n"
        for segment in segments { text += "\(segment.offset)\n\(segment.length)\n" }
        var bytes = Array(text.utf8)
        bytes += [UInt8](repeating: 0, count: padding(UInt64(bytes.count)))
        return bytes
    }

    // MARK: Reading

    /// The values of a pax extended header's records.
    static func parseRecords(_ data: [UInt8]) -> Result<[([UInt8], [UInt8])], Damage> {
        var records: [([UInt8], [UInt8])] = []
        var position = 0
        while position < data.count {
            guard let space = data[position...].firstIndex(of: UInt8(ascii: " ")),
                let length = Int(String(decoding: data[position..<space], as: UTF8.self)), length > 0,
                length <= data.count - position, data[position + length - 1] == UInt8(ascii: "\n"),
                let equals = data[(space + 1)..<(position + length)].firstIndex(of: UInt8(ascii: "="))
            else { return .failure("a pax header record is malformed") }
            records.append((Array(data[(space + 1)..<equals]), Array(data[(equals + 1)..<(position + length - 1)])))
            position += length
        }
        return .success(records)
    }

    /// Whether the 512 bytes at `header` hold a valid ustar header (its checksum matches).
    static func checksumMatches(_ header: ArraySlice<UInt8>) -> Bool {
        guard header.count == blockSize else { return false }
        let base = header.startIndex
        // Every byte summed, then the checksum field counted as eight spaces (a loop the compiler vectorizes).
        let sum = header.withUnsafeBytes { bytes in
            var total = 0
            for index in 0..<blockSize { total += Int(bytes[index]) }
            for index in 148..<156 { total -= Int(bytes[index]) }
            return total + 8 * 32
        }
        guard let recorded = number(header[(base + 148)..<(base + 156)]) else { return false }
        return UInt64(sum) == recorded
    }

    /// An octal ustar number field (NUL or space terminated), or nil when it is not one.
    static func number(_ field: ArraySlice<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        var digits = 0
        for byte in field {
            if byte == 0 || byte == UInt8(ascii: " ") {
                if digits > 0 { break } else { continue }
            }
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(byte) else { return nil }
            value = value * 8 + UInt64(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return value
    }

    /// The bytes of a NUL-terminated text field.
    static func text(_ field: ArraySlice<UInt8>) -> [UInt8] { Array(field.prefix { $0 != 0 }) }

    // MARK: Helpers

    static func timeText(_ seconds: Int64, _ nanoseconds: Int64) -> String {
        guard nanoseconds != 0 else { return String(seconds) }
        var whole = seconds
        var fraction = nanoseconds
        var sign = ""
        if seconds < 0 {
            sign = "-"
            whole = -seconds - 1
            fraction = 1_000_000_000 - nanoseconds
        }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 9 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(sign)\(whole).\(digits)"
    }

    /// Seconds and nanoseconds from a pax time value such as `1700000000.123456789` or `-1.5`.
    static func parseTime(_ text: String) -> (Int64, Int64)? {
        let negative = text.hasPrefix("-")
        let body = negative ? text.dropFirst() : Substring(text)
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        // Digits only: a second sign ("--9223372036854775808") would overflow when negated.
        guard parts.allSatisfy({ $0.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } }),
            let whole = Int64(parts[0])
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = String(parts[1].prefix(9))
            guard !digits.isEmpty, let value = Int64(digits) else { return nil }
            fraction = value * Int64(pow(10.0, Double(9 - digits.count)))
        }
        if !negative { return (whole, fraction) }
        return fraction == 0 ? (-whole, 0) : (-whole - 1, 1_000_000_000 - fraction)
    }

    private static func record(_ key: [UInt8], _ value: [UInt8]) -> [UInt8] {
        let body = key.count + value.count + 3
        var length = body + String(body).count
        if String(length).count != String(body).count { length = body + String(length).count }
        return Array("\(length) ".utf8) + key + [UInt8(ascii: "=")] + value + [UInt8(ascii: "\n")]
    }

    private static func ustar(name: [UInt8], type: UInt8, mode: UInt32, size: UInt64, seconds: Int64) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: blockSize)
        if name.count <= 100 {
            put(&header, 0, 100, name)
        } else if let split = prefixSplit(name) {
            put(&header, 345, 155, Array(name[..<split]))
            put(&header, 0, 100, Array(name[(split + 1)...]))
        } else {
            put(&header, 0, 100, Array(name.prefix(100)))
        }
        putOctal(&header, 100, width: 8, UInt64(mode & 0o7777))
        putOctal(&header, 124, width: 12, size)
        putOctal(&header, 136, width: 12, UInt64(seconds))
        header[156] = type
        put(&header, 257, 8, Array("ustar\u{0}00".utf8))
        return header
    }

    /// Where to cut a long name into ustar's prefix and name (at a slash), or nil when it cannot be cut.
    private static func prefixSplit(_ name: [UInt8]) -> Int? {
        guard name.count <= 256 else { return nil }
        for index in stride(from: min(155, name.count - 1), through: 1, by: -1) where name[index] == UInt8(ascii: "/") {
            if name.count - index - 1 <= 100 && name.count - index - 1 > 0 { return index }
        }
        return nil
    }

    private static func finishChecksum(_ header: inout [UInt8]) {
        for index in 148..<156 { header[index] = UInt8(ascii: " ") }
        let sum = header.reduce(0) { $0 + Int($1) }
        putOctal(&header, 148, width: 7, UInt64(sum))
        header[155] = UInt8(ascii: " ")
    }

    /// `value` as `width - 1` octal digits, zero-padded, then a NUL, at `offset`. Callers keep values that fit (ids
    /// and sizes are checked; Linux device numbers always fit: majors have 12 bits, minors 20).
    /// Written in place: one header per entry, and formatting through String was 2% of a zstd capture's CPU.
    private static func putOctal(_ header: inout [UInt8], _ offset: Int, width: Int, _ value: UInt64) {
        var rest = value
        for index in stride(from: offset + width - 2, through: offset, by: -1) {
            header[index] = UInt8(ascii: "0") + UInt8(rest & 7)
            rest >>= 3
        }
        header[offset + width - 1] = 0
    }

    private static func put(_ header: inout [UInt8], _ offset: Int, _ width: Int, _ bytes: [UInt8]) {
        let count = min(width, bytes.count)
        header.replaceSubrange(offset..<(offset + count), with: bytes[0..<count])
    }

    /// Printable ASCII only: what every tar reads the same in a fixed field.
    private static func isPortable(_ bytes: [UInt8]) -> Bool { bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7f } }

    static func lastComponent(_ path: [UInt8]) -> [UInt8] {
        guard let slash = path.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return Array(path[(slash + 1)...])
    }
}

import Crypto
import Foundation

/// What the scanner hands each entry to: the extractor writes the tree, the verifier only counts.
protocol EntrySink {
    /// An entry starts (for a file: before its data).
    mutating func begin(_ entry: TarEntry) throws
    /// A piece of a regular file's data, to be written at `fileOffset` in the file (a slice of its block: keeping
    /// it costs no copy).
    mutating func data(_ bytes: ArraySlice<UInt8>, fileOffset: UInt64) throws
    /// The entry is complete and its data matched its checksum.
    mutating func end(_ entry: TarEntry) throws
    /// The entry failed (its data did not match, or the image broke off inside it).
    mutating func abandon(_ entry: TarEntry)
}

/// Reads the tar stream from the image's data blocks and checks every file's SHA-256 against the one recorded in
/// the block where its data ends.
final class TarScanner {
    private let reader: ImageReader
    private var block: DecodedMember?
    private var position = 0
    /// The tar stream offset of the next byte.
    private var tarOffset: UInt64 = 0
    /// Whether the current block starts where this scanner's count says (so its workers' file checks apply).
    private var blockInPlace = false
    /// How many files a worker had already hashed and checked (this thread only passed their data on).
    private(set) var filesCheckedAhead = 0
    private var current: String?

    init(reader: ImageReader) { self.reader = reader }

    /// Hands every entry to `sink`, then checks the image's summary, index and tail.
    func scan<Sink: EntrySink>(into sink: inout Sink) throws -> ImageSummary {
        do {
            while let entry = try nextEntry() {
                current = entry.displayPath
                try sink.begin(entry)
                do {
                    try readData(entry, into: &sink)
                } catch {
                    sink.abandon(entry)
                    throw error
                }
                try sink.end(entry)
                current = nil
            }
            return try reader.finish()
        } catch let error as ImageError {
            // Name the entry that was being read when the image broke.
            if case let .corrupt(offset, nil, reason) = error, let current {
                throw ImageError.corrupt(offset: offset, file: current, reason: reason)
            }
            throw error
        }
    }

    /// The next entry, its pax headers applied; nil at the end-of-archive marker.
    private func nextEntry() throws -> TarEntry? {
        var records: [([UInt8], [UInt8])] = []
        while true {
            let header = try read(TarFormat.blockSize)
            if header.allSatisfy({ $0 == 0 }) {
                let second = try read(TarFormat.blockSize)
                guard second.allSatisfy({ $0 == 0 }) else { throw corrupt("a lone zero block inside the tar stream") }
                return nil
            }
            guard TarFormat.checksumMatches(header[...]) else { throw corrupt("a tar header's checksum does not match") }
            guard let size = TarFormat.number(header[124..<136]) else { throw corrupt("a tar header's size is not a number") }
            let type = header[156]
            if type == UInt8(ascii: "x") || type == UInt8(ascii: "g") {
                guard size < 64 << 20 else { throw corrupt("a pax header is too large") }
                let data = try read(Int(size))
                try skip(TarFormat.padding(size))
                if type == UInt8(ascii: "x") {
                    switch TarFormat.parseRecords(data) {
                    case .success(let parsed): records += parsed
                    case .failure(let damage):
            throw corrupt(damage.reason)
                    }
                }
                continue
            }
            return try entry(header, size: size, records: records)
        }
    }

    private func entry(_ header: [UInt8], size: UInt64, records: [([UInt8], [UInt8])]) throws -> TarEntry {
        var name = TarFormat.text(header[0..<100][...])
        let prefix = TarFormat.text(header[345..<500][...])
        if !prefix.isEmpty { name = prefix + [UInt8(ascii: "/")] + name }
        let kind: TarEntry.Kind
        switch header[156] {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = .file
        case UInt8(ascii: "1"): kind = .hardLink
        case UInt8(ascii: "2"): kind = .symlink
        case UInt8(ascii: "3"): kind = .characterDevice
        case UInt8(ascii: "4"): kind = .blockDevice
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "6"): kind = .fifo
        default: throw corrupt("tar entry type \(header[156]) is not one imprint restores")
        }
        var entry = TarEntry(path: [], kind: kind, mode: UInt32(TarFormat.number(header[100..<108]) ?? 0) & 0o7777)
        entry.uid = UInt32(truncatingIfNeeded: TarFormat.number(header[108..<116]) ?? 0)
        entry.gid = UInt32(truncatingIfNeeded: TarFormat.number(header[116..<124]) ?? 0)
        entry.seconds = Int64(TarFormat.number(header[136..<148]) ?? 0)
        entry.size = kind == .file ? size : 0
        entry.linkTarget = TarFormat.text(header[157..<257][...])
        // The owner's and group's names are not read: restore sets the numbers (FORMAT.md).
        entry.deviceMajor = UInt32(truncatingIfNeeded: TarFormat.number(header[329..<337]) ?? 0)
        entry.deviceMinor = UInt32(truncatingIfNeeded: TarFormat.number(header[337..<345]) ?? 0)
        var sparse = (major: "", name: [UInt8]?.none, size: UInt64?.none)
        for (key, value) in records {
            let text = String(decoding: value, as: UTF8.self)
            switch String(decoding: key, as: UTF8.self) {
            case "path": name = value
            case "linkpath": entry.linkTarget = value
            case "mtime":
                guard let (seconds, nanoseconds) = TarFormat.parseTime(text) else { throw corrupt("a pax mtime is not a time") }
                entry.seconds = seconds
                entry.nanoseconds = nanoseconds
            case "uid": entry.uid = UInt32(text) ?? entry.uid
            case "gid": entry.gid = UInt32(text) ?? entry.gid
            case "size":
                guard let value = UInt64(text) else { throw corrupt("a pax size is not a number") }
                if kind == .file { entry.size = value }
            case "GNU.sparse.major": sparse.major = text
            case "GNU.sparse.name": sparse.name = value
            case "GNU.sparse.realsize": sparse.size = UInt64(text)
            case let key where key.hasPrefix("SCHILY.xattr."):
                entry.attributes.append((Array(key.dropFirst("SCHILY.xattr.".count).utf8), value))
            default: break
            }
        }
        if let sparseName = sparse.name {
            guard sparse.major == "1", let realSize = sparse.size else { throw corrupt("only GNU sparse format 1.0 is read") }
            guard realSize <= UInt64(Int64.max) else { throw corrupt("a sparse file's size is larger than a file can be") }
            name = sparseName
            entry.sparseSize = realSize
        }
        entry.path = try Self.relative(name)
        if kind == .hardLink { entry.linkTarget = try Self.relative(entry.linkTarget) }
        return entry
    }

    /// `name` relative to the root, without "./"; a ".." component is refused, and so is a NUL byte (a pax path may
    /// hold one): the system calls would stop at it, so "..\0x" would pass as a name and climb out as "..".
    static func relative(_ name: [UInt8]) throws -> [UInt8] {
        if name.contains(0) { throw ImageError.unsafePath(path: displayPath(name), reason: "it holds a NUL byte") }
        // Most names come as "./a/b" (capture writes them so, as GNU tar does) or "a/b".
        let dotSlash = name.starts(with: [UInt8(ascii: "."), UInt8(ascii: "/")]) ? 2 : 0
        if isPlain(name, from: dotSlash) { return dotSlash == 0 ? name : Array(name[dotSlash...]) }
        var components: [ArraySlice<UInt8>] = []
        for component in name.split(separator: UInt8(ascii: "/")) {
            if component.elementsEqual([UInt8(ascii: ".")]) { continue }
            if component.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                throw ImageError.unsafePath(path: displayPath(name), reason: "it climbs out with '..'")
            }
            components.append(component)
        }
        return Array(components.joined(separator: [UInt8(ascii: "/")]))
    }

    /// Whether `name` from `start` on is already relative and plain: components between single slashes, none of
    /// them "." or "..", no slash at either end.
    private static func isPlain(_ name: [UInt8], from start: Int) -> Bool {
        let slash = UInt8(ascii: "/")
        let dot = UInt8(ascii: ".")
        var start = start
        for index in start...name.count where index == name.count || name[index] == slash {
            let length = index - start
            if length == 0 || (name[start] == dot && (length == 1 || (length == 2 && name[start + 1] == dot))) { return false }
            start = index + 1
        }
        return true
    }

    private func readData<Sink: EntrySink>(_ entry: TarEntry, into sink: inout Sink) throws {
        guard entry.kind == .file else { return }
        let start = tarOffset
        let startBlock = block?.offset ?? 0
        // A file the worker already hashed whole in this block (the same bytes, the same checksum) is not hashed again.
        let checked = entry.sparseSize == nil && blockInPlace && block?.checkedFiles[start] == entry.size
        if checked { filesCheckedAhead += 1 }
        // A file over several blocks is not hashed either when each block it touches matches the index (checked
        // chunk by chunk: a block that does not stops the read here, since the file's start was not hashed).
        let trusted = !checked && entry.sparseSize == nil && reader.access == .index
        var hasher = FileHasher(key: reader.key)
        var remaining = entry.size
        var segments: [TarEntry.Segment] = []
        if let realSize = entry.sparseSize {
            let (map, consumed) = try readSparseMap(limit: entry.size, hasher: &hasher)
            segments = map.filter { $0.length > 0 }
            remaining -= consumed
            // Checked one by one: the sum of untrusted lengths, or an offset past the size, would overflow.
            var total: UInt64 = 0
            for segment in segments {
                guard segment.offset <= realSize, segment.length <= realSize - segment.offset, segment.length <= remaining - total else {
                    throw corrupt("a sparse map does not match its data")
                }
                total += segment.length
            }
            guard total == remaining else { throw corrupt("a sparse map does not match its data") }
        } else {
            segments = [TarEntry.Segment(offset: 0, length: entry.size)]
        }
        for segment in segments {
            var done: UInt64 = 0
            while done < segment.length {
                try forChunk(max: segment.length - done) { bytes in
                    if trusted && block?.matchesIndex != true {
                        throw corrupt("the block does not match its SHA-256 in the block index")
                    }
                    if !checked && !trusted { bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) } }
                    try sink.data(bytes, fileOffset: segment.offset + done)
                    done += UInt64(bytes.count)
                }
            }
        }
        if entry.size > 0 && !checked {
            let recorded = block?.header.checksums.first { $0.offset == start }
            guard let recorded else { throw ImageError.corrupt(offset: startBlock, file: nil, reason: "no checksum is recorded for this file") }
            guard trusted || recorded.sha256 == hasher.finalize() else {
                throw ImageError.corrupt(offset: startBlock, file: nil, reason: "the file's data does not match its SHA-256")
            }
        }
        try skip(TarFormat.padding(entry.size))
    }

    private func readSparseMap(limit: UInt64, hasher: inout FileHasher) throws -> ([TarEntry.Segment], UInt64) {
        var numbers: [UInt64] = []
        var consumed: UInt64 = 0
        var line: [UInt8] = []
        var wanted: Int?
        while wanted.map({ numbers.count < $0 }) ?? true {
            guard consumed < limit, line.count < 32 else { throw corrupt("a sparse map is malformed") }
            let byte = try read(1)
            hasher.update(data: byte)
            consumed += 1
            if byte[0] == UInt8(ascii: "\n") {
                guard let value = UInt64(String(decoding: line, as: UTF8.self)) else { throw corrupt("a sparse map is malformed") }
                line = []
                if wanted == nil {
                    guard value < 1 << 20 else { throw corrupt("a sparse map is malformed") }
                    wanted = Int(value) * 2
                } else {
                    numbers.append(value)
                }
            } else {
                line.append(byte[0])
            }
        }
        let padding = TarFormat.padding(consumed)
        guard consumed + UInt64(padding) <= limit else { throw corrupt("a sparse map is malformed") }
        let zeros = try read(padding)
        hasher.update(data: zeros)
        consumed += UInt64(padding)
        let segments = stride(from: 0, to: numbers.count, by: 2).map { TarEntry.Segment(offset: numbers[$0], length: numbers[$0 + 1]) }
        return (segments, consumed)
    }

    /// Exactly `count` bytes of the tar stream.
    private func read(_ count: Int) throws -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count {
            try forChunk(max: UInt64(count - result.count)) { result += $0 }
        }
        return result
    }

    /// Passes over the next `count` bytes of the tar stream (a file's padding) without copying them.
    private func skip(_ count: Int) throws {
        var left = count
        while left > 0 { try forChunk(max: UInt64(left)) { left -= $0.count } }
    }

    /// Calls `body` once with the next up-to-`max` bytes of the current block, moving to the next block first when
    /// this one is used up.
    private func forChunk(max: UInt64, _ body: (ArraySlice<UInt8>) throws -> Void) throws {
        while block == nil || position == block!.content.count {
            guard let next = try reader.nextDataBlock() else {
                throw ImageError.corrupt(offset: reader.memberOffset, file: nil, reason: "the tar stream ends early")
            }
            block = next
            blockInPlace = next.tarStart == tarOffset
            position = 0
        }
        let count = Int(min(max, UInt64(block!.content.count - position)))
        try body(block!.content[position..<(position + count)])
        position += count
        tarOffset += UInt64(count)
    }

    private func corrupt(_ reason: String) -> ImageError {
        ImageError.corrupt(offset: block?.offset ?? 0, file: nil, reason: reason)
    }
}

import Crypto
import Foundation
import Glibc
import ImprintCore

/// Where an image comes from: a file (its size known, so progress has an end) or a pipe.
public final class ImageInput {
    let descriptor: Int32
    public let name: String
    /// The image's size when it is a regular file.
    public let size: UInt64?
    private let owned: Bool
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var atEnd = false
    /// The image offset of the next byte `read` returns.
    private(set) var offset: UInt64 = 0

    /// Opens `path`, or standard input for "-".
    public init(path: String) throws {
        if path == "-" {
            descriptor = 0
            owned = false
            name = "standard input"
        } else {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw ImageError.io(path: path, operation: "open the image", errno: errno)
            }
            owned = true
            name = path
        }
        var info = stat()
        size = fstat(descriptor, &info) == 0 && info.st_mode & S_IFMT == S_IFREG ? UInt64(info.st_size) : nil
        buffer = uninitializedBytes(1 << 20)
    }

    /// Reads an open pipe or socket (an image arriving over the network), in order; the caller keeps and closes
    /// `descriptor`.
    public init(streaming descriptor: Int32, name: String) {
        self.descriptor = descriptor
        owned = false
        self.name = name
        size = nil
        buffer = uninitializedBytes(1 << 20)
    }

    /// Goes on reading at `position` (a file only).
    func seek(to position: UInt64) throws {
        guard lseek(descriptor, off_t(position), SEEK_SET) >= 0 else {
            throw ImageError.io(path: name, operation: "seek in the image", errno: errno)
        }
        start = 0
        end = 0
        atEnd = false
        offset = position
    }

    deinit { if owned { close(descriptor) } }

    /// Up to `count` bytes; fewer only at the end of the image.
    func read(_ count: Int) throws -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count {
            if start == end {
                if atEnd { break }
                try fill()
                continue
            }
            let take = min(count - result.count, end - start)
            result += buffer[start..<(start + take)]
            start += take
        }
        offset += UInt64(result.count)
        return result
    }

    private func fill() throws {
        start = 0
        end = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ImageError.io(path: name, operation: "read the image", errno: errno)
            }
            if count == 0 { atEnd = true }
            end = count
            return
        }
    }
}

/// How a reader gets an image's members.
public enum ImageAccess: String, Sendable, Codable {
    /// In order from the input: a pipe, or a file whose tail or index is damaged.
    case stream
    /// Each member from its place in the block index, read and opened on every core (a file).
    case index
}

/// A member read and opened.
struct DecodedMember: Sendable {
    var header: MemberHeader
    var offset: UInt64
    var length: Int
    var content: [UInt8]
    var sha256: [UInt8]
    /// The tar-stream offset of the content's first byte, as the reader counted it when it handed the member out.
    var tarStart: UInt64
    /// The files whose data lies wholly in this member and matches its checksum: their data's tar offset and size.
    var checkedFiles: [UInt64: UInt64] = [:]
    /// The member's bytes have the SHA-256 the block index lists for it: they are the bytes capture wrote, so every
    /// file checksum it lists holds for its content without hashing the files again.
    var matchesIndex = false
}

/// Reads an image's members in order, opening (inflating and checking) them on every core, and checks the whole
/// against its summary, index and tail at the end. From a file whose end is intact, the members listed in the block
/// index are read by the worker threads themselves (pread); the index and tail are then read in order as from a pipe.
final class ImageReader {
    private struct Raw: Sendable {
        var header: MemberHeader
        var headerBytes: [UInt8]
        var body: [UInt8]
        var offset: UInt64
        var tarStart: UInt64
    }

    private enum Job: Sendable {
        /// A member already read from the input, and the SHA-256 the block index lists for it (when reading by it).
        case read(Raw, indexed: [UInt8]?)
        /// A member the worker reads from the image file, where the index puts it.
        case indexed(BlockIndexEntry, tarStart: UInt64)
    }

    let input: ImageInput
    private(set) var manifest: ImageManifest!
    /// Told by the first member's first bytes.
    private(set) var codec: ImageCodec?
    /// The keys of an encrypted image.
    private(set) var key: ImageKey?
    private var pipeline: OrderedPipeline<Job, DecodedMember>?
    /// The image's end when the members are read from their places in the index.
    private var end: ImageEnd?
    /// The next index entry to hand to a worker.
    private var nextIndexed = 0
    /// The tar-stream offset of the next member handed out.
    private var tarSubmitted: UInt64 = 0
    /// How the members are read.
    private(set) var access = ImageAccess.stream
    private var sequence: UInt64 = 0
    private var inputDone = false
    private var seen: [BlockIndexEntry] = []
    private var pending: DecodedMember?
    private var pendingRaw: Raw?
    /// The image offset of the member being read, for messages.
    private(set) var memberOffset: UInt64 = 0
    /// Called with the image bytes read so far.
    var progress: ((UInt64) -> Void)?

    /// Reads the manifest (one member at a time: it says whether the rest is encrypted), then starts the workers.
    /// - Parameters:
    ///   - passphrase: asked only when the image is encrypted.
    ///   - manifestOnly: stop after the manifest (no key, no workers).
    ///   - useIndex: read a file's members from their places in its block index when its end is intact.
    init(
        input: ImageInput, threads: Int, passphrase: (() throws -> String)? = nil, manifestOnly: Bool = false, useIndex: Bool = true
    ) throws {
        self.input = input
        var manifestBytes: [UInt8] = []
        while let raw = try readRaw() {
            guard raw.header.kind == .manifest else {
                pendingRaw = raw
                break
            }
            let member = try Self.decode(raw, key: nil)
            try check(member)
            manifestBytes += member.header.payload
        }
        guard let manifest = ImageJSON.decode(ImageManifest.self, manifestBytes) else {
            throw ImageError.notAnImage(path: input.name, reason: "its manifest is missing or unreadable")
        }
        guard manifest.codec == codec?.rawValue else {
            throw ImageError.notAnImage(path: input.name, reason: "its manifest names the codec \(quoted(manifest.codec)), its blocks are not")
        }
        self.manifest = manifest
        if manifestOnly { return }
        if let encryption = manifest.encryption {
            guard let passphrase else { throw ImageError.passphraseNeeded(encrypting: false) }
            key = try ImageKey.open(passphrase: try passphrase(), encryption)
        }
        if useIndex, let size = input.size, let codec, let end = try? ImageEnd.read(input.descriptor, size: size, codec: codec) {
            let first = seen.count + (pendingRaw == nil ? 0 : 1)
            if end.index.count >= first && Self.isContiguous(end) {
                self.end = end
                nextIndexed = first
                access = .index
            }
        }
        let key = self.key
        let end = self.end
        pipeline = OrderedPipeline(threads: threads, capacity: OrderedPipeline<Int, Int>.capacity(threads: threads, blockSize: manifest.blockSize)) { job in
            switch job {
            case .read(let raw, let indexed): return try Self.decode(raw, key: key, indexed: indexed)
            case .indexed(let entry, let tarStart):
                return try Self.decode(try Self.load(entry, tarStart: tarStart, from: end), key: key, indexed: entry.sha256)
            }
        }
    }

    /// Whether the index lists members that follow each other from the image's first byte to the index itself.
    private static func isContiguous(_ end: ImageEnd) -> Bool {
        var offset: UInt64 = 0
        for entry in end.index {
            guard entry.offset == offset else { return false }
            offset += UInt64(entry.length)
        }
        return offset == end.indexOffset
    }

    /// Reads the member the index entry points at (on a worker thread).
    private static func load(_ entry: BlockIndexEntry, tarStart: UInt64, from end: ImageEnd?) throws -> Raw {
        guard let end else { throw ImageError.corrupt(offset: entry.offset, file: nil, reason: "the block index is missing") }
        let codec = end.codec
        let length = Int(entry.length)
        guard length >= codec.prefixLength,
            case .success(let fieldLength) = MemberHeader.subfieldLength(prefix: try end.bytes(at: entry.offset, count: codec.prefixLength), codec: codec),
            codec.prefixLength + fieldLength + codec.headerSuffix <= length
        else { throw ImageError.corrupt(offset: entry.offset, file: nil, reason: "the block index does not point at a block header") }
        // Header and body in arrays of their own: reading the member whole and splitting it copied every block again.
        let headerLength = codec.prefixLength + fieldLength + codec.headerSuffix
        let headerBytes = try end.bytes(at: entry.offset, count: headerLength)
        let header: MemberHeader
        switch MemberHeader.parse(headerBytes, codec: codec) {
        case .success(let value): header = value
        case .failure(let damage): throw ImageError.corrupt(offset: entry.offset, file: nil, reason: damage.reason)
        }
        guard header.memberLength == length, header.size == Int(entry.size) else {
            throw ImageError.corrupt(offset: entry.offset, file: nil, reason: "the block index does not match the blocks")
        }
        let body = try end.bytes(at: entry.offset + UInt64(headerLength), count: length - headerLength)
        return Raw(header: header, headerBytes: headerBytes, body: body, offset: entry.offset, tarStart: tarStart)
    }

    /// Opens `raw`; `indexed` is the SHA-256 the block index lists for it when it was read from its place there.
    private static func decode(_ raw: Raw, key: ImageKey?, indexed: [UInt8]? = nil) throws -> DecodedMember {
        var hasher = SHA256()
        hasher.update(data: raw.headerBytes)
        hasher.update(data: raw.body)
        let sha256 = Array(hasher.finalize())
        // A member that matches the index needs no CRC-32 of its content either.
        let matchesIndex = indexed == sha256
        switch Member.open(raw.header, headerBytes: raw.headerBytes, body: raw.body, key: key, checkTrailer: !matchesIndex) {
        case .success(let content):
            var member = DecodedMember(
                header: raw.header, offset: raw.offset, length: raw.headerBytes.count + raw.body.count,
                content: content, sha256: sha256, tarStart: raw.tarStart)
            member.matchesIndex = matchesIndex
            member.checkedFiles = checkFiles(member, key: key)
            return member
        case .failure(let damage):
            throw ImageError.corrupt(offset: raw.offset, file: nil, reason: damage.reason)
        }
    }

    /// Hashes the files whose data begins and ends in `member` (most files of a tree), so the thread that walks the
    /// tar stream need not; a member that matches the index needs no hashing (its bytes are capture's). A file's
    /// ustar header comes right before its data and gives its size; the scanner trusts a result only for the entry
    /// it reads at that offset with that size, so a damaged or misread header here only means the scanner hashes
    /// the file itself.
    private static func checkFiles(_ member: DecodedMember, key: ImageKey?) -> [UInt64: UInt64] {
        var checked: [UInt64: UInt64] = [:]
        let content = member.content
        for checksum in member.header.checksums where checksum.offset >= member.tarStart + UInt64(TarFormat.blockSize) {
            let start = checksum.offset - member.tarStart
            guard start < UInt64(content.count) else { continue }
            let header = Int(start) - TarFormat.blockSize
            guard let size = TarFormat.number(content[(header + 124)..<(header + 136)]), size > 0,
                start + size <= UInt64(content.count)
            else { continue }
            if member.matchesIndex {
                checked[checksum.offset] = size
                continue
            }
            var hasher = FileHasher(key: key)
            content.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[Int(start)..<Int(start + size)])) }
            if hasher.finalize() == checksum.sha256 { checked[checksum.offset] = size }
        }
        return checked
    }

    deinit { pipeline?.close() }

    /// The next data block's content; nil after the last one.
    func nextDataBlock() throws -> DecodedMember? {
        guard let member = try next() else {
            throw ImageError.corrupt(offset: input.offset, file: nil, reason: "the image ends early (truncated): its summary and index are missing")
        }
        guard member.header.kind == .data else {
            pending = member
            return nil
        }
        return member
    }

    /// Reads what follows the data (summary, index, tail) and checks every member against the index.
    func finish() throws -> ImageSummary {
        while let member = try nextDataBlock() {
            guard member.content.allSatisfy({ $0 == 0 }) else {
                throw ImageError.corrupt(offset: member.offset, file: nil, reason: "data follows the end of the tar stream")
            }
        }
        var summaryBytes: [UInt8] = []
        var indexBytes: [UInt8] = []
        var indexStart: (offset: UInt64, sequence: UInt64)?
        var member = pending
        pending = nil
        while let current = member {
            switch current.header.kind {
            case .summary where indexStart == nil:
                summaryBytes += current.header.payload
            case .index:
                if indexStart == nil { indexStart = (current.offset, current.header.sequence) }
                indexBytes += current.header.payload
            case .tail:
                guard let tail = ImageTail.decode(current.header.payload), let indexStart,
                    tail.indexOffset == indexStart.offset, tail.indexSequence == indexStart.sequence
                else {
                    throw ImageError.corrupt(offset: current.offset, file: nil, reason: "the tail does not point at the index")
                }
                guard try input.read(1).isEmpty else {
                    throw ImageError.corrupt(offset: input.offset - 1, file: nil, reason: "bytes follow the end of the image")
                }
                guard let index = BlockIndexEntry.decode(indexBytes), index == Array(seen.prefix(Int(indexStart.sequence))) else {
                    throw ImageError.corrupt(offset: indexStart.offset, file: nil, reason: "the block index does not match the blocks")
                }
                guard let summary = ImageJSON.decode(ImageSummary.self, summaryBytes) else {
                    throw ImageError.corrupt(offset: input.offset, file: nil, reason: "the summary is unreadable")
                }
                progress?(input.offset)
                return summary
            default:
                throw ImageError.corrupt(offset: current.offset, file: nil, reason: "a block is out of place")
            }
            member = try next()
        }
        throw ImageError.corrupt(offset: input.offset, file: nil, reason: "the image ends early (truncated): its index or tail is missing")
    }

    /// The next member in order, reading ahead to keep every core busy; nil at the end of the input.
    private func next() throws -> DecodedMember? {
        if let pending {
            self.pending = nil
            return pending
        }
        guard let pipeline else { return nil }
        if let raw = pendingRaw {
            pendingRaw = nil
            // The first data member, read before the index was: the index lists it too.
            pipeline.submit(.read(raw, indexed: end?.sha256(sequence: raw.header.sequence, offset: raw.offset)))
        }
        while !inputDone && !pipeline.isFull {
            if let end {
                if nextIndexed < end.index.count {
                    let entry = end.index[nextIndexed]
                    nextIndexed += 1
                    pipeline.submit(.indexed(entry, tarStart: tarSubmitted))
                    tarSubmitted += UInt64(entry.size)
                    continue
                }
                // The index and tail follow: read them in order, as from a pipe, and check them at the end.
                try input.seek(to: end.indexOffset)
                self.end = nil
            }
            guard let raw = try readRaw() else {
                inputDone = true
                break
            }
            pipeline.submit(.read(raw, indexed: nil))
        }
        guard let result = pipeline.take() else { return nil }
        let member: DecodedMember
        do {
            member = try result.get()
        } catch {
            pipeline.close()
            throw error
        }
        try check(member)
        return member
    }

    /// Checks that `member` comes in sequence and records it for the index.
    private func check(_ member: DecodedMember) throws {
        memberOffset = member.offset
        guard member.header.sequence == UInt64(seen.count) else {
            throw ImageError.corrupt(
                offset: member.offset, file: nil,
                reason: "block \(member.header.sequence) comes where block \(seen.count) belongs (a block is missing or repeated)")
        }
        seen.append(BlockIndexEntry(offset: member.offset, length: UInt32(member.length), size: UInt32(member.content.count), sha256: member.sha256))
        progress?(member.offset + UInt64(member.length))
    }

    private func readRaw() throws -> Raw? {
        let offset = input.offset
        var prefix = try input.read(ImageCodec.sniffLength)
        if prefix.isEmpty { return nil }
        if codec == nil {
            guard let sniffed = ImageCodec.sniff(prefix) else {
                throw ImageError.notAnImage(path: input.name, reason: "it starts with neither a gzip member nor a zstd frame")
            }
            codec = sniffed
        }
        let codec = self.codec ?? .gzip
        prefix += try input.read(codec.prefixLength - prefix.count)
        let length: Int
        switch MemberHeader.subfieldLength(prefix: prefix, codec: codec) {
        case .success(let value): length = value
        case .failure(let damage):
            let reason = damage.reason
            if offset == 0 { throw ImageError.notAnImage(path: input.name, reason: reason) }
            throw ImageError.corrupt(offset: offset, file: nil, reason: reason)
        }
        let headerBytes = prefix + (try input.read(length + codec.headerSuffix))
        let header: MemberHeader
        switch MemberHeader.parse(headerBytes, codec: codec) {
        case .success(let value): header = value
        case .failure(let damage):
            throw ImageError.corrupt(offset: offset, file: nil, reason: damage.reason)
        }
        let body = try input.read(header.compressedLength + codec.trailerLength)
        guard body.count == header.compressedLength + codec.trailerLength else {
            throw ImageError.corrupt(offset: input.offset, file: nil, reason: "the image ends early (truncated) inside a block")
        }
        let tarStart = tarSubmitted
        tarSubmitted += UInt64(header.size)
        return Raw(header: header, headerBytes: headerBytes, body: body, offset: offset, tarStart: tarStart)
    }
}

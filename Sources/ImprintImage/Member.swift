import CDeflate
import CZstd
import Crypto
import Foundation

/// How an image's blocks are compressed.
public enum ImageCodec: String, Codable, Sendable, CaseIterable {
    /// Each block a gzip member (libdeflate): `tar -xzf` reads the image.
    case gzip
    /// Each block a zstd frame after a skippable frame holding its header: `tar --zstd -xf` reads the image.
    case zstd

    /// gzip: libdeflate's levels (10-12 search for the shortest encoding: far slower, about 1% smaller).
    public var levels: ClosedRange<Int> { self == .gzip ? 1...12 : 1...19 }
    /// gzip: libdeflate's 6, chosen from measurements in README's Performance section: about twice zlib's speed for
    /// 1% less deflate output; 5 is larger (on the benchmark tree no faster), 7 and up cost 10-27% of the speed or
    /// more for 0.1-0.4% less output.
    public var defaultLevel: Int { self == .gzip ? 6 : 3 }
    /// The tar stream's slice per block. zstd gets 4 MiB: on the benchmark's stream, level 3 took a fifth less CPU
    /// and made 4.9% less output than in 1 MiB frames (more history to match against); deflate sees only 32 KiB
    /// back, so larger gzip blocks gain little (libdeflate 6 in 4 MiB: 0.09% smaller) and hold more memory.
    public var defaultBlockSize: Int { self == .gzip ? 1 << 20 : 4 << 20 }
    /// Bytes before the header's field: gzip's 10, XLEN, SI1 SI2 LEN; zstd's skippable magic and size.
    var prefixLength: Int { self == .gzip ? 16 : 8 }
    /// Bytes after the field: gzip's header CRC-16.
    var headerSuffix: Int { self == .gzip ? 2 : 0 }
    /// Bytes after the compressed data: gzip's CRC-32 and ISIZE.
    var trailerLength: Int { self == .gzip ? 8 : 0 }
    /// The skippable frame magic Imprint uses (0x184D2A5E), little-endian.
    static let zstdMagic: [UInt8] = [0x5e, 0x2a, 0x4d, 0x18]
    /// Bytes enough to tell the codec.
    static let sniffLength = 8

    /// The codec of a member starting with `bytes`.
    static func sniff(_ bytes: [UInt8]) -> ImageCodec? {
        if bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b { return .gzip }
        if bytes.count >= 4 && Array(bytes[0..<4]) == zstdMagic { return .zstd }
        return nil
    }
}

/// What one gzip member of an image holds (see FORMAT.md).
enum MemberKind: UInt8, Sendable {
    /// A slice of the tar stream, with the SHA-256 of every file whose data ends in it.
    case data = 0
    /// A chunk of the manifest (JSON), content empty.
    case manifest = 1
    /// A chunk of the summary (JSON totals), content empty.
    case summary = 2
    /// A chunk of the block index (48 bytes per member), content empty.
    case index = 3
    /// The fixed-size last member: where the index starts.
    case tail = 4
}

/// The SHA-256 of one file's data, keyed by the offset of its first data byte in the tar stream.
struct FileChecksum: Equatable, Sendable {
    var offset: UInt64
    var sha256: [UInt8]
}

/// The header of one member as Imprint writes it: a gzip header whose extra field ("IM") says what the member is,
/// how long it is, and its sequence number, so a reader can cut the stream into members without inflating them.
struct MemberHeader: Equatable, Sendable {
    static let version: UInt8 = 1
    /// The subfield data before its payload: version, kind, reserved, sequence, lengths, count.
    static let fieldPrefix = 22
    static let maxPayload = 65531 - fieldPrefix - 4
    static let maxChecksums = 1600
    /// The most content a data member may hold (capture writes 1 or 4 MiB); a reader allocates a member's content and
    /// compressed bytes from the lengths in its header, so larger lengths are damage, not a reason to allocate.
    static let maxContent = 16 << 20
    /// The most compressed bytes a member of `maxContent` can take: deflate's and zstd's worst case, the GCM tag.
    static let maxCompressed = maxContent + maxContent / 8 + 4096

    var codec: ImageCodec = .gzip
    var kind: MemberKind
    var sequence: UInt64
    var compressedLength: Int
    var size: Int
    var checksums: [FileChecksum] = []
    var payload: [UInt8] = []

    /// The header's length on disk: gzip header, extra field and header CRC; or zstd's skippable frame.
    var length: Int { codec.prefixLength + fieldLength + codec.headerSuffix }
    /// The whole member: header, compressed data, and gzip's CRC-32 and size.
    var memberLength: Int { length + compressedLength + codec.trailerLength }
    var fieldLength: Int { Self.fieldPrefix + (kind == .data ? checksums.count * 40 : payload.count) + 4 }

    func encoded() -> [UInt8] {
        var field: [UInt8] = [Self.version, kind.rawValue, 0, 0]
        field.appendLittleEndian(sequence)
        field.appendLittleEndian(UInt32(compressedLength))
        field.appendLittleEndian(UInt32(size))
        field.appendLittleEndian(UInt16(kind == .data ? checksums.count : 0))
        if kind == .data {
            for checksum in checksums {
                field.appendLittleEndian(checksum.offset)
                field += checksum.sha256
            }
        } else {
            field += payload
        }
        field.appendLittleEndian(UInt32(crc32Of(field)))
        if codec == .zstd {
            var frame = ImageCodec.zstdMagic
            frame.appendLittleEndian(UInt32(field.count))
            return frame + field
        }
        // FLG = FEXTRA | FHCRC; MTIME 0; XFL 0; OS 3 (Unix).
        var header: [UInt8] = [0x1f, 0x8b, 8, 0x06, 0, 0, 0, 0, 0, 3]
        header.appendLittleEndian(UInt16(field.count + 4))
        header += [UInt8(ascii: "I"), UInt8(ascii: "M")]
        header.appendLittleEndian(UInt16(field.count))
        header += field
        header.appendLittleEndian(UInt16(crc32Of(header) & 0xffff))
        return header
    }

    /// The header field's length from the first bytes of a member (`codec.prefixLength`), or a reason they are not an Imprint member.
    static func subfieldLength(prefix bytes: [UInt8], codec: ImageCodec) -> Result<Int, Damage> {
        guard bytes.count >= codec.prefixLength else { return .failure("it ends inside a block header") }
        if codec == .zstd {
            guard Array(bytes[0..<4]) == ImageCodec.zstdMagic else { return .failure("no Imprint zstd block starts here") }
            let length = Int(bytes.littleEndian(UInt32.self, at: 4))
            guard length >= fieldPrefix + 4, length <= 65531 else { return .failure("the block header's length is wrong") }
            return .success(length)
        }
        guard bytes[0] == 0x1f, bytes[1] == 0x8b else { return .failure("no gzip member starts here") }
        guard bytes[2] == 8, bytes[3] == 0x06, bytes[4..<9].allSatisfy({ $0 == 0 }), bytes[9] == 3 else {
            return .failure(Damage("the block header's flags are not Imprint's"))
        }
        guard bytes[12] == UInt8(ascii: "I"), bytes[13] == UInt8(ascii: "M") else {
            return .failure(Damage("the block header has no Imprint field"))
        }
        let xlen = Int(bytes.littleEndian(UInt16.self, at: 10))
        let length = Int(bytes.littleEndian(UInt16.self, at: 14))
        guard xlen == length + 4, length >= fieldPrefix + 4 else { return .failure("the block header's lengths disagree") }
        return .success(length)
    }

    /// Parses a whole header (prefix, field and suffix).
    static func parse(_ bytes: [UInt8], codec: ImageCodec) -> Result<MemberHeader, Damage> {
        let length: Int
        switch subfieldLength(prefix: bytes, codec: codec) {
        case .success(let value): length = value
        case .failure(let reason): return .failure(reason)
        }
        let prefix = codec.prefixLength
        guard bytes.count == prefix + length + codec.headerSuffix else { return .failure("it ends inside a block header") }
        if codec == .gzip {
            let headerCRC = bytes.littleEndian(UInt16.self, at: prefix + length)
            guard UInt16(crc32Of(bytes[0..<(prefix + length)]) & 0xffff) == headerCRC else {
                return .failure("the block header's checksum does not match")
            }
        }
        let field = Array(bytes[prefix..<(prefix + length)])
        guard field.littleEndian(UInt32.self, at: length - 4) == UInt32(crc32Of(field[0..<(length - 4)])) else {
            return .failure(Damage("the block header's checksum does not match"))
        }
        guard field[0] == version else { return .failure("format version \(field[0]) is not one this imprint reads") }
        guard let kind = MemberKind(rawValue: field[1]) else { return .failure("unknown block kind \(field[1])") }
        var header = MemberHeader(
            codec: codec, kind: kind, sequence: field.littleEndian(UInt64.self, at: 4),
            compressedLength: Int(field.littleEndian(UInt32.self, at: 12)),
            size: Int(field.littleEndian(UInt32.self, at: 16)))
        guard header.size <= maxContent, header.compressedLength <= maxCompressed else {
            return .failure("the block's lengths (\(header.compressedLength) compressed, \(header.size) content) are larger than any imprint writes")
        }
        let count = Int(field.littleEndian(UInt16.self, at: 20))
        let body = field[fieldPrefix..<(length - 4)]
        if kind == .data {
            guard body.count == count * 40 else { return .failure("the block's checksum list has the wrong length") }
            var position = body.startIndex
            for _ in 0..<count {
                let offset = field.littleEndian(UInt64.self, at: position)
                header.checksums.append(FileChecksum(offset: offset, sha256: Array(field[(position + 8)..<(position + 40)])))
                position += 40
            }
        } else {
            guard count == 0 else { return .failure("a metadata block carries a checksum list") }
            header.payload = Array(body)
            guard header.size == 0 else { return .failure("a metadata block has content") }
        }
        return .success(header)
    }
}

/// Makes and opens members.
enum Member {
    /// One complete member, its data sealed with `key` when the image is encrypted (gzip's CRC-32 and size are
    /// then zero: they would tell something of the plain content, and the GCM tag checks more).
    static func make(
        _ header: MemberHeader, content: UnsafeRawBufferPointer, level: Int32, key: ImageKey?, pool: CompressorPool? = nil
    ) throws -> [UInt8] {
        let plain = try make(header, content: content, level: level, pool: pool)
        guard let key, header.kind == .data else { return plain }
        let parsed: MemberHeader
        switch MemberHeader.parse(Array(plain.prefix(header.length)), codec: header.codec) {
        case .success(let value): parsed = value
        case .failure(let damage): throw ImageError.corruptBlock(reason: damage.reason)
        }
        let compressed = plain[parsed.length..<(parsed.length + parsed.compressedLength)]
        var sealedHeader = parsed
        sealedHeader.compressedLength = compressed.count + 16
        let head = sealedHeader.encoded()
        return head + (try key.seal(compressed, sequence: header.sequence, header: head))
            + [UInt8](repeating: 0, count: header.codec.trailerLength)
    }

    /// The content of a member, opening its seal first when the image is encrypted.
    /// - Parameters:
    ///   - checkTrailer: false when the member's bytes are already known to be capture's (they match the index).
    static func open(
        _ header: MemberHeader, headerBytes: [UInt8], body: [UInt8], key: ImageKey?, checkTrailer: Bool = true
    ) -> Result<[UInt8], Damage> {
        guard let key, header.kind == .data else { return open(header, body: body, checkTrailer: checkTrailer) }
        guard body.count == header.compressedLength + header.codec.trailerLength else { return .failure("the image ends inside a block") }
        guard let compressed = key.open(body[0..<header.compressedLength], sequence: header.sequence, header: headerBytes) else {
            return .failure("the block does not authenticate (it was changed, or the key is not this image's)")
        }
        var plain = header
        plain.compressedLength = compressed.count
        if header.codec == .zstd { return openZstd(plain, body: compressed) }
        return open(plain, body: compressed + [UInt8](repeating: 0, count: 8), checkTrailer: false)
    }

    /// One complete member: `header` (its lengths filled in here) and `content` deflated at `level`.
    static func make(_ header: MemberHeader, content: UnsafeRawBufferPointer, level: Int32, pool: CompressorPool? = nil) throws -> [UInt8] {
        if header.codec == .zstd { return try makeZstd(header, content: content, level: level, pool: pool) }
        var header = header
        header.size = content.count
        let headerLength = header.length
        var output: [UInt8]
        if content.isEmpty {
            // Metadata members: one empty final block with fixed codes, two bytes, as zlib wrote it (libdeflate
            // writes a five-byte stored block), so the tail keeps the length FORMAT.md gives.
            output = [UInt8](repeating: 0, count: headerLength) + Member.emptyDeflate
        } else {
            let compressor = try pool?.takeDeflate(level: level) ?? CompressorPool.makeDeflate(level: level)
            defer {
                if let pool { pool.giveDeflate(compressor) } else { libdeflate_free_compressor(compressor) }
            }
            let bound = libdeflate_deflate_compress_bound(compressor, content.count)
            output = uninitializedBytes(headerLength + bound)
            let written = output.withUnsafeMutableBytes { out in
                libdeflate_deflate_compress(compressor, content.baseAddress, content.count, out.baseAddress! + headerLength, bound)
            }
            guard written > 0 else { throw ImageError.codec(operation: "compress a block", code: 0) }
            output.removeSubrange((headerLength + written)...)
        }
        header.compressedLength = output.count - headerLength
        output.replaceSubrange(0..<headerLength, with: header.encoded())
        output.appendLittleEndian(UInt32(crc32Of(content)))
        output.appendLittleEndian(UInt32(truncatingIfNeeded: content.count))
        return output
    }

    /// Raw deflate of nothing: a final block with fixed Huffman codes holding only its end-of-block code.
    static let emptyDeflate: [UInt8] = [0x03, 0x00]

    /// The content of a member whose header is `header` and whose remaining bytes (deflate data and trailer) are
    /// `body`, checked against its CRC-32 and size.
    static func open(_ header: MemberHeader, body: [UInt8], checkTrailer: Bool = true) -> Result<[UInt8], Damage> {
        if header.codec == .zstd { return openZstd(header, body: body) }
        guard body.count == header.compressedLength + 8 else { return .failure("the image ends inside a block") }
        guard let decompressor = libdeflate_alloc_decompressor() else { return .failure("libdeflate could not start") }
        defer { libdeflate_free_decompressor(decompressor) }
        // One byte more than the header says, so a block holding more is told from one holding exactly that.
        var output = uninitializedBytes(header.size + 1)
        var consumed = 0
        var produced = 0
        let result = body.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                libdeflate_deflate_decompress_ex(
                    decompressor, input.baseAddress, header.compressedLength, out.baseAddress, out.count, &consumed, &produced)
            }
        }
        switch result {
        case LIBDEFLATE_SUCCESS: break
        case LIBDEFLATE_INSUFFICIENT_SPACE: return .failure("the block holds more than the \(header.size) bytes its header says")
        default: return .failure("the compressed data is damaged (invalid deflate data, or it ends early)")
        }
        guard consumed == header.compressedLength else { return .failure("the compressed data is longer than its header says") }
        guard produced == header.size else { return .failure("the block holds \(produced) bytes, its header says \(header.size)") }
        output.removeLast()
        guard checkTrailer else { return .success(output) }
        let crc = body.littleEndian(UInt32.self, at: header.compressedLength)
        let size = body.littleEndian(UInt32.self, at: header.compressedLength + 4)
        guard crc == UInt32(output.withUnsafeBytes { crc32Of($0) }) else { return .failure("the block's CRC-32 does not match") }
        guard size == UInt32(truncatingIfNeeded: header.size) else { return .failure("the block's size field does not match") }
        return .success(output)
    }

    /// The members that carry `bytes` of metadata of `kind`, cut into chunks that fit the extra field.
    static func metadata(_ kind: MemberKind, _ bytes: [UInt8], firstSequence: UInt64, codec: ImageCodec) throws -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        var start = 0
        repeat {
            let end = min(bytes.count, start + MemberHeader.maxPayload)
            let header = MemberHeader(
                codec: codec, kind: kind, sequence: firstSequence + UInt64(chunks.count), compressedLength: 0, size: 0,
                payload: Array(bytes[start..<end]))
            chunks.append(try [UInt8]().withUnsafeBytes { try make(header, content: $0, level: 6) })
            start = end
        } while start < bytes.count
        return chunks
    }
}

extension Member {
    /// A zstd member: the skippable frame with the header, then one frame with the content size and XXH64 checksum.
    /// Metadata members are the skippable frame alone.
    static func makeZstd(_ header: MemberHeader, content: UnsafeRawBufferPointer, level: Int32, pool: CompressorPool? = nil) throws -> [UInt8] {
        var header = header
        header.size = content.count
        guard header.kind == .data else { return header.encoded() }
        let context = try pool?.takeZstd() ?? CompressorPool.makeZstd()
        defer {
            if let pool { pool.give(context) } else { ZSTD_freeCCtx(context) }
        }
        ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        // The frame is made after room for the header, which is filled in once its length is known.
        let headerLength = header.length
        let bound = ZSTD_compressBound(content.count)
        var member = uninitializedBytes(headerLength + bound)
        let written = member.withUnsafeMutableBytes { out in
            ZSTD_compress2(context, out.baseAddress! + headerLength, bound, content.baseAddress, content.count)
        }
        guard ZSTD_isError(written) == 0 else { throw ImageError.codec(operation: "compress a block", code: Int32(truncatingIfNeeded: written)) }
        member.removeSubrange((headerLength + written)...)
        header.compressedLength = written
        member.replaceSubrange(0..<headerLength, with: header.encoded())
        return member
    }

    static func openZstd(_ header: MemberHeader, body: [UInt8]) -> Result<[UInt8], Damage> {
        guard body.count == header.compressedLength else { return .failure("the image ends inside a block") }
        if header.compressedLength == 0 {
            return header.size == 0 && header.kind != .data ? .success([]) : .failure("a data block has no frame")
        }
        guard header.kind == .data else { return .failure("a metadata block has content") }
        var output = uninitializedBytes(header.size + 1)
        let result: Result<Int, Damage> = body.withUnsafeBytes { input in
            guard ZSTD_findFrameCompressedSize(input.baseAddress, input.count) == input.count else {
                return .failure("the compressed data is not one whole zstd frame")
            }
            guard ZSTD_getFrameContentSize(input.baseAddress, input.count) == UInt64(header.size) else {
                return .failure("the frame's size disagrees with its header")
            }
            let count = output.withUnsafeMutableBytes { out in ZSTD_decompress(out.baseAddress, out.count, input.baseAddress, input.count) }
            if ZSTD_isError(count) != 0 {
                return .failure("the compressed data is damaged (\(String(cString: ZSTD_getErrorName(count))))")
            }
            return .success(count)
        }
        switch result {
        case .failure(let damage): return .failure(damage)
        case .success(let count):
            guard count == header.size else { return .failure("the block holds \(count) bytes, its header says \(header.size)") }
            output.removeLast()
            return .success(output)
        }
    }
}

func sha256Of(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

/// A buffer of `count` bytes left as the allocator gives them: for output a codec or read(2) fills before anything
/// reads it (zeroing a megabyte per block is measurable).
func uninitializedBytes(_ count: Int) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}

/// The CRC-32 of `bytes` (gzip's, from libdeflate: with PCLMULQDQ about three times zlib's speed here).
func crc32Of(_ bytes: UnsafeRawBufferPointer) -> UInt {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
    return UInt(libdeflate_crc32(0, base, bytes.count))
}

func crc32Of(_ bytes: [UInt8]) -> UInt { bytes.withUnsafeBytes { crc32Of($0) } }

func crc32Of(_ bytes: ArraySlice<UInt8>) -> UInt { bytes.withUnsafeBytes { crc32Of($0) } }

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// The little-endian integer at `offset`; the caller has checked the length.
    func littleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        var value: T = 0
        for index in 0..<MemoryLayout<T>.size { value |= T(self[offset + index]) << (8 * index) }
        return value
    }
}

/// Why bytes are not what the format says, before it is known where in the image they are.
struct Damage: Error, Equatable, ExpressibleByStringInterpolation {
    var reason: String
    init(_ reason: String) { self.reason = reason }
    init(stringLiteral value: String) { reason = value }
}

/// Compressor state kept between blocks, one set per image writer: a new libdeflate compressor or zstd context
/// per block allocates its tables each time (hundreds of KiB). Each worker takes one, uses it for a block and gives
/// it back.
final class CompressorPool: @unchecked Sendable {
    private let lock = NSLock()
    private var idleZstd: [OpaquePointer] = []
    private var idleDeflate: [OpaquePointer] = []

    deinit {
        for context in idleZstd { ZSTD_freeCCtx(context) }
        for compressor in idleDeflate { libdeflate_free_compressor(compressor) }
    }

    static func makeZstd() throws -> OpaquePointer {
        guard let context = ZSTD_createCCtx() else { throw ImageError.codec(operation: "start compressing", code: -1) }
        return context
    }

    func takeZstd() throws -> OpaquePointer {
        if let context = lock.withLock({ idleZstd.popLast() }) { return context }
        return try Self.makeZstd()
    }

    func give(_ context: OpaquePointer) { lock.withLock { idleZstd.append(context) } }

    /// A libdeflate compressor at `level` (libdeflate's own levels; see `ImageCodec.defaultLevel`).
    static func makeDeflate(level: Int32) throws -> OpaquePointer {
        guard let compressor = libdeflate_alloc_compressor(level) else {
            throw ImageError.codec(operation: "start compressing at level \(level)", code: -1)
        }
        return compressor
    }

    /// A compressor at `level`. All of a pool's compressors share one level; libdeflate keeps no state between
    /// calls, so one used before compresses exactly as a new one.
    func takeDeflate(level: Int32) throws -> OpaquePointer {
        if let compressor = lock.withLock({ idleDeflate.popLast() }) { return compressor }
        return try Self.makeDeflate(level: level)
    }

    func giveDeflate(_ compressor: OpaquePointer) { lock.withLock { idleDeflate.append(compressor) } }
}

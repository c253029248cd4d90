import Foundation
import Glibc

/// What `inspect` shows: the manifest, the totals and the block index, read from the start and the end of an image
/// file without reading its data.
public struct ImageDescription: Sendable {
    public var manifest: ImageManifest
    public var summary: ImageSummary
    public var index: [BlockIndexEntry]
    public var imageBytes: UInt64
}

extension Restore {
    /// The tail member's length: a header with a 24-byte payload (and for gzip: empty deflate data and the trailer).
    static func tailLength(_ codec: ImageCodec) -> Int {
        codec.prefixLength + MemberHeader.fieldPrefix + 24 + 4 + codec.headerSuffix + (codec == .gzip ? Member.emptyDeflate.count : 0) + codec.trailerLength
    }

    /// Reads the manifest, then the tail, index and summary from the end of the file at `path`.
    public static func describe(_ path: String) throws -> ImageDescription {
        let input = try ImageInput(path: path)
        let manifest = try manifest(input)
        guard let size = input.size, let codec = ImageCodec(rawValue: manifest.codec) else { return try describeByReading(path) }
        let end = try ImageEnd.read(input.descriptor, size: size, codec: codec)
        var summaryBytes: [UInt8] = []
        for entry in end.index.reversed() {
            let (header, _) = try end.member(at: entry.offset)
            guard header.kind == .summary else { break }
            summaryBytes = header.payload + summaryBytes
        }
        guard let summary = ImageJSON.decode(ImageSummary.self, summaryBytes) else {
            throw ImageError.corrupt(offset: end.indexOffset, file: nil, reason: "the summary is damaged")
        }
        return ImageDescription(manifest: manifest, summary: summary, index: end.index, imageBytes: size)
    }

    /// For a pipe: reads and checks everything.
    private static func describeByReading(_ path: String) throws -> ImageDescription {
        let input = try ImageInput(path: path)
        var read: UInt64 = 0
        let result = try verify(input, progress: { read = $0 })
        return ImageDescription(manifest: result.manifest, summary: result.summary, index: [], imageBytes: read)
    }
}

/// The end of an image file, read from its last bytes: the tail, and the block index it points at.
struct ImageEnd {
    let descriptor: Int32
    let codec: ImageCodec
    /// The image offset of the first index member.
    let indexOffset: UInt64
    /// Every member before the index: manifest, data and summary.
    let index: [BlockIndexEntry]

    /// The SHA-256 the index lists for the member numbered `sequence` at `offset`; nil when it lists none there (a
    /// header can claim any number: it is compared before it is used as a position).
    func sha256(sequence: UInt64, offset: UInt64) -> [UInt8]? {
        guard sequence < UInt64(index.count), index[Int(sequence)].offset == offset else { return nil }
        return index[Int(sequence)].sha256
    }

    /// Reads the tail and the index members of the image open as `descriptor` (`size` bytes long).
    static func read(_ descriptor: Int32, size: UInt64, codec: ImageCodec) throws -> ImageEnd {
        let tailLength = UInt64(Restore.tailLength(codec))
        let reader = ImageEnd(descriptor: descriptor, codec: codec, indexOffset: 0, index: [])
        guard size >= tailLength else { throw ImageError.corrupt(offset: size, file: nil, reason: "the image ends early (truncated)") }
        let (tailHeader, _) = try reader.member(at: size - tailLength)
        guard tailHeader.kind == .tail, let tail = ImageTail.decode(tailHeader.payload) else {
            throw ImageError.corrupt(offset: size, file: nil, reason: "the image ends early (truncated): its tail is missing")
        }
        var indexBytes: [UInt8] = []
        var offset = tail.indexOffset
        while offset < size - tailLength {
            let (header, length) = try reader.member(at: offset)
            guard header.kind == .index else { throw ImageError.corrupt(offset: offset, file: nil, reason: "a block is out of place") }
            indexBytes += header.payload
            offset += UInt64(length)
        }
        guard let index = BlockIndexEntry.decode(indexBytes), UInt64(index.count) == tail.indexSequence else {
            throw ImageError.corrupt(offset: tail.indexOffset, file: nil, reason: "the block index is damaged")
        }
        return ImageEnd(descriptor: descriptor, codec: codec, indexOffset: tail.indexOffset, index: index)
    }

    /// `count` bytes at `offset` (pread: safe from several threads at once).
    func bytes(at offset: UInt64, count: Int) throws -> [UInt8] {
        // The offsets come from the tail and the index: unchecked, one past Int64.max trapped in off_t.
        guard offset <= UInt64(Int64.max) - UInt64(count) else {
            throw ImageError.corrupt(offset: offset, file: nil, reason: "the block index points past the end of the image")
        }
        var bytes = uninitializedBytes(count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { throw ImageError.corrupt(offset: offset, file: nil, reason: "the image ends early (truncated)") }
            done += got
        }
        return bytes
    }

    /// The header of the member at `offset`, and the member's whole length.
    func member(at offset: UInt64) throws -> (MemberHeader, Int) {
        let prefix = try bytes(at: offset, count: codec.prefixLength)
        guard case .success(let length) = MemberHeader.subfieldLength(prefix: prefix, codec: codec),
            case .success(let header) = MemberHeader.parse(try bytes(at: offset, count: codec.prefixLength + length + codec.headerSuffix), codec: codec)
        else { throw ImageError.corrupt(offset: offset, file: nil, reason: "a block header is damaged; run 'imprint verify'") }
        return (header, header.memberLength)
    }
}

import Foundation
import ImprintCore

/// What an image says about itself before its first file: written at the start, so a restore can refuse the wrong
/// model before it writes anything, even from a pipe.
public struct ImageManifest: Codable, Equatable, Sendable {
    /// The image format's version (see FORMAT.md).
    public var format: Int
    /// The Imprint version that wrote the image.
    public var tool: String
    public var created: Date
    /// The hardware models (DMI product names) the image is for.
    public var models: [String]
    /// "gzip" (each block a gzip member).
    public var codec: String
    public var level: Int
    /// The uncompressed size of a full data block.
    public var blockSize: Int
    /// The root that was captured, on the machine that captured it.
    public var source: String
    /// The names of the generalize operations that ran (`GeneralizeOperation`; what each left out is counted in the
    /// summary); empty when not generalized. Images made before the operations had names hold rule descriptions.
    public var generalized: [String]
    /// Patterns given with --exclude.
    public var excluded: [String]
    /// Set when the data blocks are encrypted.
    public var encryption: ImageEncryption?
    /// A whole-disk image: the master's partition table and file systems, each file system's files under its
    /// mount point in the one tree. Nil for an image of a root folder.
    public var disk: DiskLayout?

    public init(
        format: Int = 1, tool: String, created: Date, models: [String], codec: String = "gzip", level: Int,
        blockSize: Int, source: String, generalized: [String] = [], excluded: [String] = []
    ) {
        self.format = format
        self.tool = tool
        self.created = created
        self.models = models
        self.codec = codec
        self.level = level
        self.blockSize = blockSize
        self.source = source
        self.generalized = generalized
        self.excluded = excluded
    }

    /// Whether the image is for `model` (names compared without case and surrounding space).
    public func fits(model: String?) -> Bool {
        guard let model else { return false }
        let wanted = model.trimmingCharacters(in: .whitespaces).lowercased()
        return models.contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == wanted }
    }
}

/// The totals of an image, written after the last file.
public struct ImageSummary: Codable, Equatable, Sendable {
    public var entries = 0
    public var files = 0
    public var folders = 0
    public var symlinks = 0
    public var hardLinks = 0
    public var devices = 0
    public var fifos = 0
    public var sparseFiles = 0
    /// Sockets are recreated by the programs that own them, so they are not imaged.
    public var socketsSkipped = 0
    /// Files whose size changed while they were read (the image holds what was read, padded with zeros).
    public var changedWhileRead: [String] = []
    /// Entries removed between the listing of their folder and their reading: not in the image. Absent (nil) from
    /// the summaries of images made before it was counted.
    public var vanished: [String]?
    /// Entries left out by --exclude.
    public var excluded = 0
    /// Entries left out (or replaced) by each generalize operation, by its name.
    public var leftOut: [String: Int] = [:]
    /// The bytes of file data (sparse files count their data segments).
    public var dataBytes: UInt64 = 0
    /// The bytes of the uncompressed tar stream.
    public var tarBytes: UInt64 = 0
    /// The number of data blocks.
    public var blocks = 0

    public init() {}

    mutating func noteVanished(_ path: String) { vanished = (vanished ?? []) + [path] }
}

/// One member of the image as the index lists it.
public struct BlockIndexEntry: Equatable, Sendable {
    /// The member's first byte in the image.
    public var offset: UInt64
    /// The member's length in the image.
    public var length: UInt32
    /// Its uncompressed size.
    public var size: UInt32
    /// The SHA-256 of the member's bytes as they are in the image.
    public var sha256: [UInt8]

    static let encodedLength = 48

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(offset)
        bytes.appendLittleEndian(length)
        bytes.appendLittleEndian(size)
        return bytes + sha256
    }

    static func decode(_ bytes: [UInt8]) -> [BlockIndexEntry]? {
        guard bytes.count % encodedLength == 0 else { return nil }
        return stride(from: 0, to: bytes.count, by: encodedLength).map { start in
            BlockIndexEntry(
                offset: bytes.littleEndian(UInt64.self, at: start), length: bytes.littleEndian(UInt32.self, at: start + 8),
                size: bytes.littleEndian(UInt32.self, at: start + 12), sha256: Array(bytes[(start + 16)..<(start + 48)]))
        }
    }
}

/// The last member's payload: where the index starts, so a reader that can seek finds it from the end.
struct ImageTail: Equatable {
    static let magic = Array("IMPRINT1".utf8)
    /// The image offset of the first index member.
    var indexOffset: UInt64
    /// The sequence number of the first index member (= how many members the index lists).
    var indexSequence: UInt64

    func encoded() -> [UInt8] {
        var bytes = Self.magic
        bytes.appendLittleEndian(indexOffset)
        bytes.appendLittleEndian(indexSequence)
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> ImageTail? {
        guard bytes.count == 24, Array(bytes[0..<8]) == magic else { return nil }
        return ImageTail(indexOffset: bytes.littleEndian(UInt64.self, at: 8), indexSequence: bytes.littleEndian(UInt64.self, at: 16))
    }
}

enum ImageJSON {
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return Array(try encoder.encode(value))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) -> T? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(type, from: Data(bytes))
    }
}

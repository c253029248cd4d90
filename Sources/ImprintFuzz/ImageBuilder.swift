import Crypto
import Foundation
import ImprintImage

/// Wraps any bytes as the tar stream of a well-formed gzip image (FORMAT.md), so the fuzzer reaches the tar scanner
/// and the extractor without first having to forge deflate data, CRCs and SHA-256s.
///
/// A second, independent writer of the format: stored (uncompressed) deflate blocks and its own CRC-32, and a
/// SHA-256 for every regular file it finds by walking the ustar headers the way the scanner does.
enum ImageBuilder {
    static func image(tarStream tar: [UInt8]) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let manifest = ImageManifest(
            tool: "imprint-fuzz", created: Date(timeIntervalSince1970: 1_700_000_000), models: ["Fuzz Model"], level: 6,
            blockSize: 1 << 20, source: "/")
        var summary = ImageSummary()
        summary.tarBytes = UInt64(tar.count)
        summary.blocks = 1
        var image: [UInt8] = []
        var index: [UInt8] = []
        func add(_ member: [UInt8], size: Int) {
            index.appendLittleEndian(UInt64(image.count))
            index.appendLittleEndian(UInt32(member.count))
            index.appendLittleEndian(UInt32(size))
            index += Array(SHA256.hash(data: member))
            image += member
        }
        add(member(kind: 1, sequence: 0, payload: Array(try encoder.encode(manifest))), size: 0)
        add(member(kind: 0, sequence: 1, content: tar, checksums: fileChecksums(tar)), size: tar.count)
        add(member(kind: 2, sequence: 2, payload: Array(try encoder.encode(summary))), size: 0)
        let indexOffset = UInt64(image.count)
        image += member(kind: 3, sequence: 3, payload: index)
        var tail = Array("IMPRINT1".utf8)
        tail.appendLittleEndian(indexOffset)
        tail.appendLittleEndian(UInt64(3))
        image += member(kind: 4, sequence: 4, payload: tail)
        return image
    }

    /// The SHA-256 of each regular file's data, keyed by the stream offset of its first byte. Sizes come from the
    /// ustar header, or a pax `size` record before it; the walk stops where the headers stop making sense.
    static func fileChecksums(_ tar: [UInt8]) -> [(UInt64, [UInt8])] {
        var checksums: [(UInt64, [UInt8])] = []
        var position = 0
        var paxSize: Int?
        while position + 512 <= tar.count, checksums.count < 1600 {
            let header = tar[position..<(position + 512)]
            if header.allSatisfy({ $0 == 0 }) { break }
            guard var size = octal(tar[(position + 124)..<(position + 136)]) else { break }
            let type = tar[position + 156]
            let data = position + 512
            if type == UInt8(ascii: "x") || type == UInt8(ascii: "g") {
                if type == UInt8(ascii: "x"), size < tar.count - min(data, tar.count) {
                    paxSize = paxRecordSize(Array(tar[data..<(data + size)])) ?? paxSize
                }
            } else {
                if let paxSize, [0, UInt8(ascii: "0"), UInt8(ascii: "7")].contains(type) { size = paxSize }
                paxSize = nil
                if [0, UInt8(ascii: "0"), UInt8(ascii: "7")].contains(type), size > 0, size <= tar.count - data {
                    checksums.append((UInt64(data), Array(SHA256.hash(data: tar[data..<(data + size)]))))
                }
                if ![0, UInt8(ascii: "0"), UInt8(ascii: "7")].contains(type) { size = 0 }
            }
            guard size <= tar.count else { break }
            position = data + (size + 511) / 512 * 512
        }
        return checksums
    }

    private static func octal(_ field: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in field where byte != 0 && byte != UInt8(ascii: " ") {
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(byte), value < 1 << 40 else { return nil }
            value = value * 8 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func paxRecordSize(_ data: [UInt8]) -> Int? {
        let text = String(decoding: data, as: UTF8.self)
        for line in text.split(separator: "\n") {
            guard let record = line.split(separator: " ", maxSplits: 1).last, record.hasPrefix("size=") else { continue }
            return Int(record.dropFirst(5)).flatMap { $0 < 1 << 40 ? $0 : nil }
        }
        return nil
    }

    /// `image` with the header of every member made self-consistent: the Imprint field's CRC-32 recomputed, and in a
    /// gzip image the gzip header's CRC-16 after it. It walks from member to member by the compressed lengths the
    /// headers claim and stops where the bytes stop looking like a member of the image's codec.
    static func sealingHeaders(_ image: [UInt8]) -> [UInt8] {
        var image = image
        func littleEndian(at offset: Int, bytes: Int) -> Int {
            (0..<bytes).reduce(0) { $0 | Int(image[offset + $1]) << (8 * $1) }
        }
        // gzip: magic, deflate, FHCRC and FEXTRA, then the "IM" subfield and its length; zstd: Imprint's skippable
        // frame magic and the frame's length, which is the field's.
        let gzip = image.starts(with: [0x1f, 0x8b, 8, 0x06])
        let magic: [UInt8] = gzip ? [0x1f, 0x8b, 8, 0x06] : [0x5e, 0x2a, 0x4d, 0x18]
        let prefix = gzip ? 16 : 8
        var start = 0
        while start + prefix <= image.count, image[start..<(start + 4)].elementsEqual(magic),
            !gzip || (image[start + 12] == UInt8(ascii: "I") && image[start + 13] == UInt8(ascii: "M"))
        {
            let length = gzip ? littleEndian(at: start + 14, bytes: 2) : littleEndian(at: start + 4, bytes: 4)
            let field = start + prefix
            // The field holds at least its fixed prefix (22 bytes) and its CRC-32; gzip's header CRC-16 follows it.
            guard length >= 26, length <= image.count - field - (gzip ? 2 : 0) else { break }
            let fieldCRC = crc32(Array(image[field..<(field + length - 4)]))
            for index in 0..<4 { image[field + length - 4 + index] = UInt8(truncatingIfNeeded: fieldCRC >> (8 * index)) }
            let compressed = littleEndian(at: field + 12, bytes: 4)
            if gzip {
                let headerCRC = crc32(Array(image[start..<(field + length)]))
                image[field + length] = UInt8(truncatingIfNeeded: headerCRC)
                image[field + length + 1] = UInt8(truncatingIfNeeded: headerCRC >> 8)
                start = field + length + 2 + compressed + 8
            } else {
                start = field + length + compressed
            }
        }
        return image
    }

    /// One gzip member with Imprint's header field, its content in stored deflate blocks.
    static func member(kind: UInt8, sequence: UInt64, content: [UInt8] = [], checksums: [(UInt64, [UInt8])] = [], payload: [UInt8] = []) -> [UInt8] {
        var deflate: [UInt8] = []
        var start = 0
        repeat {
            let end = min(content.count, start + 65535)
            deflate.append(end == content.count ? 1 : 0)
            deflate.appendLittleEndian(UInt16(end - start))
            deflate.appendLittleEndian(~UInt16(end - start))
            deflate += content[start..<end]
            start = end
        } while start < content.count
        var field: [UInt8] = [1, kind, 0, 0]
        field.appendLittleEndian(sequence)
        field.appendLittleEndian(UInt32(deflate.count))
        field.appendLittleEndian(UInt32(content.count))
        field.appendLittleEndian(UInt16(kind == 0 ? checksums.count : 0))
        if kind == 0 {
            for (offset, sha256) in checksums {
                field.appendLittleEndian(offset)
                field += sha256
            }
        } else {
            field += payload
        }
        field.appendLittleEndian(crc32(field))
        var member: [UInt8] = [0x1f, 0x8b, 8, 0x06, 0, 0, 0, 0, 0, 3]
        member.appendLittleEndian(UInt16(field.count + 4))
        member += [UInt8(ascii: "I"), UInt8(ascii: "M")]
        member.appendLittleEndian(UInt16(field.count))
        member += field
        member.appendLittleEndian(UInt16(crc32(member) & 0xffff))
        member += deflate
        member.appendLittleEndian(crc32(content))
        member.appendLittleEndian(UInt32(truncatingIfNeeded: content.count))
        return member
    }

    private static let crcTable: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xedb8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    /// The CRC-32 gzip uses (IEEE 802.3).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
        return ~crc
    }
}

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

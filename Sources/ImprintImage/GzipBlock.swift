import CZlib
import Foundation

/// One image block as a complete gzip member (RFC 1952). Members written one after another form a valid gzip
/// file, so GNU tar and gzip read an image of many blocks as one stream, while each block can be compressed and
/// checked on its own core.
public enum GzipBlock {
    /// Compresses `data` into one gzip member.
    /// - Parameters:
    ///   - level: zlib's level, 1 (fastest) to 9 (smallest); 6 is gzip's default.
    public static func compress(_ data: Data, level: Int32 = 6) throws(ImageError) -> Data {
        var stream = z_stream()
        // 15 bits of window, +16 for a gzip header and trailer; memLevel 8 as gzip uses.
        let status = CZlib_deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
        guard status == Z_OK else { throw .codec(operation: "start compressing", code: status) }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(data.count)))
        var output = Data(count: bound)
        let result: Int32 = data.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(out.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard result == Z_STREAM_END else { throw .codec(operation: "compress a block", code: result) }
        output.count = Int(stream.total_out)
        return output
    }

    /// Decompresses exactly one gzip member, checking its CRC-32 and length trailer.
    /// - Parameters:
    ///   - expectedSize: the uncompressed size recorded for the block; a different size is corruption.
    public static func decompress(_ member: Data, expectedSize: Int) throws(ImageError) -> Data {
        var stream = z_stream()
        let status = CZlib_inflateInit2(&stream, 15 + 16)
        guard status == Z_OK else { throw .codec(operation: "start decompressing", code: status) }
        defer { inflateEnd(&stream) }
        var output = Data(count: max(expectedSize, 1))
        let result: Int32 = member.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(out.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        switch result {
        case Z_STREAM_END:
            break
        case Z_BUF_ERROR where stream.avail_out == 0:
            throw .corruptBlock(reason: "it holds more than the \(expectedSize) bytes recorded for it")
        case Z_BUF_ERROR:
            throw .corruptBlock(reason: "it ends early (truncated)")
        default:
            let message = stream.msg.map { String(cString: $0) } ?? "code \(result)"
            throw .corruptBlock(reason: message)
        }
        if stream.avail_in != 0 {
            throw .corruptBlock(reason: "\(stream.avail_in) bytes follow the end of the member")
        }
        if Int(stream.total_out) != expectedSize {
            throw .corruptBlock(reason: "it holds \(stream.total_out) bytes, \(expectedSize) were recorded")
        }
        output.count = expectedSize
        return output
    }
}

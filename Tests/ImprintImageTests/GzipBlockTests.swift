import Foundation
import ImprintImage
import ImprintTestSupport
import Testing

@Suite struct GzipBlockTests {
    func sample(_ seed: Int, count: Int = 200_000) -> Data {
        var data = Data(capacity: count)
        var state = UInt64(seed) &* 6364136223846793005 &+ 1442695040888963407
        for index in 0..<count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            data.append(index % 7 == 0 ? UInt8(truncatingIfNeeded: state >> 33) : UInt8(ascii: "a") + UInt8(index % 13))
        }
        return data
    }

    /// A block decompresses to exactly what was compressed.
    @Test func roundTrip() throws {
        let data = sample(1)
        let block = try GzipBlock.compress(data)
        #expect(block.count < data.count)
        #expect(try GzipBlock.decompress(block, expectedSize: data.count) == data)
        #expect(try GzipBlock.decompress(try GzipBlock.compress(Data()), expectedSize: 0) == Data())
    }

    /// Blocks written one after another are one gzip stream to the real gzip.
    @Test func gzipReadsConcatenatedBlocks() throws {
        let folder = try TemporaryDirectory()
        let parts = [sample(1), sample(2, count: 1000), sample(3)]
        var image = Data()
        for part in parts { image.append(try GzipBlock.compress(part, level: 6)) }
        let path = folder.file("blocks.gz")
        try image.write(to: URL(fileURLWithPath: path))
        let result = try runProcess("/bin/gzip", ["-t", path])
        #expect(result.status == 0)
        let decompressed = folder.file("blocks")
        #expect(try runProcess("/bin/gzip", ["-d", "-k", path]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: decompressed)) == parts.reduce(Data(), +))
    }

    /// Every single flipped byte and every truncation of a small block is caught, never returned as data.
    @Test func corruptionCaught() throws {
        let data = sample(4, count: 3000)
        let block = try GzipBlock.compress(data)
        for index in 0..<block.count {
            var damaged = block
            damaged[index] ^= 0x5a
            // A flip in the header's modification time, extra flags or OS byte changes no data; anything else must fail.
            if (4...9).contains(index) { continue }
            #expect(throws: ImageError.self) { try GzipBlock.decompress(damaged, expectedSize: data.count) }
        }
        for length in 0..<block.count {
            #expect(throws: ImageError.self) { try GzipBlock.decompress(block.prefix(length), expectedSize: data.count) }
        }
        #expect(throws: ImageError.self) { try GzipBlock.decompress(block + Data([0]), expectedSize: data.count) }
    }
}

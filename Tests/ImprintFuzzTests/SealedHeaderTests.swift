import Foundation
import Glibc
@testable import ImprintFuzz
import ImprintImage
import ImprintTestSupport
import Testing

/// The `headers` target's sealing, and what it lets a crafted header reach.
@Suite struct SealedHeaderTests {
    /// A block whose header claims a sequence number past any image's, its checksums made to match by
    /// `ImageBuilder.sealingHeaders`, is refused as out of place (the sequence check, not a header checksum, catches
    /// it), also as the first data block, which a file's reader looks up in the block index; its file is not written.
    /// Both codecs: the sealing finds gzip's and zstd's headers alike.
    @Test(arguments: ImageCodec.allCases)
    func aSequenceNumberPastAnyImageIsRefused(_ codec: ImageCodec) throws {
        let folder = try TemporaryDirectory()
        let source = folder.file("small")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try Data(repeating: 7, count: 5000).write(to: URL(fileURLWithPath: source + "/data.bin"))
        let image = folder.file("small.imprint")
        let descriptor = open(image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let request = CaptureRequest(
            root: source, models: ["Fuzz Model"], codec: codec, threads: 1, blockSize: 2048, tool: "imprint test",
            time: Date(timeIntervalSince1970: 1_700_000_000))
        defer { close(descriptor) }
        _ = try Capture.run(request, to: descriptor, name: image)
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: image)))
        #expect(ImageBuilder.sealingHeaders(original) == original, "sealing a sound image changes nothing")

        var bytes = original
        let field = Int(try Restore.describe(image).index[1].offset) + (codec == .gzip ? 16 : 8)  // the first data block
        for index in 4..<12 { bytes[field + index] = 0xff }  // the sequence number: UInt64.max
        let unsealed = folder.file("unsealed.imprint")
        try Data(bytes).write(to: URL(fileURLWithPath: unsealed))
        #expect { try Restore.verify(try ImageInput(path: unsealed)) } throws: { "\($0)".contains("checksum does not match") }

        let crafted = folder.file("crafted.imprint")
        try Data(ImageBuilder.sealingHeaders(bytes)).write(to: URL(fileURLWithPath: crafted))
        let outOfPlace = "block 18446744073709551615 comes where block 1 belongs"
        #expect { try Restore.verify(try ImageInput(path: crafted)) } throws: { "\($0)".contains(outOfPlace) }
        let target = folder.file("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        #expect { try Restore.run(try ImageInput(path: crafted), root: target) } throws: { "\($0)".contains(outOfPlace) }
        #expect(!FileManager.default.fileExists(atPath: target + "/data.bin"))
    }
}

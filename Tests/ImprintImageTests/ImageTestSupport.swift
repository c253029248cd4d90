import Foundation
@testable import ImprintImage
import ImprintTestSupport

/// Captures `root` into `image` in-process.
@discardableResult
func capture(
    _ root: String, to image: String, codec: ImageCodec = .gzip, blockSize: Int = 1 << 20, generalize: Bool = false, threads: Int = 2
) throws -> CaptureResult {
    let descriptor = open(image, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    defer { close(descriptor) }
    let request = CaptureRequest(
        root: root, models: ["OptiPlex 7090"], codec: codec, threads: threads, blockSize: blockSize, generalize: generalize,
        tool: "imprint test", time: Date(timeIntervalSince1970: 1_700_000_000))
    return try Capture.run(request, to: descriptor, name: image)
}

/// The lines `rsync -aHAXn --checksum --itemize-changes` prints comparing `source` with `copy` (none: equal).
func rsyncDifferences(_ source: String, _ copy: String, excluding: [String] = []) throws -> [String] {
    let result = try runProcess(
        "/usr/bin/rsync", ["-aHAXn", "--checksum", "--itemize-changes"] + excluding.map { "--exclude=\($0)" } + [source + "/", copy + "/"])
    guard result.status == 0 else { return ["rsync failed: \(result.error)"] }
    return result.output.split(separator: "\n").map(String.init)
}

/// The files and folders directly in `path`.
func listing(_ path: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }

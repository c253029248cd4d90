import Foundation
import ImprintFuzz
import ImprintTestSupport
import Testing

/// The inputs libFuzzer found (crashes, hangs, wrong results), kept under `Fixtures/fuzz/<target>/` once fixed.
@Suite struct FuzzRegressionTests {
    static func inputs(_ target: FuzzTarget) throws -> [String] {
        let folder = fixturePath("fuzz/\(target.rawValue)")
        return try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { "\(folder)/\($0)" }
    }

    /// Every regression input of every target ends in success or in Imprint's own error, never a crash or a finding.
    @Test(arguments: FuzzTarget.allCases)
    func regressionInputsEndCleanly(_ target: FuzzTarget) throws {
        let runner = try FuzzRunner(target)
        defer { runner.close() }
        let inputs = try Self.inputs(target)
        #expect(!inputs.isEmpty, "Fixtures/fuzz/\(target.rawValue) holds no inputs")
        for path in inputs {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            do {
                try runner.run(bytes)
            } catch {
                #expect(FuzzRunner.isClean(error), "\((path as NSString).lastPathComponent): \(error)")
                #expect(!"\(error)".isEmpty)
            }
        }
    }

    /// The seeds the fuzzer starts from are inputs Imprint accepts, so the fuzzer starts from the deep paths.
    @Test(arguments: FuzzTarget.allCases)
    func seedsAreAccepted(_ target: FuzzTarget) throws {
        let folder = try TemporaryDirectory()
        let runner = try FuzzRunner(target)
        defer { runner.close() }
        let seeds = folder.file("seeds")
        try FuzzSeeds.write(target, to: seeds, fixtures: fixturePath(""), scratch: folder.path)
        let names = try FileManager.default.contentsOfDirectory(atPath: seeds).sorted()
        #expect(!names.isEmpty)
        for name in names {
            #expect(throws: Never.self, "seed \(name)") { try runner.run([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(seeds)/\(name)")))) }
        }
    }
}

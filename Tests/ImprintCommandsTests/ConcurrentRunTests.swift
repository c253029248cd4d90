import Foundation
@testable import ImprintCommands
import ImprintTestSupport
import Testing

@Suite struct ConcurrentRunTests {
    /// Starts every argument vector at once as its own imprint process and waits for all of them.
    func startTogether(_ runs: [[String]], environment: [String: String], in folder: TemporaryDirectory) throws -> [ProcessResult] {
        let binary = packageRoot.appendingPathComponent(".build/debug/imprint").path
        var started: [(Process, String, String)] = []
        for (index, arguments) in runs.enumerated() {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
            process.environment = environment
            // Files, not pipes: nothing has to be read while the others run.
            let out = folder.file("out-\(index)")
            let err = folder.file("err-\(index)")
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            _ = FileManager.default.createFile(atPath: err, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
            process.standardInput = FileHandle.nullDevice
            started.append((process, out, err))
        }
        for (process, _, _) in started { try process.run() }
        return try started.map { process, out, err in
            process.waitUntilExit()
            return ProcessResult(
                status: process.terminationStatus, output: try String(contentsOfFile: out, encoding: .utf8),
                error: try String(contentsOfFile: err, encoding: .utf8))
        }
    }

    /// Eight runs started at once on a new root, ten times over: one applies, the seven that waited for its lock
    /// find nothing to do; the root has one identity line and the inventory one history row.
    @Test func eightRunsAtOnceApplyOnce() throws {
        for trial in 1...10 {
            let folder = try TemporaryDirectory()
            demo(folder)
            let root = try folder.copyFixture("roots/rm204-master")
            let arguments = ["run", "--root", root, "--facts", fixturePath("demo/facts/RM204-07.json")]
            let environment = ["IMPRINT_INVENTORY": folder.file("inventory.db"), "PATH": "/usr/bin:/bin"]
            let results = try startTogether(Array(repeating: arguments, count: 8), environment: environment, in: folder)
            let applied = results.filter { $0.status == 0 && $0.output.hasPrefix("RM204-07 (revision 1): applied run") }
            let idle = results.filter { $0.status == 0 && $0.output.hasPrefix("RM204-07 (revision 1): nothing to do") }
            #expect(applied.count == 1, "trial \(trial): \(results.map(\.output))")
            #expect(idle.count == 7, "trial \(trial): \(results.map { "\($0.status) \($0.output) \($0.error)" })")
            let log = try String(contentsOfFile: root + "/var/log/imprint/identity.jsonl", encoding: .utf8)
            #expect(log.split(separator: "\n").count == 1, "trial \(trial)")
            let history = imprint(["inventory", "history", "RM204-07"], in: folder)
            #expect(history.out.split(separator: "\n").filter { $0.contains("applied") }.count == 1, "trial \(trial)")
            // The others waited on the lock, as they said, rather than finding the state written before they looked.
            for result in results where result.error.contains("another run holds the lock") {
                #expect(result.output.contains("nothing to do"), "trial \(trial)")
            }
        }
    }
}

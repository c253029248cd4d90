import Foundation
import ImprintTestSupport
import Testing

/// What a technician at a console sees: the questions asked before data is destroyed, the passphrase prompts and
/// the progress bar, driven through a real pseudo-terminal; and none of it when the output is not a terminal.
@Suite struct TerminalTests {
    var binary: String { packageRoot.appendingPathComponent(".build/debug/imprint").path }
    let environment = ["TERM": "xterm", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
    let facts = fixturePath("demo/facts/RM204-07.json")

    /// An image of the fixture master, for model "OptiPlex 7090", and a target holding one file of its own.
    func imageAndTarget(_ folder: TemporaryDirectory) throws -> (image: String, target: String) {
        let image = folder.file("rm204.img")
        let capture = try runProcess(binary, ["capture", "--root", fixturePath("roots/rm204-master"), "-o", image, "--model", "OptiPlex 7090"])
        #expect(capture.status == 0, "\(capture.error)")
        try folder.write("target/keep", "the technician's file\n")
        return (image, folder.file("target"))
    }

    /// On a terminal, restoring over a non-empty target asks first, naming what would be lost: "n" keeps it (exit
    /// 22), "y" erases it and restores, with the progress bar's last line showing 100%, the size and the rate.
    @Test func restoreAsksBeforeErasing() throws {
        let folder = try TemporaryDirectory()
        let (image, target) = try imageAndTarget(folder)
        let question = "holds 1 entry (keep); restoring erases them all. Erase? [y/N] "
        let refused = try runOnTerminal(
            binary, ["restore", image, "--root", target, "--facts", facts], environment: environment, answers: [(question, "n")])
        #expect(refused.status == 22, "\(refused.transcript)")
        #expect(refused.transcript.contains(target + " " + question))
        #expect(FileManager.default.fileExists(atPath: target + "/keep"))
        #expect(!FileManager.default.fileExists(atPath: target + "/etc"))

        let accepted = try runOnTerminal(
            binary, ["restore", image, "--root", target, "--facts", facts], environment: environment, answers: [(question, "y")])
        #expect(accepted.status == 0, "\(accepted.transcript)")
        #expect(!FileManager.default.fileExists(atPath: target + "/keep"))
        #expect(try String(contentsOfFile: target + "/etc/hostname", encoding: .utf8) == "master\n")
        #expect(accepted.transcript.contains(#/restore  \[#{20}\]  100%  [0-9.]+ of [0-9.]+ MB compressed  [0-9.]+ MB/s/#), "\(accepted.transcript)")
    }

    /// Without a terminal nothing is asked and no bar is drawn: the non-empty target is refused (exit 22) with the
    /// way out, and a restore into an empty one prints only its report.
    @Test func noQuestionsWithoutTerminal() throws {
        let folder = try TemporaryDirectory()
        let (image, target) = try imageAndTarget(folder)
        let refused = try runProcess(binary, ["restore", image, "--root", target, "--facts", facts], environment: environment)
        #expect(refused.status == 22)
        #expect(refused.error.contains("pass '--force' to erase it and restore"))
        #expect(!refused.error.contains("Erase?"))
        #expect(FileManager.default.fileExists(atPath: target + "/keep"))

        try FileManager.default.createDirectory(atPath: folder.file("empty"), withIntermediateDirectories: false)
        let restored = try runProcess(binary, ["restore", image, "--root", folder.file("empty"), "--facts", facts], environment: environment)
        #expect(restored.status == 0, "\(restored.error)")
        #expect(restored.error.isEmpty, "no progress bar: \(restored.error)")
    }

    /// The bar's frames of one command in a transcript: percent, bytes done and total (in MB as printed) and
    /// what they count, in the order drawn.
    func frames(_ label: String, in transcript: String) -> [(percent: Int, done: Double, total: Double, unit: String)] {
        transcript.split(whereSeparator: { $0 == "\r" || $0 == "\n" }).compactMap { line in
            guard let match = line.firstMatch(of: #/^(\w+)  \[[#.]{20}\]  +(\d+)%  ([0-9.]+) of ([0-9.]+) MB (\w+)  /#),
                match.1 == label, let percent = Int(match.2), let done = Double(match.3), let total = Double(match.4)
            else { return nil }
            return (percent, done, total, String(match.5))
        }
    }

    /// Checks the frames a bar drew: the first (drawn at the first bytes) and the last at least, all with the
    /// same total; the percentage never goes back, never passes 100, is the fraction done (to the percent), and
    /// says 100 on the last frame only, where the bytes done are the total.
    func expectTruthful(_ frames: [(percent: Int, done: Double, total: Double, unit: String)], unit: String, total: Double, _ transcript: String) {
        #expect(frames.count >= 2, "\(transcript)")
        guard let last = frames.last else { return }
        #expect(frames.allSatisfy { $0.unit == unit && $0.total == total }, "\(frames)")
        #expect(zip(frames, frames.dropFirst()).allSatisfy { $0.percent <= $1.percent }, "\(frames)")
        #expect(frames.dropLast().allSatisfy { $0.percent < 100 && abs(Double($0.percent) - 100 * $0.done / $0.total) <= 1.5 }, "\(frames)")
        #expect(last.percent == 100 && last.done == total, "\(frames)")
    }

    /// A tree of 40 MB of incompressible data in eight files (beside 20 MB '--exclude' leaves out, so its file
    /// system holds at least 60 MB): capture's bar counts the tree's data, "of 40.0 MB data", and ends at 100%;
    /// verify and restore count the image's bytes, "of N MB compressed" with N its size, and end at 100% (verify
    /// from a pipe: no total, no percentage). The same capture streamed with '-o -' draws the same bar while
    /// standard output takes a valid image; a verify stopped by damage ends the bar's line before its message;
    /// without a terminal, capture and verify draw nothing.
    @Test func progressCountsWhatIsRead() throws {
        let folder = try TemporaryDirectory()
        let tree = folder.file("tree")
        for index in 0..<8 {
            _ = try folder.write("tree/part\(index % 3)/file\(index).bin", "")
        }
        let made = try runProcess("/bin/bash", ["-c", """
            set -e
            cd "$1"
            for file in part*/file*.bin; do head -c 5000000 /dev/urandom > "$file"; done
            head -c 20000000 /dev/urandom > part0/left-out.skip
            """, "make", tree])
        #expect(made.status == 0, "\(made.error)")

        let image = folder.file("tree.img")
        let capture = ["capture", "--root", tree, "--model", "OptiPlex 7090", "--exclude", "*.skip", "--level", "1"]
        let captured = try runOnTerminal(binary, capture + ["-o", image], environment: environment, answers: [])
        #expect(captured.status == 0, "\(captured.transcript)")
        expectTruthful(frames("capture", in: captured.transcript), unit: "data", total: 40.0, captured.transcript)

        let imageSize = Double(try FileManager.default.attributesOfItem(atPath: image)[.size] as? Int ?? 0)
        let imageMB = (imageSize / 100_000).rounded() / 10
        let verified = try runOnTerminal(binary, ["verify", image], environment: environment, answers: [])
        #expect(verified.status == 0, "\(verified.transcript)")
        expectTruthful(frames("verify", in: verified.transcript), unit: "compressed", total: imageMB, verified.transcript)

        try FileManager.default.createDirectory(atPath: folder.file("target"), withIntermediateDirectories: false)
        let restored = try runOnTerminal(
            binary, ["restore", image, "--root", folder.file("target"), "--facts", facts], environment: environment, answers: [])
        #expect(restored.status == 0, "\(restored.transcript)")
        expectTruthful(frames("restore", in: restored.transcript), unit: "compressed", total: imageMB, restored.transcript)

        let fromPipe = try runOnTerminal(
            "/bin/sh", ["-c", #"cat "$1" | "$2" verify -"#, "sh", image, binary], environment: environment, answers: [])
        #expect(fromPipe.status == 0, "\(fromPipe.transcript)")
        #expect(frames("verify", in: fromPipe.transcript).isEmpty, "no total, no percentage: \(fromPipe.transcript)")
        #expect(fromPipe.transcript.contains(#/\rverify  [0-9.]+ MB compressed  [0-9.]+ MB/s/#), "\(fromPipe.transcript)")

        let streamed = folder.file("streamed.img")
        let piped = try runOnTerminal(binary, capture + ["-o", "-"], environment: environment, answers: [], standardOutput: streamed)
        #expect(piped.status == 0, "\(piped.transcript)")
        expectTruthful(frames("capture", in: piped.transcript), unit: "data", total: 40.0, piped.transcript)
        #expect(piped.transcript.contains("40.0 MB of data"), "the report goes to the terminal: \(piped.transcript)")
        let check = try runProcess(binary, ["verify", streamed], environment: environment)
        #expect(check.status == 0, "\(check.error)")
        #expect(check.error.isEmpty, "no bar without a terminal: \(check.error)")

        let damaged = folder.file("damaged.img")
        try FileManager.default.copyItem(atPath: image, toPath: damaged)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: damaged))
        try handle.seek(toOffset: 20_000_000)
        try handle.write(contentsOf: Data("damage".utf8))
        try handle.close()
        let stopped = try runOnTerminal(binary, ["verify", damaged], environment: environment, answers: [])
        #expect(stopped.status != 0)
        #expect(stopped.transcript.contains("\u{1b}[K\r\nimprint: the image is damaged"), "on a line of its own: \(stopped.transcript)")

        let quiet = try runProcess(binary, capture + ["-o", folder.file("quiet.img")], environment: environment)
        #expect(quiet.status == 0, "\(quiet.error)")
        #expect(quiet.error.isEmpty, "no bar without a terminal: \(quiet.error)")
    }

    /// The passphrase is asked twice for capture (two different entries are refused), once for verify; a wrong
    /// one is refused with exit 65, the right one opens the image.
    @Test func passphrasePrompts() throws {
        let folder = try TemporaryDirectory()
        let image = folder.file("encrypted.img")
        let capture = ["capture", "--root", fixturePath("roots/rm204-master"), "-o", image, "--model", "OptiPlex 7090", "--encrypt"]
        let mismatch = try runOnTerminal(
            binary, capture, environment: environment,
            answers: [("passphrase: ", "correct horse"), ("passphrase again: ", "correct hose")])
        #expect(mismatch.status == 65, "\(mismatch.transcript)")
        #expect(mismatch.transcript.contains("the two entries differ"))
        #expect(!mismatch.transcript.contains("correct horse"), "the passphrase is not echoed")

        let captured = try runOnTerminal(
            binary, capture, environment: environment,
            answers: [("passphrase: ", "correct horse"), ("passphrase again: ", "correct horse")])
        #expect(captured.status == 0, "\(captured.transcript)")

        let wrong = try runOnTerminal(binary, ["verify", image], environment: environment, answers: [("passphrase: ", "battery staple")])
        #expect(wrong.status == 65, "\(wrong.transcript)")
        #expect(wrong.transcript.contains("the passphrase does not open this image"))
        let right = try runOnTerminal(binary, ["verify", image], environment: environment, answers: [("passphrase: ", "correct horse")])
        #expect(right.status == 0, "\(right.transcript)")
    }
}

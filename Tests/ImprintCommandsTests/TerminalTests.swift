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
        #expect(accepted.transcript.contains(#/restore  \[#{20}\]  100%  [0-9.]+ MB  [0-9.]+ MB/s/#), "\(accepted.transcript)")
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

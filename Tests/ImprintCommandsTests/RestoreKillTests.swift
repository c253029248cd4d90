import Foundation
@testable import ImprintCommands
import ImprintCore
import ImprintTestSupport
import Testing

/// The built imprint executable, run as a separate process so it can be killed.
let imprintBinary = packageRoot.appendingPathComponent(".build/debug/imprint").path

/// The lines `rsync -aHAXn --checksum --itemize-changes --delete` prints comparing `source` with `copy`, and then
/// `copy` with `source` (none: the trees are equal, file data, owners, modes, times, links, ACLs and xattrs).
func treeDifferences(_ source: String, _ copy: String) throws -> [String] {
    var lines: [String] = []
    for (from, to) in [(source, copy), (copy, source)] {
        let result = try runProcess(
            "/usr/bin/rsync", ["-aHAXn", "--checksum", "--itemize-changes", "--delete", from + "/", to + "/"])
        if result.status != 0 { return ["rsync failed: \(result.error)"] }
        lines += result.output.split(separator: "\n").map { "\(from) -> \(to): \($0)" }
    }
    return lines
}

@Suite struct RestoreKillTests {
    let facts = fixturePath("demo/facts/RM204-12.json")

    /// A tree of every file kind captured into an image, and that image restored without interruption.
    func imageAndReference(_ folder: TemporaryDirectory) throws -> (image: String, reference: String) {
        let source = try makeEveryKindTree(in: folder)
        let image = folder.file("every-kind.imprint")
        let captured = imprint(["capture", "--root", source, "-o", image, "--model", "OptiPlex 7090"], in: folder)
        #expect(captured.status == 0, "\(captured.err)")
        let reference = folder.file("reference")
        try FileManager.default.createDirectory(atPath: reference, withIntermediateDirectories: false)
        let restored = try runProcess(imprintBinary, ["restore", image, "--root", reference, "--facts", facts])
        #expect(restored.status == 0, "\(restored.error)")
        #expect(!FileManager.default.fileExists(atPath: reference + "/" + TargetRoot.restoreMarker))
        // The socket is not imaged; everything else equals the source.
        let rsync = try runProcess("/usr/bin/rsync", ["-aHAXn", "--checksum", "--itemize-changes", "--exclude=/sock", source + "/", reference + "/"])
        #expect(rsync.status == 0 && rsync.output.isEmpty, "\(rsync.output)\(rsync.error)")
        return (image, reference)
    }

    /// Restores `image` into `target` with the binary; with `killAt`, SIGKILL comes before that file operation.
    func restore(_ image: String, into target: String, force: Bool = false, killAt: Int? = nil) throws -> ProcessResult {
        var environment = ["PATH": "/usr/bin:/bin"]
        if let killAt { environment["IMPRINT_TEST_KILL_AT_OPERATION"] = String(killAt) }
        return try runProcess(
            imprintBinary, ["restore", image, "--root", target, "--facts", facts] + (force ? ["--force"] : []), environment: environment)
    }

    /// Checks that `killed` died by SIGKILL leaving the marker, then that `restore --force` reaches `reference`.
    func expectRedone(_ image: String, _ target: String, _ reference: String, killed: ProcessResult, at operation: Int) throws {
        #expect(killed.status == 9, "operation \(operation): expected SIGKILL, got \(killed.status): \(killed.error)")
        #expect(FileManager.default.fileExists(atPath: target + "/" + TargetRoot.restoreMarker), "operation \(operation): no marker")
        let redone = try restore(image, into: target, force: true)
        #expect(redone.status == 0, "after a kill at operation \(operation): \(redone.error)")
        let differences = try treeDifferences(reference, target)
        #expect(differences.isEmpty, "after a kill at operation \(operation): \(differences)")
    }

    /// A restore killed before every third file operation (and before its last) leaves the marker; `restore --force`
    /// over what it left reaches the tree of an uninterrupted restore, as rsync compares it both ways.
    @Test func killedRestoreIsRedoneByForce() throws {
        #expect(FileManager.default.isExecutableFile(atPath: imprintBinary), "build the package first: swift build")
        let folder = try TemporaryDirectory()
        let (image, reference) = try imageAndReference(folder)
        let target = folder.file("target")

        /// Kills a restore at `operation`; false when the restore finished before it.
        func killAndRedo(at operation: Int) throws -> Bool {
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
            let killed = try restore(image, into: target, killAt: operation)
            if killed.status == 0 { return false }
            try expectRedone(image, target, reference, killed: killed, at: operation)
            return true
        }

        var operation = 1
        var lastKilled = 0
        while try killAndRedo(at: operation) {
            lastKilled = operation
            operation += 3
        }
        // The last operation is the marker's removal, after every file is written: kill there too.
        for last in stride(from: operation - 1, to: lastKilled, by: -1) where try killAndRedo(at: last) { break }
        #expect(operation > 60, "a restore of the tree makes more than sixty file operations; the loop stopped at \(operation)")
    }

    /// A `restore --force` over an old tree killed while it erases it (or just after) leaves the marker too, and the
    /// next `restore --force` still reaches the uninterrupted tree.
    @Test func killedWhileErasing() throws {
        let folder = try TemporaryDirectory()
        let (image, reference) = try imageAndReference(folder)
        let target = folder.file("target")
        for operation in [1, 7, 20, 45] {
            try? FileManager.default.removeItem(atPath: target)
            #expect(try runProcess("/bin/cp", ["-a", reference, target]).status == 0)
            let killed = try restore(image, into: target, force: true, killAt: operation)
            try expectRedone(image, target, reference, killed: killed, at: operation)
        }
    }

    /// After a killed restore, a plain restore, `run`, `install` and `capture` refuse the root with exit 22 and a
    /// message naming the marker and '--force'; nothing in the root changes, and capture leaves no image.
    @Test func halfRestoredRootIsRefused() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let source = try folder.copyFixture("roots/rm204-master")
        let image = folder.file("rm204.imprint")
        #expect(imprint(["capture", "--root", source, "-o", image, "--model", "OptiPlex 7090"], in: folder).status == 0)
        let target = folder.file("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        #expect(try restore(image, into: target, killAt: 12).status == 9)
        let marker = target + "/" + TargetRoot.restoreMarker
        #expect(try String(contentsOfFile: marker, encoding: .utf8).contains("has not finished"))
        let before = try runProcess("/usr/bin/find", [target, "-printf", "%p %y %m %s %T@\n"]).output

        let plain = try restore(image, into: target)
        #expect(plain.status == ExitStatus.targetNotEmpty.rawValue)
        #expect(plain.error.contains("a restore into '\(target)' was interrupted ('\(marker)' is there)"), "\(plain.error)")
        #expect(plain.error.contains("--force"))
        for arguments in [
            ["run", "--root", target, "--facts", facts],
            ["run", "--root", target, "--facts", facts, "--dry-run"],
            ["install", "--root", target, "--binary", imprintBinary, "--unit", "RM204-07"],
            ["capture", "--root", target, "-o", folder.file("half.imprint"), "--model", "OptiPlex 7090"],
        ] {
            let refused = imprint(arguments, in: folder)
            #expect(refused.status == ExitStatus.targetNotEmpty.rawValue, "\(arguments): \(refused.err)")
            #expect(refused.err.contains("was interrupted ('\(marker)' is there), so its files are incomplete"), "\(refused.err)")
        }
        #expect(try runProcess("/usr/bin/find", [target, "-printf", "%p %y %m %s %T@\n"]).output == before)
        #expect(!FileManager.default.fileExists(atPath: folder.file("half.imprint")))
        #expect(!FileManager.default.fileExists(atPath: folder.file("half.imprint.partial")))

        let forced = imprint(["restore", image, "--root", target, "--facts", facts, "--force", "--personalize"], in: folder)
        #expect(forced.status == 0, "\(forced.err)")
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(try String(contentsOfFile: target + "/etc/hostname", encoding: .utf8) == "RM204-12\n")
    }
}

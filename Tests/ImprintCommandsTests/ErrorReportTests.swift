import Foundation
import ImprintAgent
import ImprintCore
@testable import ImprintCommands
import ImprintInventory
import ImprintTestSupport
import Testing

@Suite struct ErrorReportTests {
    var binary: String { packageRoot.appendingPathComponent(".build/debug/imprint").path }

    /// --verbose prints a cause only when it says something the message does not: never the message again.
    @Test func causeOnlyWhenItAddsSomething() {
        let facts = CommandFailure(CoreError.factsFile(path: "f.json", reason: "is not valid JSON"))
        #expect(facts.causeLines.isEmpty)
        let database = CommandFailure(InventoryError.database(
            path: "inv.db", reason: "cannot open it: permission denied", underlying: "SQLite error 14: unable to open database file"))
        #expect(database.causeLines == ["SQLite error 14: unable to open database file"])
        #expect(CommandFailure(status: .failure, message: "plain").causeLines.isEmpty)
    }

    /// The process with --verbose: no cause line repeating the message; SQLite's own words under an inventory
    /// that is not a database.
    @Test func verboseProcessOutput() throws {
        let folder = try TemporaryDirectory()
        let garbage = try folder.write("garbage.db", "this is not a database\n")
        let result = try runProcess(binary, ["inventory", "list", "--inventory", garbage, "--verbose"])
        #expect(result.status == 1)
        #expect(result.error.contains("it is not an Imprint inventory (or it is damaged); restore it from an export"))
        #expect(result.error.contains("  cause: SQLite error 26: file is not a database"))
        let missing = try runProcess(binary, ["identify", "--facts", folder.file("none.json"), "--inventory", garbage, "--verbose"])
        #expect(!missing.error.contains("cause:"), "\(missing.error)")
    }

    /// An inventory that is a folder, or whose path runs through a file, says so and what to do, not SQLite's
    /// "disk I/O error" or "no inventory".
    @Test func inventoryPathProblems() throws {
        let folder = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: folder.file("inventory.db"), withIntermediateDirectories: true)
        let asFolder = imprint(["inventory", "list"], in: folder)
        #expect(asFolder.status == ExitStatus.failure.rawValue)
        #expect(asFolder.err.contains("it is a folder, not an inventory file; point --inventory at the file"))

        let file = try folder.write("plain", "x")
        let throughFile = imprint(["inventory", "list", "--inventory", file + "/inventory.db"], in: folder)
        #expect(throughFile.status == ExitStatus.failure.rawValue)
        #expect(throughFile.err.contains("'\(file)' on its way is a file, not a folder"))
    }

    /// An inventory this user may not read says "permission denied" and what to do (the binary runs as nobody,
    /// since root reads any file).
    @Test func unreadableInventory() throws {
        let folder = try TemporaryDirectory()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
        let inventory = folder.file("inventory.db")
        #expect(imprint(["inventory", "init"], in: folder).status == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: inventory)
        let asUser = geteuid() == 0
            ? ("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", binary])
            : (binary, [])
        let result = try runProcess(asUser.0, asUser.1 + ["inventory", "list", "--inventory", inventory, "--verbose"])
        #expect(result.status == 1)
        #expect(result.error.contains(
            "cannot open it: permission denied; run imprint as root (sudo), or give this user read access to it"), "\(result.error)")
        #expect(result.error.contains("  cause: SQLite error 14: unable to open database file"))
    }

    /// A missing facts file exits 66 as README says; one with broken JSON exits 65 naming the line and column.
    @Test func factsFileErrors() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let missing = imprint(["identify", "--facts", folder.file("none.json")], in: folder)
        #expect(missing.status == ExitStatus.missingInput.rawValue)
        #expect(missing.err.contains("does not exist"))
        let broken = try folder.write("broken.json", "{\"serial\": \"7XK07QF9\",\n \"uuid\": nope}\n")
        let invalid = imprint(["identify", "--facts", broken], in: folder)
        #expect(invalid.status == ExitStatus.invalidInput.rawValue)
        #expect(invalid.err.contains("is not valid JSON at line 2, column 11 (invalid value)"))
    }
}

import Foundation
import ImprintTestSupport
import Testing

/// `imprint-server init` and `serve` on good and bad input: the exit codes and messages README documents.
@Suite struct ServerCommandTests {
    let binary = RunningServer.binary

    /// init writes the admin token mode 0600 and refuses a second time (65) unless --rotate, keeping the old token.
    @Test func initMakesOneTokenUnlessRotated() throws {
        let folder = try TemporaryDirectory("imprint-server-init")
        let inventory = folder.file("inventory.db")
        let tokenFile = folder.file("admin.token")
        let first = try runProcess(binary, ["init", "--inventory", inventory, "--admin-token-file", tokenFile])
        #expect(first.status == 0)
        #expect(!first.output.contains(try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .newlines)))
        let attributes = try FileManager.default.attributesOfItem(atPath: tokenFile)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let token = try String(contentsOfFile: tokenFile, encoding: .utf8)

        let again = try runProcess(binary, ["init", "--inventory", inventory, "--admin-token-file", tokenFile])
        #expect(again.status == 65)
        #expect(again.error.contains("--rotate"))
        #expect(try String(contentsOfFile: tokenFile, encoding: .utf8) == token)

        let rotated = try runProcess(binary, ["init", "--inventory", inventory, "--admin-token-file", tokenFile, "--rotate"])
        #expect(rotated.status == 0)
        #expect(try String(contentsOfFile: tokenFile, encoding: .utf8) != token)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["admin.token", "inventory.db"])
    }

    /// serve refuses to start without an admin token (65), without a library folder (66), and with a bad --listen (64).
    @Test func serveRefusesWhatItCannotServe() throws {
        let folder = try TemporaryDirectory("imprint-server-serve")
        let inventory = folder.file("inventory.db")
        let made = try runProcess(RunningServer.imprint, ["inventory", "init", "--inventory", inventory])
        #expect(made.status == 0)
        try FileManager.default.createDirectory(atPath: folder.file("library"), withIntermediateDirectories: true)

        let noToken = try runProcess(binary, ["serve", "--inventory", inventory, "--library", folder.file("library"), "--listen", "127.0.0.1:0"], timeout: .seconds(30))
        #expect(noToken.status == 65)
        #expect(noToken.error.contains("imprint-server init"))

        #expect(try runProcess(binary, ["init", "--inventory", inventory, "--admin-token-file", folder.file("t")]).status == 0)
        let noLibrary = try runProcess(binary, ["serve", "--inventory", inventory, "--library", folder.file("nowhere"), "--listen", "127.0.0.1:0"], timeout: .seconds(30))
        #expect(noLibrary.status == 66)
        #expect(noLibrary.error.contains("nowhere"))

        let badListen = try runProcess(binary, ["serve", "--inventory", inventory, "--library", folder.file("library"), "--listen", "8080"], timeout: .seconds(30))
        #expect(badListen.status == 64)
        #expect(badListen.error.contains("'--listen' 8080"))

        let missing = try runProcess(binary, ["serve", "--inventory", folder.file("none.db"), "--library", folder.file("library")], timeout: .seconds(30))
        #expect(missing.status == 66)
    }
}

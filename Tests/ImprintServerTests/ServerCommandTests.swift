import Foundation
import ImprintTestSupport
import ImprintWire
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

    /// The admin's commands talk to a running server with the admin token: a window opened, listed and closed, a
    /// unit protected, the fleet listed; a wrong token is 77, a server that does not answer 69, a bad action 64.
    @Test func adminCommandsDriveTheServer() throws {
        let server = try RunningServer(setup: [
            ["inventory", "group", "add", "lab", "--naming-pattern", "LAB-{##}"],
            ["inventory", "add", "LAB-01", "--group", "lab", "--serial", "LABSERIAL1"],
        ])
        let connection = ["--server", server.url, "--admin-token-file", server.adminTokenFile]
        let opened = try runProcess(binary, ["window", "open", "lab", "--actions", "enrol,personalize", "--minutes", "45", "--maximum-new-units", "3"] + connection)
        #expect(opened.status == 0, "\(opened.error)")
        #expect(opened.output.contains("lab: enrol, personalize until ") && opened.output.contains("0 of 3 new units"))
        let listed = try runProcess(binary, ["window", "list", "--json"] + connection)
        let windows = try JSONDecoder.server.decode([DeploymentWindow].self, from: Data(listed.output.utf8))
        #expect(windows.map(\.group) == ["lab"] && windows.first?.openedBy.hasPrefix("admin token from") == true)

        #expect(try runProcess(binary, ["unit", "protect", "LAB-01"] + connection).status == 0)
        let fleet = try runProcess(binary, ["fleet", "--group", "lab", "--json"] + connection)
        let rows = try JSONDecoder.server.decode([FleetRow].self, from: Data(fleet.output.utf8))
        #expect(rows.first?.protected == true)
        #expect(try runProcess(binary, ["unit", "protect", "LAB-99"] + connection).status == 10)

        #expect(try runProcess(binary, ["window", "close", "lab"] + connection).status == 0)
        #expect(try runProcess(binary, ["window", "list"] + connection).output.contains("no window is open"))

        let folder = try TemporaryDirectory("imprint-admin")
        let wrong = try folder.write("wrong.token", "not-the-token\n")
        let refused = try runProcess(binary, ["window", "list", "--server", server.url, "--admin-token-file", wrong])
        #expect(refused.status == 77, "\(refused.error)")
        let nowhere = try runProcess(binary, ["window", "list", "--server", "http://127.0.0.1:\(try freeLoopbackPort())", "--admin-token-file", server.adminTokenFile], timeout: .seconds(120))
        #expect(nowhere.status == 69, "\(nowhere.error)")
        let badAction = try runProcess(binary, ["window", "open", "lab", "--actions", "reimage"] + connection)
        #expect(badAction.status == 64 && badAction.error.contains("'reimage'"))
        for minutes in ["0", "481"] {
            let badMinutes = try runProcess(binary, ["window", "open", "lab", "--actions", "restore", "--minutes", minutes] + connection)
            #expect(badMinutes.status == 64 && badMinutes.error.contains(minutes), "\(badMinutes.error)")
        }
        #expect(try runProcess(binary, ["window", "list"] + connection).output.contains("no window is open"))
        let noToken = try runProcess(binary, ["window", "list", "--server", server.url, "--admin-token-file", folder.file("none")])
        #expect(noToken.status == 66)
    }
}

import Foundation
import ImprintCore
import ImprintRemote
import ImprintTestSupport
import ImprintWire
import Testing

/// The record a unit installed with `--server` runs its first-boot hooks with (`ServerRecord.ask`, what
/// `run --first-boot-hooks` calls): the server hands it out only inside a window open for the unit's group, and the
/// unit keeps the token that comes with it.
@Suite struct ServerRecordTests {
    /// Outside a window the unit hears the server's reason (the command's exit 30) and nothing is written; inside
    /// one it gets its record, secret field values included, and its token (0600); once the window is closed,
    /// asking signed with that token gets nothing again.
    @Test func theRecordIsHandedOutOnlyInsideAWindow() throws {
        let folder = try TemporaryDirectory()
        let server = try RunningServer(setup: ReportQueueTests.demoSetup + [
            ["inventory", "field", "add", "join_otp", "--secret"],
            ["inventory", "set", "RM204-07", "--field", "join_otp=once-only-4711"],
        ])
        let root = try TargetRoot(try folder.copyFixture("roots/rm204-master"))
        let facts = try HardwareFacts.parse(
            json: try Data(contentsOf: URL(fileURLWithPath: fixturePath("demo/facts/RM204-07.json"))), source: "test")
        let client = try ServerClient(server: server.url)
        let token = root.path + ServerLink.credentialPath

        func expectNothing() {
            #expect {
                try ServerRecord.ask(client, facts: facts, root: root)
            } throws: { error in
                guard case RemoteError.nothingToDo(let reason) = error else { return false }
                return reason == "no window is open for this unit's group"
            }
        }
        expectNothing()
        #expect(!FileManager.default.fileExists(atPath: token))

        try openWindow(server, group: "RM204", actions: ["personalize"])
        let directory = try ServerRecord.ask(client, facts: facts, root: root)
        let assigned = try directory.assign(facts, enrolling: nil, preview: true)
        #expect(assigned.profile.hostname.value == "RM204-07")
        #expect(assigned.profile.fields["join_otp"]?.value == "once-only-4711")
        #expect((try FileManager.default.attributesOfItem(atPath: token)[.posixPermissions] as? Int) == 0o600)

        try #require(try server.admin("DELETE", ServerAPI.windowPath(group: "RM204")).status == 204)
        // Closed: nothing again, although the unit now signs with its token.
        expectNothing()
    }
}

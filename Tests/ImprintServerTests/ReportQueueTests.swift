import Foundation
import ImprintTestSupport
import ImprintWire
import Testing

/// A unit installed with `--server` queues each run's report and `imprint report` sends them, in order, once the
/// server can hear them; the server keeps them in the unit's history.
@Suite(.serialized) struct ReportQueueTests {
    static let demoSetup: [[String]] = ["printers", "groups", "units"].map { ["inventory", "import", fixturePath("demo/\($0).csv")] }
    let facts = fixturePath("demo/facts/RM204-07.json")

    /// A root with a copy of the demo inventory, the agent's server address pointing at `server`.
    func unitRoot(_ folder: TemporaryDirectory, server: RunningServer) throws -> (root: String, inventory: String) {
        let root = try folder.copyFixture("roots/rm204-master")
        let inventory = folder.file("unit-inventory.db")
        for command in [["inventory", "init"]] + Self.demoSetup {
            let result = try runProcess(RunningServer.imprint, command + ["--inventory", inventory])
            try #require(result.status == 0, "\(result.error)")
        }
        _ = try folder.write("\(URL(fileURLWithPath: root).lastPathComponent)/etc/imprint/server", server.url + "\n")
        return (root, inventory)
    }

    func run(_ arguments: [String]) throws -> ProcessResult { try runProcess(RunningServer.imprint, arguments) }

    /// Reports made while the server is down wait in the queue (exit 69, nothing lost); once it runs and a window
    /// is open, the unit gets its token (0600) and both runs reach the history in the order they were made.
    @Test func queuedReportsArriveInOrder() throws {
        let folder = try TemporaryDirectory()
        let server = try RunningServer(setup: Self.demoSetup)
        let (root, inventory) = try unitRoot(folder, server: server)

        let first = try run(["run", "--root", root, "--facts", facts, "--inventory", inventory, "--source", "boot"])
        #expect(first.status == 0, "\(first.error)")
        let second = try run(["run", "--root", root, "--facts", facts, "--inventory", inventory, "--source", "boot"])
        #expect(second.status == 0, "\(second.error)")
        let queue = root + "/var/lib/imprint/reports"
        let queued = try FileManager.default.contentsOfDirectory(atPath: queue).sorted()
        #expect(queued == ["0000000001.json", "0000000002.json"])
        #expect((try FileManager.default.attributesOfItem(atPath: queue + "/0000000001.json")[.posixPermissions] as? Int) == 0o600)

        server.stop()
        let unreachable = try run(["report", "--root", root, "--facts", facts])
        #expect(unreachable.status == 69, "\(unreachable.output)\(unreachable.error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: queue).sorted() == queued)

        try server.start()
        // No window: the server gives no token, and the reports wait.
        let noWindow = try run(["report", "--root", root, "--facts", facts])
        #expect(noWindow.status == 30, "\(noWindow.output)\(noWindow.error)")
        #expect(noWindow.error.contains("2 reports kept for later"))
        #expect(!FileManager.default.fileExists(atPath: root + "/var/lib/imprint/server-token"))

        try openWindow(server, group: "RM204", actions: ["personalize"])
        let sent = try run(["report", "--root", root, "--facts", facts, "--json"])
        #expect(sent.status == 0, "\(sent.output)\(sent.error)")
        let view = try #require(try JSONSerialization.jsonObject(with: Data(sent.output.utf8)) as? [String: Any])
        #expect(view["sent"] as? [String] == ["0000000001.json", "0000000002.json"])
        #expect(view["left"] as? [String] == [])
        #expect(view["unit"] as? String == "RM204-07")
        #expect(view["stopped"] is NSNull)
        // README's JSON table documents exactly these.
        #expect(Set(view.keys) == ["server", "unit", "sent", "left", "refused", "stopped"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: queue).filter { $0.hasSuffix(".json") }.isEmpty)
        let token = root + "/var/lib/imprint/server-token"
        #expect((try FileManager.default.attributesOfItem(atPath: token)[.posixPermissions] as? Int) == 0o600)

        let history = try run(["inventory", "history", "RM204-07", "--json", "--inventory", server.inventory])
        let applied = try #require(history.output.range(of: "\"applied\""))
        let unchanged = try #require(history.output.range(of: "\"unchanged\""))
        #expect(applied.lowerBound < unchanged.lowerBound, "\(history.output)")
        let fleet = try JSONDecoder.server.decode([FleetRow].self, from: try server.admin("GET", ServerAPI.fleetPath + "?group=RM204").body)
        #expect(fleet.first { $0.unit == "RM204-07" }?.state == .personalized)

        // The next run's report goes with the token the unit now has, no window needed.
        try #require(try server.admin("DELETE", ServerAPI.windowPath(group: "RM204")).status == 204)
        #expect(try run(["run", "--root", root, "--facts", facts, "--inventory", inventory, "--force"]).status == 0)
        let later = try run(["report", "--root", root, "--facts", facts])
        #expect(later.status == 0, "\(later.error)")
        #expect(later.output.contains("sent 1 report of RM204-07"))
    }

    /// A unit whose token the server no longer takes keeps its reports (exit 77) until the admin arms it again; a
    /// root with no server address is told how to get one.
    @Test func refusedTokenKeepsTheReports() throws {
        let folder = try TemporaryDirectory()
        let server = try RunningServer(setup: Self.demoSetup)
        let (root, inventory) = try unitRoot(folder, server: server)
        try openWindow(server, group: "RM204", actions: ["personalize"])
        #expect(try run(["run", "--root", root, "--facts", facts, "--inventory", inventory]).status == 0)
        #expect(try run(["report", "--root", root, "--facts", facts]).status == 0)

        #expect(try server.admin("POST", ServerAPI.unitActionPath(unit: "RM204-07", action: .arm)).status == 204)
        #expect(try run(["run", "--root", root, "--facts", facts, "--inventory", inventory, "--force"]).status == 0)
        let refused = try run(["report", "--root", root, "--facts", facts])
        #expect(refused.status == 77, "\(refused.output)\(refused.error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/var/lib/imprint/reports").filter { $0.hasSuffix(".json") }.count == 1)

        let bare = try folder.copyFixture("roots/rm204-master", as: "bare")
        let none = try run(["report", "--root", bare, "--facts", facts])
        #expect(none.status == 66)
        #expect(none.error.contains("imprint install --server URL"))
    }
}

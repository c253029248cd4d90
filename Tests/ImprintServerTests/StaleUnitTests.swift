import Foundation
@testable import ImprintRemote
@testable import ImprintServer
import ImprintInventory
import ImprintTestSupport
import ImprintWire
import Testing

/// A unit that stops without a word (power lost mid-restore: its token was in memory) is armed anew when it asks
/// again after the silence the fleet page calls stale; before that, a second asker is a conflict. Decided by the
/// server's own Deployment over a real inventory, with a clock the test moves.
@Suite struct StaleUnitTests {
    struct Site {
        let folder: TemporaryDirectory
        let clock = HandClock()
        let deployment: Deployment
        let inventory: Inventory

        init() throws {
            folder = try TemporaryDirectory("stale-unit")
            let path = folder.file("inventory.db")
            for command in [["inventory", "init"], ["inventory", "group", "add", "lab"],
                            ["inventory", "add", "LAB-SEAT1", "--group", "lab", "--serial", "SEAT1SERIAL"]] {
                let result = try runProcess(RunningServer.imprint, command + ["--inventory", path])
                try #require(result.status == 0, "\(result.error)")
            }
            let clock = self.clock
            inventory = try Inventory(path: path, clock: { clock.now })
            try FileManager.default.createDirectory(atPath: folder.file("library"), withIntermediateDirectories: true)
            deployment = Deployment(store: inventory, images: ImageShelf(folder: folder.file("library")), clock: { clock.now })
            _ = try inventory.openWindow(WindowRequest(group: "lab", actions: [.personalize], minutes: 240), by: "test", now: clock.now)
        }

        /// Asks as the machine with the seat's serial, unsigned (a machine that holds no token).
        func ask() async throws -> IdentifyAnswer {
            let body = Data(HardwareFactsJSON(serial: "SEAT1SERIAL").utf8)
            let request = try JSONDecoder.server.decode(IdentifyRequest.self, from: body)
            return try await deployment.identify(request, signature: nil, body: body, path: ServerAPI.identifyPath, address: "192.0.2.7")
        }

        func report(_ event: String) throws {
            let report = try JSONDecoder.server.decode(
                UnitReport.self, from: Data(#"{"event":"\#(event)","percent":40,"time":"2026-12-01T10:00:00Z"}"#.utf8))
            try inventory.record(report, unit: "LAB-SEAT1", source: "test", now: clock.now)
        }
    }

    @Test func aSilentUnitIsArmedAgain() async throws {
        let site = try Site()
        let first = try await site.ask()
        let token = try #require(first.token)

        // Progress after 20 minutes keeps it live: 25 minutes after that, a second asker is still a conflict.
        site.clock.advance(20 * 60)
        try site.report("restoring")
        site.clock.advance(25 * 60)
        let early = try await site.ask()
        #expect(early.action == .nothing && early.token == nil && early.reason?.contains("already armed") == true)

        // Silent for 31 minutes since that report: the machine asking is armed anew, with a new token.
        site.clock.advance(6 * 60)
        let again = try await site.ask()
        #expect(again.action == .personalize && again.unit == "LAB-SEAT1")
        let second = try #require(again.token)
        #expect(second != token)
        #expect(try site.inventory.keyDigest(ofUnit: "LAB-SEAT1") == RequestSignature.tokenDigest(second))
        let armed = try site.inventory.auditLog(limit: 10).filter { $0.event == "armed" }
        #expect(armed.count == 2)
        #expect(armed.contains { $0.detail.contains("again: silent for 31 minutes") }, "\(armed)")

        // Armed anew, it is fresh: a third asker right after is a conflict again, and the fleet page says armed.
        site.clock.advance(60)
        #expect(try await site.ask().token == nil)
        #expect(try site.inventory.fleet(group: "lab", now: site.clock.now).first?.state == .armed)
    }

    /// A live restore is never silent for the stale time: it reports every tenth, and on a link too slow for a tenth
    /// in five minutes it reports anyway, so no second machine can be armed in its place.
    @Test func aLiveRestoreReportsBeforeItTurnsStale() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(ServerRestore.heartbeat * 2 <= DeployedUnit.staleAfter)
        #expect(ServerRestore.reportsProgress(10, at: start + 1, after: (0, start)))
        #expect(!ServerRestore.reportsProgress(9, at: start + 299, after: (0, start)))
        #expect(ServerRestore.reportsProgress(9, at: start + 300, after: (0, start)))
        #expect(ServerRestore.reportsProgress(3, at: start + 300, after: (3, start)))
    }

    /// A unit that finished (personalized) is not in progress: however long it stays silent, a second machine
    /// asking with its facts in the same window gets nothing.
    @Test func aFinishedUnitIsNeverArmedBySilence() async throws {
        let site = try Site()
        #expect(try await site.ask().token != nil)
        site.clock.advance(60)
        try site.report("applied")
        site.clock.advance(120 * 60)
        let later = try await site.ask()
        #expect(later.token == nil && later.action == .nothing)
    }
}

import Foundation
import ImprintCore
import ImprintInventory
import ImprintTestSupport
import ImprintWire
import Testing

/// The inventory as the deployment server's store, driven through the `DeploymentStore` protocol only.
@Suite struct DeploymentStoreTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func demo(_ folder: TemporaryDirectory) throws -> any DeploymentStore { try demoInventory(folder) }

    /// A window is open from its opening until it expires or is closed, and opening another for the group replaces it.
    @Test func windowsExpireAndReplaceEachOther() throws {
        let folder = try TemporaryDirectory()
        let store = try demo(folder)
        let first = try store.openWindow(WindowRequest(group: "RM204", actions: [.restore], minutes: 60), by: "test", now: start)
        #expect(try store.openWindows(now: start.addingTimeInterval(59 * 60)).map(\.id) == [first.id])
        #expect(try store.openWindows(now: start.addingTimeInterval(61 * 60)).isEmpty)
        let second = try store.openWindow(WindowRequest(group: "RM204", actions: [.personalize], minutes: 30), by: "test", now: start.addingTimeInterval(60))
        #expect(try store.openWindows(now: start.addingTimeInterval(120)).map(\.id) == [second.id])
        #expect(try store.closeWindow(group: "RM204", by: "test", now: start.addingTimeInterval(180)))
        #expect(try store.openWindows(now: start.addingTimeInterval(181)).isEmpty)
        #expect(try !store.closeWindow(group: "RM204", by: "test", now: start.addingTimeInterval(182)))
        let events = try store.auditLog(limit: 10).map(\.event)
        #expect(events == ["window closed", "window opened", "window opened"])
    }

    /// Enrolment counts against the window and stops at its maximum, in the same transaction as the new unit.
    @Test func enrolmentStopsAtTheWindowsMaximum() throws {
        let folder = try TemporaryDirectory()
        let store = try demo(folder)
        let window = try store.openWindow(
            WindowRequest(group: "RM204", actions: [.enrol], minutes: 60, maximumNewUnits: 1), by: "test", now: start)
        let enrolled = try store.enrol(HardwareFacts(serial: "BRANDNEW1"), window: window)
        #expect(enrolled.profile.group == "RM204")
        #expect(try store.lookUp(HardwareFacts(serial: "BRANDNEW1")) == .unit(enrolled))
        #expect(throws: InventoryError.self) { try store.enrol(HardwareFacts(serial: "BRANDNEW2"), window: window) }
        #expect(try store.lookUp(HardwareFacts(serial: "BRANDNEW2")) == .unknown)
        #expect(try store.openWindows(now: start).first?.enrolled == 1)
    }

    /// A unit's state follows its reports; armed or restoring and silent for over half an hour, it shows as stale.
    @Test func fleetStateFollowsReports() throws {
        let folder = try TemporaryDirectory()
        let store = try demo(folder)
        let window = try store.openWindow(WindowRequest(group: "RM204", actions: [.restore], minutes: 60), by: "test", now: start)
        try store.arm(unit: "RM204-07", window: window.id, keyDigest: Data(repeating: 7, count: 32), now: start)
        func state(_ unit: String, at time: Date) throws -> UnitState? {
            try store.fleet(group: "RM204", now: time).first { $0.unit == unit }?.state
        }
        #expect(try state("RM204-07", at: start) == .armed)
        #expect(try state("RM204-08", at: start) == .idle)
        #expect(try state("RM204-07", at: start.addingTimeInterval(31 * 60)) == .stale)
        try store.record(UnitReport(event: .restoring, percent: 40, time: start), unit: "RM204-07", source: "test", now: start.addingTimeInterval(30 * 60))
        #expect(try store.fleet(group: "RM204", now: start.addingTimeInterval(31 * 60)).first { $0.unit == "RM204-07" }?.percent == 40)
        #expect(try state("RM204-07", at: start.addingTimeInterval(31 * 60)) == .restoring)
        try store.record(UnitReport(event: .failed, message: "disk full", time: start), unit: "RM204-07", source: "test", now: start.addingTimeInterval(32 * 60))
        #expect(try state("RM204-07", at: start.addingTimeInterval(5 * 3600)) == .failed)
        #expect(try store.keyDigest(ofUnit: "RM204-07") == Data(repeating: 7, count: 32))
        try store.apply(.arm, unit: "RM204-07", window: nil)
        #expect(try store.keyDigest(ofUnit: "RM204-07") == nil)
    }
}

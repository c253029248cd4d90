import Foundation
import ImprintCore
import ImprintInventory
import ImprintTestSupport
import ImprintWire
import Testing

@Suite struct InventoryDeploymentTests {
    /// An armed unit not heard from for 30 minutes shows as stale; a report brings it back, with the image it names.
    @Test func silentArmedUnitsGoStale() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        try inventory.addGroup(try GroupDraft(name: "lab"))
        _ = try inventory.addUnit(try unit("LAB-01", [(.serial, "S1")], group: "lab"))
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let window = try inventory.openWindow(WindowRequest(group: "lab", actions: [.personalize], minutes: 480), by: "test", now: start)
        try inventory.arm(unit: "LAB-01", window: window.id, keyDigest: Data(count: 32), now: start)
        #expect(try inventory.fleet(group: "lab", now: start.addingTimeInterval(29 * 60)).first?.state == .armed)
        #expect(try inventory.fleet(group: "lab", now: start.addingTimeInterval(31 * 60)).first?.state == .stale)

        let later = start.addingTimeInterval(40 * 60)
        try inventory.record(UnitReport(event: .restoring, percent: 10, time: later), unit: "LAB-01", source: "test", now: later)
        #expect(try inventory.fleet(group: "lab", now: later).first?.state == .restoring)
        #expect(try inventory.fleet(group: "lab", now: later.addingTimeInterval(31 * 60)).first?.state == .stale)

        let identity = IdentityRecord(
            unit: "LAB-01", fqdn: "lab-01", revision: 1, matched: ["serial"], steps: [], machineID: nil, hostKeys: [],
            addresses: [], image: "bookworm.img", enrolledInto: nil, inventoryCopy: nil, agentVersion: "test", run: "r",
            time: later, result: "applied")
        try inventory.record(UnitReport(event: .applied, identity: identity, time: later), unit: "LAB-01", source: "test", now: later)
        try inventory.record(UnitReport(event: .restoring, percent: 5, time: later), unit: "LAB-01", source: "test", now: later)
        let row = try #require(try inventory.fleet(group: "lab", now: later).first)
        #expect(row.image == "bookworm.img")
    }

    /// A unit waiting for approval shows as pending; the group names include groups without units.
    @Test func pendingUnitsAndEmptyGroups() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        try inventory.addGroup(try GroupDraft(name: "lab"))
        try inventory.addGroup(try GroupDraft(name: "empty"))
        _ = try inventory.addUnit(try unit("LAB-01", [(.serial, "S1")], group: "lab"))
        try inventory.markPending(unit: "LAB-01")
        #expect(try inventory.fleet(group: "lab", now: Date()).first?.state == .pending)
        #expect(try inventory.groupNames() == ["empty", "lab"])
    }
}

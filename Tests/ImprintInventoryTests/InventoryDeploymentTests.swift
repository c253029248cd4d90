import Foundation
import ImprintCore
import ImprintInventory
import ImprintTestSupport
import ImprintWire
import Testing

@Suite struct InventoryDeploymentTests {
    /// The fleet's image is the one the unit's last identity line named; a progress report, which names none, keeps it.
    @Test func theReportedImageStays() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        try inventory.addGroup(try GroupDraft(name: "lab"))
        _ = try inventory.addUnit(try unit("LAB-01", [(.serial, "S1")], group: "lab"))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let identity = IdentityRecord(
            unit: "LAB-01", fqdn: "lab-01", revision: 1, matched: ["serial"], steps: [], machineID: nil, hostKeys: [],
            addresses: [], image: "bookworm.img", enrolledInto: nil, inventoryCopy: nil, agentVersion: "test", run: "r",
            time: now, result: "applied")
        try inventory.record(UnitReport(event: .applied, identity: identity, time: now), unit: "LAB-01", source: "test", now: now)
        try inventory.record(UnitReport(event: .restoring, percent: 5, time: now), unit: "LAB-01", source: "test", now: now)
        let row = try #require(try inventory.fleet(group: "lab", now: now).first)
        #expect(row.image == "bookworm.img" && row.state == .restoring)
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

    /// A unit's group by its hostname or an identifier; none for a unit in no group; an unknown unit is an error.
    @Test func aUnitsGroup() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        try inventory.addGroup(try GroupDraft(name: "lab"))
        _ = try inventory.addUnit(try unit("LAB-01", [(.serial, "S1")], group: "lab"))
        _ = try inventory.addUnit(try unit("LONER", [(.serial, "S2")], group: nil))
        let store: any DeploymentStore = inventory
        #expect(try store.group(ofUnit: "lab-01") == "lab")
        #expect(try store.group(ofUnit: "S1") == "lab")
        #expect(try store.group(ofUnit: "LONER") == nil)
        #expect(throws: InventoryError.self) { try store.group(ofUnit: "NOBODY") }
    }
}

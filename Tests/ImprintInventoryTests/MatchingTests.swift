import Foundation
import ImprintCore
import ImprintInventory
import ImprintTestSupport
import Testing

@Suite struct MatchingTests {
    /// A unit is found by any of its identifiers; the others in the facts are reported as unrecorded.
    @Test func found() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let facts = HardwareFacts(
            serial: "7XK07QF9", interfaces: [NetworkInterfaceFact(name: "eno2", mac: "3c:52:82:ff:00:01")])
        let match = try inventory.match(facts)
        #expect(match.unit.draft.hostname.value == "RM204-07")
        #expect(match.matched == [try Identifier(.serial, "7XK07QF9")])
        #expect(match.unrecorded == [try Identifier(.mac, "3c:52:82:ff:00:01")])
    }

    /// Identifiers leading to two units are a conflict naming both units and their identifiers.
    @Test func conflict() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let facts = HardwareFacts(serial: "7XK07QF9", interfaces: [NetworkInterfaceFact(name: "eno1", mac: "3c:52:82:20:04:08")])
        #expect {
            try inventory.match(facts)
        } throws: { error in
            guard case .conflict(let owners) = error as? InventoryError else { return false }
            return owners.keys.sorted() == ["RM204-07", "RM204-08"]
                && String(describing: error).contains("serial 7XK07QF9")
                && String(describing: error).contains("MAC 3c:52:82:20:04:08")
        }
    }

    /// No match lists the facts and the command that would add the unit.
    @Test func notFound() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        #expect {
            try inventory.match(HardwareFacts(serial: "NOPE1", interfaces: [NetworkInterfaceFact(name: "eno1", mac: "3c:52:82:ff:ff:01")]))
        } throws: { error in
            String(describing: error).contains("imprint inventory add HOSTNAME --serial NOPE1 --mac 3c:52:82:ff:ff:01")
        }
    }

    /// Placeholders never match, even when the inventory somehow holds the same text as a MAC-less unit's serial.
    @Test func placeholdersOnly() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let facts = HardwareFacts(serial: "To be filled by O.E.M.", uuid: "00000000-0000-0000-0000-000000000000", assetTag: "Default string")
        #expect {
            try inventory.match(facts)
        } throws: { error in
            guard case .noUsableIdentifiers(let ignored) = error as? InventoryError else { return false }
            return ignored.count == 3
        }
    }

    /// A UUID exported as 32 hex digits without dashes is stored in the dashed lowercase form, and facts in either
    /// spelling find the unit.
    @Test func uuidWithoutDashes() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        _ = try inventory.importCSV("hostname,uuid\nlab-01,AbCd4544004235108052B4C04F4E3732\n", file: "x.csv")
        let canonical = "abcd4544-0042-3510-8052-b4c04f4e3732"
        #expect(try inventory.unit("lab-01").draft.identifiers == [try Identifier(.uuid, canonical)])
        #expect(try inventory.exportCSV(.units).contains(",\(canonical),"))
        for spelling in ["ABCD4544-0042-3510-8052-B4C04F4E3732", "abcd4544004235108052b4c04f4e3732"] {
            let match = try inventory.match(HardwareFacts(uuid: spelling))
            #expect(match.unit.draft.hostname.value == "lab-01")
            #expect(match.matched == [try Identifier(.uuid, canonical)])
            #expect(try inventory.unit(spelling).draft.hostname.value == "lab-01")
        }
    }

    /// A USB dock's MAC, shared by the laptops that use the dock, is ignored: each laptop is found by its own
    /// identifiers even though the dock MAC is recorded on one of them.
    @Test func dockMACIgnored() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        try inventory.addUnit(try unit("cart-01", [(.serial, "5CG2201ABC"), (.mac, "00:e0:4c:68:01:02")]))
        try inventory.addUnit(try unit("cart-02", [(.serial, "5CG2201ABD")]))
        let dock = NetworkInterfaceFact(name: "enx00e04c680102", mac: "00:e0:4c:68:01:02", bus: "usb", removable: true)
        let second = try inventory.match(HardwareFacts(serial: "5CG2201ABD", interfaces: [dock]))
        #expect(second.unit.draft.hostname.value == "cart-02")
        #expect(second.ignored.contains { $0.value == "00:e0:4c:68:01:02" })
    }
}

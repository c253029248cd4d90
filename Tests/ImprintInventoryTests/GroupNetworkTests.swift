import Foundation
import ImprintCore
import ImprintInventory
import ImprintTestSupport
import Testing

/// A group's network document: written once for the room, rendered with each unit's own values.
@Suite struct GroupNetworkTests {
    /// The room's VLAN on the card the unit's MAC names, each unit's address from its own record.
    static var roomDocument: String { get throws { try fixtureText("demo/room-network.yaml") } }

    static func setDocument(_ inventory: Inventory, _ text: String?) throws {
        var changes = GroupChanges()
        changes.netplan = text.map { .set($0) } ?? .clear
        try inventory.updateGroup("RM204", changes)
    }

    /// Every unit of the group without a document of its own gets the group's, rendered with its MAC and address (and
    /// a new revision); one with its own keeps it; clearing the group's gives the units their own cards again.
    @Test func eachUnitGetsTheDocumentWithItsOwnValues() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let before = try inventory.unit("RM204-07").revision
        let own = """
            network:
              version: 2
              ethernets:
                eth0:
                  match: {macaddress: "3c:52:82:20:04:08"}
                  dhcp4: true
            """
        _ = try inventory.updateUnit("RM204-08", { var changes = UnitChanges(); changes.netplan = .set(own); return changes }())
        try Self.setDocument(inventory, Self.roomDocument)

        let seven = try inventory.unit("RM204-07")
        #expect(seven.revision == before + 1)
        let rendered = try #require(seven.profile.netplan)
        #expect(rendered.contains(#"macaddress: "3c:52:82:20:04:07""#) && rendered.contains(#"addresses: ["10.20.4.107/24"]"#), "\(rendered)")
        let vlan = try #require(seven.profile.interfaces.first { $0.virtual != nil })
        #expect(vlan.addresses.map(\.description) == ["10.20.4.107/24"])
        #expect(vlan.dns.map(\.value) == ["10.20.0.53", "10.20.0.54"], "the group's DNS fills the rendered cards as any other")
        #expect(try inventory.unit("RM204-12").profile.netplan?.contains("10.20.4.112/24") == true)
        #expect(try inventory.unit("RM204-08").profile.netplan == own)
        // The unit's record itself is unchanged: its card and address are what the document is rendered with.
        #expect(seven.draft.netplan == nil && seven.draft.interfaces.first?.addresses.map(\.description) == ["10.20.4.107/24"])

        try Self.setDocument(inventory, nil)
        let cleared = try inventory.unit("RM204-07")
        #expect(cleared.profile.netplan == nil)
        #expect(cleared.profile.interfaces.flatMap(\.addresses).map(\.description) == ["10.20.4.107/24"])
        #expect(try inventory.group("RM204").draft.netplan == nil)
    }

    /// A unit's card without IPv4 (DHCPv6 only) takes the group's search domains and IPv6 DNS servers but not its
    /// IPv4 ones, which NetworkManager would refuse there; a card with IPv4 takes them all.
    @Test func aCardWithoutIPv4TakesTheGroupsIPv6ServersOnly() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        var changes = GroupChanges()
        changes.dns = [try IPAddress("10.20.0.53"), try IPAddress("2001:db8::53")]
        try inventory.updateGroup("RM204", changes)
        let own = """
            network:
              version: 2
              ethernets:
                lan:
                  match: {macaddress: "3c:52:82:20:04:08"}
                  dhcp6: true
            """
        _ = try inventory.updateUnit("RM204-08", { var changes = UnitChanges(); changes.netplan = .set(own); return changes }())
        let card = try #require(try inventory.unit("RM204-08").profile.interfaces.first)
        #expect(card.dns.map(\.value) == ["2001:db8::53"])
        #expect(!card.search.isEmpty, "the group's search domains")
        #expect(try inventory.unit("RM204-07").profile.interfaces.first?.dns.map(\.value) == ["10.20.0.53", "2001:db8::53"])
    }

    /// A document that does not fit is refused when it is set, naming what and for which unit, and nothing changes:
    /// a name that is no value (with the closest one), a unit that lacks a value it needs, and an address written
    /// into the document that every unit would get. A unit that joins the group without the values is refused too.
    @Test func aDocumentThatDoesNotFitIsRefused() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        try Self.setDocument(inventory, Self.roomDocument)
        let revision = try inventory.unit("RM204-07").revision

        func refusal(_ text: String) throws -> String {
            do {
                try Self.setDocument(inventory, text)
            } catch {
                return "\(error)"
            }
            Issue.record("the document was accepted:\n\(text)")
            return ""
        }
        let typo = try refusal(Self.roomDocument.replacingOccurrences(of: "{{address}}", with: "{{adress}}"))
        #expect(typo.contains("adress") && typo.contains("the closest is 'address'"), "\(typo)")
        let fixed = try refusal(Self.roomDocument.replacingOccurrences(of: "{{address}}", with: "10.20.4.50"))
        #expect(fixed.contains("10.20.4.50") && fixed.contains("RM204-01") && fixed.contains("RM204-02"), "\(fixed)")
        let broken = try refusal(Self.roomDocument.replacingOccurrences(of: "id: 40", with: "id: 5000"))
        #expect(broken.contains("RM204-01") && broken.contains("5000"), "\(broken)")
        #expect(try inventory.group("RM204").draft.netplan == Self.roomDocument)
        #expect(try inventory.unit("RM204-07").revision == revision)

        var bare = try UnitDraft(hostname: Hostname("RM204-31"), group: "RM204", identifiers: [Identifier(.mac, "3c:52:82:20:04:31")])
        #expect {
            try inventory.addUnit(bare)
        } throws: { error in
            "\(error)".contains("unit RM204-31 has no address") && "\(error)".contains("--ipv4")
        }
        bare.interfaces = [try InterfaceConfig(mac: MACAddress("3c:52:82:20:04:31"), addresses: [IPPrefix("10.20.4.131/24")])]
        #expect(try inventory.addUnit(bare).profile.netplan?.contains("10.20.4.131/24") == true)
    }
}

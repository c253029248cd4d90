import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintInventory
import ImprintTestSupport
import Testing

@Suite struct GroupNetworkStackTests {
    /// The demo room's network written once as a group document (a VLAN on the card the unit's MAC names, routed
    /// through the room's gateway, each unit's address from its CSV row): for two units, every stack plans files its
    /// real tool accepts with that unit's address and MAC in them (ifupdown makes `lan0.40` itself, from its name).
    @Test func aRoomDocumentRendersForEveryStack() throws {
        let folder = try TemporaryDirectory()
        let inventory = try Inventory.create(path: folder.file("inventory.db"))
        for name in ["printers", "groups", "units"] {
            _ = try inventory.importCSV(try fixtureText("demo/\(name).csv"), file: "\(name).csv")
        }
        var changes = GroupChanges()
        changes.netplan = .set(try fixtureText("demo/room-network.yaml"))
        try inventory.updateGroup("RM204", changes)
        for (unit, address, mac) in [("RM204-07", "10.20.4.107/24", "3c:52:82:20:04:07"), ("RM204-12", "10.20.4.112/24", "3c:52:82:20:04:0c")] {
            for stack in NetworkStack.allCases {
                var profile = try inventory.unit(unit).profile
                profile.networkStack = stack
                let output = try TemporaryDirectory("group-network")
                let files = try ExampleCases.plannedFiles(profile, into: output)
                let text = files.map(\.text).joined(separator: "\n")
                // ifcfg writes the address apart from its prefix (IPADDR0=, PREFIX0=).
                #expect(text.contains(stack == .ifcfg ? String(address.prefix { $0 != "/" }) : address), "\(unit) \(stack.rawValue): its address\n\(text)")
                #expect(text.lowercased().contains(mac), "\(unit) \(stack.rawValue): its MAC\n\(text)")
                let complaints = try ExampleCases.complaints(stack, files: files, folder: output)
                #expect(complaints == [], "\(unit) \(stack.rawValue): \(complaints)\n\(text)")
            }
        }
    }
}

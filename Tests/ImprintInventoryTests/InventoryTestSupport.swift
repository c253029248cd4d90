import Foundation
import ImprintCore
import ImprintInventory
import ImprintTestSupport

/// A fresh inventory in a temporary folder, with a clock tests can read.
func makeInventory(_ folder: TemporaryDirectory) throws -> Inventory {
    try Inventory.create(path: folder.file("inventory.db"))
}

/// An inventory holding the demo room: two printers, group RM204 and its 30 units.
func demoInventory(_ folder: TemporaryDirectory) throws -> Inventory {
    let inventory = try makeInventory(folder)
    for name in ["printers", "groups", "units"] {
        _ = try inventory.importCSV(try fixtureText("demo/\(name).csv"), file: "\(name).csv")
    }
    return inventory
}

func unit(_ hostname: String, _ identifiers: [(IdentifierKind, String)] = [], group: String? = nil) throws -> UnitDraft {
    UnitDraft(
        hostname: try Hostname(hostname), group: group,
        identifiers: try identifiers.map { kind, value in try Identifier(kind, value) })
}

/// A unit with one card, of MAC `mac`, that has these static addresses.
func unit(_ hostname: String, mac: String, addresses: [String]) throws -> UnitDraft {
    var draft = try unit(hostname)
    draft.interfaces = [try InterfaceConfig(mac: MACAddress(mac), addresses: addresses.map { text in try IPPrefix(text) })]
    return draft
}

import ArgumentParser
import ImprintInventory

struct InventoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Manage the unit inventory: units, groups, printers, CSV import and export, naming.",
        discussion: """
            The inventory is a SQLite file (default \(Inventory.defaultPath), or --inventory, or \
            $IMPRINT_INVENTORY), created mode 0600 because it may hold Wi-Fi passphrases. A UNIT argument is a \
            hostname or any of the unit's identifiers (serial, UUID, asset tag, MAC).

            \(ExitStatus.helpTable)
            """,
        subcommands: [
            InventoryInit.self, InventoryAdd.self, InventorySet.self, InventoryRemove.self, InventoryShow.self,
            InventoryList.self, InventoryImport.self, InventoryExport.self, InventoryName.self, InventoryHistory.self,
            GroupCommand.self, PrinterCommand.self, FieldCommand.self, FileCommand.self, AccountCommand.self, HookCommand.self,
        ])
}

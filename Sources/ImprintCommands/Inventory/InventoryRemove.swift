import ArgumentParser
import ImprintInventory

struct InventoryRemove: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove units; their history stays under the hostname they had.")

    @Argument(help: "Units: hostnames or identifiers.") var units: [String]
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if units.isEmpty { throw ValidationError("name at least one unit to remove") }
    }

    func run(_ context: CommandContext) throws {
        let inventory = try global.openInventory(context)
        for unit in units {
            let hostname = try inventory.unit(unit).draft.hostname
            try inventory.removeUnit(unit)
            context.print("removed \(hostname)")
        }
    }
}

import ArgumentParser
import ImprintInventory

struct InventoryInit: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create the inventory (mode 0600), or bring an existing one's schema up to date.")

    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let inventory = try Inventory.create(path: global.inventoryPath(context), clock: context.clock)
        context.print("inventory ready at \(inventory.path)")
    }
}

import ArgumentParser
import ImprintInventory

struct InventoryShow: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a unit: its record, and what it inherits from its group.")

    @Argument(help: "The unit: hostname or identifier.") var unit: String
    @Flag(help: "Print JSON (Wi-Fi passphrases masked).") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let record = try global.openInventory(context, readOnly: true).unit(unit)
        if json { try context.printJSON(UnitView(record)) } else { context.print(Render.unit(record)) }
    }
}

import ArgumentParser
import ImprintInventory

struct PrinterRemove: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a queue no group or unit uses.")

    @Argument(help: "The queue name.") var name: String
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        try global.openInventory(context).removePrinter(name)
        context.print("removed printer \(name)")
    }
}

import ArgumentParser
import ImprintInventory

struct PrinterList: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the print queues.")

    @Flag(help: "Print JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let printers = try global.openInventory(context, readOnly: true).printers()
        if json {
            try context.printJSON(printers.map(PrinterView.init))
            return
        }
        context.print(Render.table(
            ["PRINTER", "URI", "DRIVER", "LOCATION"],
            printers.map { [$0.name.value, $0.deviceURI.value, $0.driver.description, $0.location ?? "-"] }))
    }
}

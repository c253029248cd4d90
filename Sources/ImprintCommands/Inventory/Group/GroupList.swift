import ArgumentParser
import ImprintInventory

struct GroupList: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the groups.")

    @Flag(help: "Print JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let views = try global.openInventory(context, readOnly: true).groups().map(GroupView.init)
        if json {
            try context.printJSON(views)
            return
        }
        context.print(Render.table(
            ["GROUP", "UNITS", "DOMAIN", "NETWORK", "PATTERN", "PRINTERS"],
            views.map { [$0.name, String($0.units), $0.domain ?? "-", $0.networkMode, $0.namingPattern ?? "-",
                         $0.printers.isEmpty ? "-" : $0.printers.joined(separator: " ")] }))
    }
}

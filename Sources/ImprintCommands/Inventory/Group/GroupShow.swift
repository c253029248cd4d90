import ArgumentParser
import ImprintInventory

struct GroupShow: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a group's settings.")

    @Argument(help: "The group's name.") var name: String
    @Flag(help: "Print JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let view = GroupView(try global.openInventory(context, readOnly: true).group(name))
        if json {
            try context.printJSON(view)
            return
        }
        let document = view.networkDocument.map { text in
            text == "********" ? "set (it holds a secret)" : "\n" + text.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
        }
        context.print("""
            group \(view.name) (\(view.units) units)
              domain          \(view.domain ?? "-")
              dns             \(view.dns.isEmpty ? "-" : view.dns.joined(separator: " "))
              search          \(view.search.isEmpty ? "-" : view.search.joined(separator: " "))
              network         \(view.networkMode), stack \(view.networkStack ?? "detected from the image")
              naming pattern  \(view.namingPattern ?? "-")\(view.enroll ? " (unknown units may enrol)" : "")
              printers        \(view.printers.isEmpty ? "-" : view.printers.joined(separator: " "))
              default printer \(view.defaultPrinter ?? "-")
              network doc     \(document ?? "-")
            """)
    }
}

import ArgumentParser
import ImprintCore
import ImprintInventory

struct GroupSet: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change a group; each of its units gets a new revision.",
        discussion: "An empty value clears a setting: --domain ''. --dns and --search replace the lists.")

    @Argument(help: "The group's name.") var name: String
    @Option(help: "Rename the group.") var rename: String?
    @OptionGroup var settings: GroupOptions
    @Option(name: .customLong("remove-printer"), help: "Drop a queue from the group.") var removePrinters: [String] = []
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        var changes = try settings.changes()
        changes.name = rename
        changes.removePrinters = try removePrinters.map { text throws(CoreError) in try PrinterName(text) }
        try global.openInventory(context).updateGroup(name, changes)
        context.print("changed group \(rename ?? name)")
    }
}

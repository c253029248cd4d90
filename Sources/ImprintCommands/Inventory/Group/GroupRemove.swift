import ArgumentParser
import ImprintInventory

struct GroupRemove: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a group that has no units.")

    @Argument(help: "The group's name.") var name: String
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        try global.openInventory(context).removeGroup(name)
        context.print("removed group \(name)")
    }
}

import ArgumentParser
import ImprintCore
import ImprintInventory

struct GroupAdd: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a group.")

    @Argument(help: "The group's name.") var name: String
    @OptionGroup var settings: GroupOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        do { _ = try settings.changes().applied(to: try GroupDraft(name: name)) } catch let error as CoreError {
            throw ValidationError(error.description)
        }
    }

    func run(_ context: CommandContext) throws {
        let draft = try settings.changes().applied(to: try GroupDraft(name: name))
        try global.openInventory(context).addGroup(draft)
        context.print("added group \(draft.name)")
    }
}

import ArgumentParser
import ImprintImage

struct LibraryRemoveCommand: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Delete an image from the library.")
    @Argument(help: ArgumentHelp("The image's name in the library.", valueName: "name")) var name: String
    @OptionGroup var options: LibraryOptions
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        try Library.remove(name, from: options.library)
        context.print("removed \(name)")
    }
}

import ArgumentParser
import ImprintImage

struct LibraryAddCommand: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Verify an image and copy it into the library.")
    @Argument(help: ArgumentHelp("The image file.", valueName: "image")) var image: String
    @Option(help: "The name in the library (default: the file's name).") var name: String?
    @OptionGroup var options: LibraryOptions
    @OptionGroup var passphrase: PassphraseOptions
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let added = try Library.add(image, to: options.library, name: name, passphrase: passphrase.provider())
        context.print("added \(added.name) (\(added.manifest.models.joined(separator: ", ")), \(megabytes(added.bytes)))")
    }
}

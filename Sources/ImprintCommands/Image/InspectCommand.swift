import ArgumentParser
import ImprintImage

struct InspectCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show an image's manifest: models, time, codec, totals, sizes and ratio.",
        discussion: """
            Reads the manifest at the start and the summary and block index at the end, without the data (from a \
            pipe, the whole image is read and checked).

            \(ExitStatus.helpTable)
            """)

    @Argument(help: ArgumentHelp("The image file, or - for standard input.", valueName: "image")) var image: String
    @Flag(help: "Print the manifest and totals as JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let description = try Restore.describe(image)
        let view = ImageView(manifest: description.manifest, summary: description.summary, imageBytes: description.imageBytes)
        if json {
            try context.printJSON(view)
        } else {
            context.print(view.text(title: image))
        }
    }
}

import ArgumentParser
import Foundation
import ImprintImage

struct LibraryListCommand: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the images with their models.")
    @OptionGroup var options: LibraryOptions
    @Flag(help: "Print JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    struct Row: Encodable {
        var name: String
        var models: [String]
        var created: Date
        var bytes: UInt64
    }

    func run(_ context: CommandContext) throws {
        let (images, unreadable) = try Library.list(options.library)
        if json {
            try context.printJSON(images.map { Row(name: $0.name, models: $0.manifest.models, created: $0.manifest.created, bytes: $0.bytes) })
        } else {
            let formatter = ISO8601DateFormatter()
            context.print(Render.table(
                ["IMAGE", "MODELS", "CREATED", "SIZE"],
                images.map { [$0.name, $0.manifest.models.joined(separator: ", "), formatter.string(from: $0.manifest.created), megabytes($0.bytes)] }))
        }
        for name in unreadable { context.warn("\(name) in the library is not an imprint image") }
    }
}

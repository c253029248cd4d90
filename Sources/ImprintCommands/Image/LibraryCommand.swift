import ArgumentParser
import Foundation
import ImprintImage

/// `--library DIR`, shared by the library subcommands.
struct LibraryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The library folder.", valueName: "dir")) var library: String
}

struct LibraryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "library",
        abstract: "Keep images in a folder, told apart by hardware model.",
        discussion: "'imprint restore --library DIR --root DIR' picks the newest image made for the unit's model.",
        subcommands: [LibraryListCommand.self, LibraryAddCommand.self, LibraryRemoveCommand.self, LibraryVerifyCommand.self])
}

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

struct LibraryVerifyCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Verify every image in the library.",
        discussion: "Exits 20 when any image is damaged or not an image; the others are still checked.")
    @OptionGroup var options: LibraryOptions
    @OptionGroup var passphrase: PassphraseOptions
    @Flag(help: "Print one result per image as JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    /// One image in `library verify --json`.
    struct Row: Encodable {
        var name: String
        var ok: Bool
        /// Why the image failed, or null.
        @Nullable var error: String?
    }

    func run(_ context: CommandContext) throws {
        let (images, unreadable) = try Library.list(options.library)
        var rows: [Row] = []
        for image in images {
            do {
                _ = try Restore.verify(try ImageInput(path: image.path), passphrase: passphrase.provider())
                rows.append(Row(name: image.name, ok: true, error: nil))
            } catch {
                rows.append(Row(name: image.name, ok: false, error: CommandFailure(error).message))
            }
        }
        rows += unreadable.map { Row(name: $0, ok: false, error: "not an imprint image") }
        let failures = rows.filter { !$0.ok }.map(\.name)
        if json {
            try context.printJSON(rows)
            // The rows say which failed; the status says that one did.
            if !failures.isEmpty { throw ExitCode(ExitStatus.imageDamaged.rawValue) }
            return
        }
        for row in rows { context.print("\(row.name): \(row.error ?? "ok")") }
        if !failures.isEmpty {
            throw CommandFailure(
                status: .imageDamaged, message: "\(failures.count) of \(rows.count) images failed: \(failures.joined(separator: ", "))")
        }
    }
}

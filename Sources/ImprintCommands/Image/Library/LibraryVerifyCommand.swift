import ArgumentParser
import ImprintImage

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

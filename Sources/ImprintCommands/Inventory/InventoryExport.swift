import ArgumentParser
import Foundation
import ImprintCore
import ImprintInventory

struct InventoryExport: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write units, groups or printers as CSV that 'import' reads back.",
        discussion: "The units file holds Wi-Fi passphrases in clear text; with -o it is created mode 0600.")

    @Option(help: "What to export: units, groups or printers.") var kind: String = "units"
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file (atomically) instead of standard output.", valueName: "file"))
    var output: String?
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if CSVKind(rawValue: kind) == nil { throw ValidationError("'--kind' must be units, groups or printers, not \(quoted(kind))") }
    }

    func run(_ context: CommandContext) throws {
        let csv = try global.openInventory(context, readOnly: true).exportCSV(CSVKind(rawValue: kind) ?? .units)
        if let output {
            // The host's own root: the same atomic replace the agent uses, with a private mode.
            try TargetRoot("/").write(URL(fileURLWithPath: output).path, Data(csv.utf8), metadata: FileMetadata(mode: 0o600))
        } else {
            context.output(csv)
        }
    }
}

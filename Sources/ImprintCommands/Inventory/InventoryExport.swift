import ArgumentParser
import Foundation
import ImprintCore
import ImprintInventory

struct InventoryExport: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write units, groups, printers, attached files, accounts or hooks as CSV that 'import' reads back.",
        discussion: """
            Secrets are written in clear text, so that the file imports back unchanged: Wi-Fi passphrases and \
            secret fields (units, groups), secret files' templates (files) and password hashes (accounts). With -o \
            the file is created mode 0600; keep it so.

            Examples:
              imprint inventory export --kind files -o files.csv
              imprint inventory export --kind accounts -o accounts.csv
            """)

    @Option(help: "What to export: \(InventoryExport.kindList).") var kind: String = "units"
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file (atomically, mode 0600) instead of standard output.", valueName: "file"))
    var output: String?
    @OptionGroup var global: GlobalOptions

    /// The kinds, as `--kind` takes them.
    static let kindList: String = {
        let names = CSVKind.allCases.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
    }()

    func validate() throws {
        if CSVKind(rawValue: kind) == nil { throw ValidationError("'--kind' must be \(Self.kindList), not \(quoted(kind))") }
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

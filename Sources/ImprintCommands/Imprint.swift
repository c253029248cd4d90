import ArgumentParser

/// The `imprint` command: gives each imaged computer its own identity.
public struct Imprint: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "imprint",
        abstract: "Give each imaged computer its own identity.",
        discussion: """
            Imprint keeps an inventory of units (hostnames, hardware identifiers, network and printers), reads a \
            unit's hardware facts, finds its record, and gives the unit its identity ('imprint run').

            \(ExitStatus.helpTable)
            """,
        version: imprintVersion,
        subcommands: [InventoryCommand.self, FactsCommand.self, IdentifyCommand.self, RunCommand.self, StatusCommand.self, RollbackCommand.self, InstallCommand.self]
    )

    public init() {}
}

/// The version printed by `--version` and recorded in identity logs.
public let imprintVersion = "0.1.0"

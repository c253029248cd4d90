import ArgumentParser

/// The `imprint` command: gives each imaged computer its own identity.
public struct Imprint: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "imprint",
        abstract: "Give each imaged computer its own identity.",
        discussion: """
            Imprint keeps an inventory of units (hostnames, hardware identifiers, network and printers), reads a \
            unit's hardware facts, finds its record, and gives the unit its identity ('imprint run'). It captures a \
            master's root into a compressed, checksummed image and restores it onto units of the same model \
            ('imprint capture', 'restore', 'verify', 'inspect', 'library').

            \(ExitStatus.helpTable)
            """,
        version: imprintVersion,
        subcommands: [
            InventoryCommand.self, FactsCommand.self, IdentifyCommand.self, RunCommand.self, StatusCommand.self, RollbackCommand.self,
            InstallCommand.self, ReportCommand.self, CaptureCommand.self, RestoreCommand.self, VerifyCommand.self, InspectCommand.self, PreflightCommand.self,
            LibraryCommand.self,
        ]
    )

    public init() {}
}

/// The version printed by `--version` and recorded in identity logs.
public let imprintVersion = "0.1.0"

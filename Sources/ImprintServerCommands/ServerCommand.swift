import ArgumentParser
import Foundation
import ImprintCore
import ImprintInventory
import ImprintServer
import ImprintWire
import Logging

/// `imprint-server`: the site's deployment server.
public struct ServerCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "imprint-server",
        abstract: "Serve a site's inventory and image library to its units over HTTP.",
        discussion: """
            Units ask the server who they are and what to do, download images and report each run. Facts only pick a \
            record: a unit gets an action, a token and its record's secrets only inside a deployment window that an \
            admin opened for its group.

            init and serve run on the server; window, unit and fleet are the admin's commands, which talk to a running \
            server over its admin API with the admin token (from any machine that has the token file).

            Exit codes: 0 success, 1 failure, 64 usage, 65 invalid input, 66 missing inventory or library (or token \
            file), 69 the server cannot be reached, 77 the admin token refused, 10 no such group or unit.
            """,
        subcommands: [InitCommand.self, ServeCommand.self, WindowCommand.self, UnitCommand.self, FleetCommand.self])

    public init() {}
}

/// Where the server's inventory is, shared by its subcommands.
struct InventoryOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The site's inventory (SQLite).", valueName: "path"))
    var inventory: String = ImprintPaths.inventory
}

/// Runs the root command, turning a failure into its message and exit code.
public enum ServerMain {
    public static func main() async {
        do {
            var command = try ServerCommand.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ServerCommandError {
            FileHandle.standardError.write(Data("imprint-server: \(error.message)\n".utf8))
            exit(error.status)
        } catch {
            ServerCommand.exit(withError: error)
        }
    }
}

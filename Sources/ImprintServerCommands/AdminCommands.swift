import ArgumentParser
import Foundation
import ImprintCore
import ImprintRemote
import ImprintWire

/// How an admin command reaches the server: its address and the admin token's file.
struct AdminConnection: ParsableArguments {
    @Option(help: ArgumentHelp("The server's root URL.", valueName: "url"))
    var server: String = "http://127.0.0.1:8080"

    @Option(name: .customLong("admin-token-file"), help: ArgumentHelp("The file 'imprint-server init' wrote.", valueName: "path"))
    var tokenFile: String = "/var/lib/imprint-server/admin.token"

    @Option(name: .customLong("ca-file"), help: ArgumentHelp(
        "On https: trust the server's certificate by this certificate authority (PEM), not the system's store.", valueName: "file"))
    var caFile: String?

    func validate() throws {
        do { _ = try ServerClient.root(of: server) } catch { throw ValidationError("'--server' \(error)") }
    }

    /// A client holding the admin token.
    func client() throws -> ServerClient {
        guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8),
            let token = text.split(separator: "\n").first.map(String.init), !token.isEmpty
        else {
            throw ServerCommandError(status: 66, message: "cannot read the admin token from \(tokenFile); name the file 'imprint-server init' wrote with '--admin-token-file'")
        }
        do {
            if let caFile { _ = try ServerLink.readAuthority(caFile) }
            return try ServerClient(server: server, adminToken: token, library: ProcessInfo.processInfo.environment["IMPRINT_LIBCURL"], authority: caFile)
        } catch {
            throw Self.failure(error)
        }
    }

    /// Runs an admin call, turning the client's error into the command's exit code and message.
    func call<T>(_ body: (ServerClient) throws(RemoteError) -> T) throws -> T {
        let client = try client()
        do { return try body(client) } catch { throw Self.failure(error) }
    }

    static func failure(_ error: RemoteError) -> ServerCommandError {
        let status: Int32
        switch error {
        case .libraryMissing, .unreachable, .untrusted, .downloadFailed: status = 69
        case .refused(_, 401, _), .refused(_, 403, _): status = 77
        case .refused(_, 404, _): status = 10
        case .refused(_, let code, _) where code >= 500: status = 69
        case .refused, .invalidURL, .credential: status = 65
        default: status = 1
        }
        return ServerCommandError(status: status, message: "\(error)")
    }
}

/// Prints `value` as the server's JSON.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder.server
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
}

/// `imprint-server window`: open, close and list deployment windows.
struct WindowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "window",
        abstract: "Open, close and list deployment windows (what a group's units may do, until when).",
        subcommands: [Open.self, Close.self, List.self])

    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open a group's window, replacing its open one.",
            discussion: """
                Inside the window the group's units may do what --actions says: enrol (unknown units join the group, \
                at most --maximum-new-units), personalize, restore (the --image given, else the newest library image \
                for each unit's model). Each unit is armed once with its own token. The window closes by itself after \
                --minutes (at most \(maximumWindowMinutes)); every window is a line of the audit log.
                """)

        @Argument(help: "The group (room).") var group: String
        @Option(help: ArgumentHelp("What units may do: enrol, personalize, restore (a list).", valueName: "list"))
        var actions: String
        @Option(help: "How long it stays open.") var minutes: Int = 60
        @Option(help: ArgumentHelp("The library image units restore (its id).", valueName: "id")) var image: String?
        @Option(name: .customLong("maximum-new-units"), help: "With enrol: how many unknown units may join.")
        var maximumNewUnits: Int?
        @Flag(help: "Print the window as JSON.") var json = false
        @OptionGroup var connection: AdminConnection

        func validate() throws {
            for word in parsedActions.words where WindowAction(rawValue: word) == nil {
                throw ValidationError("'--actions' has \(quoted(word)); use enrol, personalize, restore")
            }
            guard (1...maximumWindowMinutes).contains(minutes) else {
                throw ValidationError("'--minutes' \(minutes) is not between 1 and \(maximumWindowMinutes)")
            }
        }

        var parsedActions: (words: [String], actions: [WindowAction]) {
            let words = actions.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
            return (words, words.compactMap(WindowAction.init(rawValue:)))
        }

        func run() throws {
            let request = WindowRequest(
                group: group, actions: parsedActions.actions, image: image, minutes: minutes, maximumNewUnits: maximumNewUnits)
            let window = try connection.call { client throws(RemoteError) in try client.openWindow(request) }
            if json { return try printJSON(window) }
            print(WindowCommand.line(window))
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a group's window now.")
        @Argument(help: "The group (room).") var group: String
        @OptionGroup var connection: AdminConnection

        func run() throws {
            try connection.call { client throws(RemoteError) in try client.closeWindow(group: group) }
            print("closed the window of \(group)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the windows open now.")
        @Flag(help: "Print the windows as JSON.") var json = false
        @OptionGroup var connection: AdminConnection

        func run() throws {
            let windows = try connection.call { client throws(RemoteError) in try client.windows() }
            if json { return try printJSON(windows) }
            print(windows.isEmpty ? "no window is open" : windows.map(WindowCommand.line).joined(separator: "\n"))
        }
    }

    static func line(_ window: DeploymentWindow) -> String {
        var text = "\(window.group): \(window.actions.map(\.rawValue).joined(separator: ", ")) until \(window.expires.formatted(.iso8601))"
        if let image = window.image { text += ", image \(image)" }
        if window.allows(.enrol) { text += ", \(window.enrolled) of \(window.maximumNewUnits) new units" }
        return text
    }
}

/// `imprint-server unit ACTION NAME`: the admin's actions on one unit.
struct UnitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unit",
        abstract: "Act on one unit: arm (forget its token, so the next identify in a window arms it again), protect, unprotect, approve.",
        discussion: "approve lets a unit that got needs-confirmation be restored in its group's open window.")

    @Argument(help: "arm, protect, unprotect or approve.") var action: String
    @Argument(help: "The unit's name.") var unit: String
    @OptionGroup var connection: AdminConnection

    func validate() throws {
        guard ServerAPI.UnitAction(rawValue: action) != nil else {
            throw ValidationError("\(quoted(action)) is not an action; use one of \(ServerAPI.UnitAction.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let chosen = ServerAPI.UnitAction(rawValue: action)!
        try connection.call { client throws(RemoteError) in try client.act(chosen, unit: unit) }
        print("\(action): \(unit)")
    }
}

/// `imprint-server fleet`: the units and where each stands.
struct FleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet", abstract: "List the units of a group (or all) with their state, as the fleet page shows them.")

    @Option(help: "Only this group (room).") var group: String?
    @Flag(help: "Print the rows as JSON.") var json = false
    @OptionGroup var connection: AdminConnection

    func run() throws {
        let rows = try connection.call { client throws(RemoteError) in try client.fleet(group: group) }
        if json { return try printJSON(rows) }
        for row in rows {
            var state = row.state.rawValue
            if let percent = row.percent, row.state == .restoring { state += " \(percent)%" }
            var line = [row.unit, row.group ?? "-", row.serial ?? "-", state].joined(separator: "  ")
            if let error = row.error { line += "  \(error)" }
            print(line)
        }
    }
}

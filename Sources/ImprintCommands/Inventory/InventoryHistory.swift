import ArgumentParser
import Foundation
import ImprintCore
import ImprintInventory

struct InventoryHistory: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Show the agent runs recorded for a unit, oldest first.")

    @Argument(help: "The unit: hostname (also of a removed unit) or identifier.") var unit: String
    @Flag(help: "Print JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let entries = try global.openInventory(context, readOnly: true).history(of: unit)
        if json {
            try context.printJSON(entries.map(HistoryView.init))
            return
        }
        if entries.isEmpty {
            context.print("no runs recorded for \(unit) yet")
            return
        }
        let formatter = ISO8601DateFormatter()
        context.print(Render.table(
            ["TIME", "HOSTNAME", "REV", "SOURCE", "RESULT", "NOTE"],
            entries.map { entry in
                [formatter.string(from: entry.time), entry.hostname, String(entry.revision), entry.source, entry.result,
                 Self.note(entry)]
            }))
    }

    /// What the admin should notice in a run beyond its result: an unknown unit that enrolled itself.
    static func note(_ entry: HistoryEntry) -> String {
        guard let identity = IdentityRecord(line: entry.identity), let group = identity.enrolledInto else { return "" }
        return "enrolled into \(group) as \(identity.unit)"
    }

    /// One run in `inventory history --json`: the identity the agent logged is an object, not text.
    struct HistoryView: Encodable {
        var hostname: String
        var time: Date
        var source: String
        var result: String
        var revision: Int
        @Nullable var identity: IdentityRecord?

        init(_ entry: HistoryEntry) {
            hostname = entry.hostname
            time = entry.time
            source = entry.source
            result = entry.result
            revision = entry.revision
            identity = IdentityRecord(line: entry.identity)
        }
    }
}

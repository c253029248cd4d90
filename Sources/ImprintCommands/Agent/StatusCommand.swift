import ArgumentParser
import Foundation
import ImprintAgent
import ImprintCore
import ImprintInventory

struct StatusCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Who this unit is, when it was personalized, and what a run would change now.",
        discussion: "Reads /var/lib/imprint/state.json and the identity log in the root; with an inventory, plans a dry run.\n\n\(ExitStatus.helpTable)")

    @OptionGroup var factsSource: FactsOptions
    @Flag(help: "Print JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    /// `imprint status --json`; every field is always there, `null` when unknown.
    struct View: Encodable {
        /// The unit the root was personalized as (state.json).
        @Nullable var unit: String?
        /// The record revision every step was last applied for.
        @Nullable var revision: Int?
        @Nullable var lastRun: String?
        /// When the last run that wrote the state ran.
        @Nullable var time: Date?
        /// The last line of the identity log, as an object.
        @Nullable var identity: IdentityRecord?
        /// The unit's revision in the inventory now.
        @Nullable var inventoryRevision: Int?
        /// The files a run now would change.
        var wouldChange: [String]
        /// Why a run now could not be planned (no inventory, no match).
        @Nullable var problem: String?
    }

    func run(_ context: CommandContext) throws {
        let root = try TargetRoot(factsSource.root)
        let state = Agent.state(of: root)
        var view = View(
            unit: state?.unit, revision: state?.revision, lastRun: state?.run, time: state?.time,
            identity: try root.readTrimmedText(IdentityRecord.logPath).flatMap(IdentityRecord.last(ofLog:)),
            wouldChange: [])
        do {
            let match = try global.openInventory(context, readOnly: true).match(try factsSource.read())
            view.inventoryRevision = match.unit.revision
            let outcome = try Agent.run(
                RunRequest(profile: match.unit.profile, matched: match.matched, dryRun: true, time: context.clock(), agentVersion: imprintVersion),
                root: root)
            view.wouldChange = outcome.plan.effective.map(\.path)
        } catch {
            view.problem = CommandFailure(error).message
        }
        if json {
            try context.printJSON(view)
            return
        }
        var lines: [String] = []
        if let unit = view.unit, let revision = view.revision, let time = view.time {
            lines.append("\(unit): personalized at revision \(revision) on \(ISO8601DateFormatter().string(from: time)) (run \(view.lastRun ?? "?"))")
        } else if let unit = view.unit {
            lines.append("\(unit): given its identity by run \(view.lastRun ?? "?"), but no run of every step has applied a revision yet")
        } else {
            lines.append("not personalized yet")
        }
        if let problem = view.problem {
            lines.append("a run now: \(problem)")
        } else if view.wouldChange.isEmpty {
            lines.append("a run now: nothing to do (inventory revision \(view.inventoryRevision ?? 0))")
        } else {
            lines.append("a run now (inventory revision \(view.inventoryRevision ?? 0)) would change: \(view.wouldChange.joined(separator: " "))")
        }
        context.print(lines.joined(separator: "\n"))
    }
}

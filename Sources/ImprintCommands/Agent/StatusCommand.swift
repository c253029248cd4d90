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
    @OptionGroup var global: GlobalOptions

    struct View: Encodable {
        var unit: String?
        var revision: Int?
        var lastRun: String?
        var personalizedAt: Date?
        var identity: String?
        var inventoryRevision: Int?
        var wouldChange: [String]
        var problem: String?
    }

    func run(_ context: CommandContext) throws {
        let root = try TargetRoot(factsSource.root)
        let state = Agent.state(of: root)
        var view = View(
            unit: state?.unit, revision: state?.revision, lastRun: state?.run, personalizedAt: state?.time,
            identity: try root.readTrimmedText(IdentityRecord.logPath)?.split(separator: "\n").last.map(String.init),
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
        if let unit = view.unit, let revision = view.revision, let time = view.personalizedAt {
            lines.append("\(unit): personalized at revision \(revision) on \(ISO8601DateFormatter().string(from: time)) (run \(view.lastRun ?? "?"))")
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

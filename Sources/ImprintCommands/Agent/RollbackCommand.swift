import ArgumentParser
import ImprintAgent
import ImprintCore

struct RollbackCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Put back the files a run changed (default: the latest finished run).",
        discussion: "Runs are kept under /var/lib/imprint/runs in the root, named by their time.\n\n\(ExitStatus.helpTable)")

    @Argument(help: "The run to undo.") var run: String?
    @Option(help: ArgumentHelp("The root of the system.", valueName: "dir")) var root: String = "/"
    @Option(help: "Seconds to wait for another run's lock.") var wait: Double = 30
    @Flag(help: "Print the outcome as JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    /// `imprint rollback --json`.
    struct View: Encodable {
        var run: String
        var unit: String
        /// The files put back as they were before the run (removed again where the run created them).
        var files: [String]
    }

    func run(_ context: CommandContext) throws {
        let journal = try Agent.rollBack(run, root: try TargetRoot(root), wait: wait)
        if json {
            try context.printJSON(View(run: journal.run, unit: journal.unit, files: journal.entries.map(\.path)))
            return
        }
        context.print("rolled back run \(journal.run) (\(journal.unit)): \(journal.entries.count) files put back")
        for entry in journal.entries { context.print("  \(entry.path)") }
    }
}

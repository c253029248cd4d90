import ArgumentParser
import Foundation
import ImprintAgent
import ImprintCore
import ImprintRemote
import ImprintWire

/// `imprint report`: sends the runs the agent queued to the unit's deployment server.
struct ReportCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Send this unit's queued run reports to its deployment server.",
        discussion: """
            A unit installed with 'imprint install --server URL' queues a report of every run in \
            \(ReportQueue.folder) (the agent runs at boot, before the network); imprint-report.service runs this \
            command once the network is up, and its timer every half hour. Reports go oldest first, each signed \
            with the unit's token (\(ServerLink.credentialPath)) and removed once the server took it; the server keeps \
            them in the unit's history. A unit without a token yet asks the server for one first (its facts from \
            /sys or --facts): the server gives it inside a deployment window open for the unit's group, and else \
            the reports wait.

            Stops at the first report that cannot go now, keeping it and the later ones: the server unreachable \
            (exit 69: nothing is lost, try again later), the token refused (exit 77: the admin arms the unit again), \
            or no token given (exit 30). A report the server refuses as malformed is moved to \
            \(ReportQueue.refusedFolder) so it does not hold up the others.

            \(ExitStatus.helpTable)
            """)

    @OptionGroup var factsSource: FactsOptions
    @Flag(help: "Print what was sent as JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let root = try TargetRoot(factsSource.root)
        guard let server = try ServerLink.server(in: root) else {
            throw CommandFailure(
                status: .missingInput,
                message: "\(root.path) has no deployment server in \(ServerLink.addressPath); install the agent with 'imprint install --server URL'")
        }
        let client = try ServerClient(
            server: server, library: context.environment["IMPRINT_LIBCURL"], authority: try ServerLink.authority(in: root))
        let credential = try ServerLink.credential(in: root) ?? askForToken(client, server: server, root: root, context: context)
        let flush = try ReportQueue.flush(in: root, client: client.signing(as: credential))
        if json {
            try context.printJSON(View(server: server, unit: credential.unit, flush: flush))
        } else {
            var lines = ["sent \(flush.sent.count) report\(flush.sent.count == 1 ? "" : "s") of \(credential.unit) to \(server)"]
            for (name, message) in flush.refused.sorted(by: { $0.key < $1.key }) {
                lines.append("  refused \(name) (moved to \(ReportQueue.refusedFolder)): \(message)")
            }
            if !flush.left.isEmpty { lines.append("  kept \(flush.left.count) for later") }
            context.print(lines.joined(separator: "\n"))
        }
        if let stopped = flush.stopped { throw stopped }
    }

    /// Asks the server for this unit's token with its facts, and keeps it in the root.
    /// - Throws: `RemoteError.nothingToDo` when the server gives none now (no window open for the unit).
    func askForToken(_ client: ServerClient, server: String, root: TargetRoot, context: CommandContext) throws -> UnitCredential {
        let answer = try client.identify(IdentifyRequest(facts: try factsSource.read()))
        guard let token = answer.token, let unit = answer.unit else {
            let queued = try ReportQueue.pending(in: root).count
            throw RemoteError.nothingToDo(
                reason: (answer.reason ?? "the server gave this unit no token") + "; \(queued) report\(queued == 1 ? "" : "s") kept for later")
        }
        let credential = UnitCredential(unit: unit, token: token)
        try ServerLink.write(server: server, credential: credential, into: root)
        if !json { context.print("the server gave \(unit) its token (kept in \(ServerLink.credentialPath), 0600)") }
        return credential
    }

    /// `report --json`.
    struct View: Encodable {
        var server: String
        var unit: String
        /// The queued reports' file names the server took, oldest first.
        var sent: [String]
        /// The reports still queued.
        var left: [String]
        /// Reports the server refused as malformed, by file name, with its message.
        var refused: [String: String]
        /// Why it stopped before the end of the queue, null when it reached the end.
        @Nullable var stopped: String?

        init(server: String, unit: String, flush: ReportQueue.Flush) {
            self.server = server
            self.unit = unit
            sent = flush.sent
            left = flush.left
            refused = flush.refused
            stopped = flush.stopped.map { "\($0)" }
        }
    }
}

import ArgumentParser
import Foundation
import ImprintAgent
import ImprintCore
import ImprintInventory
import ImprintRemote

struct InstallCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Put the agent into a restored root, so the unit gives itself its identity at first boot.",
        discussion: """
            Writes into the root: the imprint executable as \(Installer.binaryPath) (by default this very binary, \
            which must be built with the Swift runtime linked in: 'swift build -c release --static-swift-stdlib'), \
            stripped of its symbols and debug info by binutils' strip (a unit never reads them; where strip is \
            missing the binary goes in as it is, with a note), a consistent copy of the inventory as \
            \(Installer.inventoryPath), and the systemd service \
            \(Installer.unitPath), enabled by a link in sysinit.target.wants. The service runs 'imprint run' at every \
            boot, before the network, sshd and CUPS start; once the unit has its identity for the current record \
            revision it does nothing. A second service, \(Installer.printersUnitPath) (enabled in \
            multi-user.target.wants), runs 'imprint run --only printers' once CUPS is up, so the driverless (IPP \
            Everywhere) queues the agent wrote before cupsd ran get their drivers; it too does nothing once they \
            have them. An admin's /etc/imprint/templates/\(Installer.unitName) (or \(Installer.printersUnitName)) \
            in the root replaces the built-in service.

            The copy of the inventory holds only the units this root can be: the one unit (--unit NAME, or --facts \
            FILE), the units of some groups (--group, repeatable) or of some hardware models (--model, repeatable); \
            with their groups and printers, and no other unit's serial, MAC, address or Wi-Fi passphrase. \
            --whole-inventory copies every unit: anyone who boots a lab machine from a USB stick can read its disk. \
            After its first run the agent shrinks the copy to the unit's own record. One of these is required.

            --server URL makes the unit report each run to that deployment server: the URL goes into \
            \(ImprintPaths.serverAddress), the agent queues each run's report in /var/lib/imprint/reports at boot \
            (before the network), and \(Installer.reportUnitPath) (after network-online.target, every boot) with \
            \(Installer.reportTimerPath) (every half hour) sends them in order with 'imprint report'. The unit gets its \
            token from the server the first time it reports, inside a window open for its group; an offline unit \
            personalizes from its copy as without --server, and its reports wait. With --server the copy holds no \
            secret field value that no attached file uses: the first-boot hooks get those (a one-time enrolment \
            credential) from the server, inside a window.

            The root's /etc/machine-id becomes 'uninitialized', so systemd makes a fresh id at first boot; the master's \
            id is kept in \(Installer.masterIDPath) so the agent knows the new one is the unit's own.

            Before writing, install checks that the binary can start in the root: that it does not need the shared \
            Swift runtime, and that each library it links (libsqlite3, libuuid, libzstd, libstdc++) is in the root. It \
            refuses otherwise (exit 65), naming the Debian package to add; --force installs anyway. Each file is \
            replaced atomically and the enabling link comes last, so an install cut short is not enabled and running \
            it again finishes it. A root that a restore did not finish (it holds \(TargetRoot.restoreMarker)) is \
            refused with exit 22.

            \(ExitStatus.helpTable)
            """)

    @Option(help: ArgumentHelp("The restored root to install into.", valueName: "dir")) var root: String
    @Option(help: ArgumentHelp("The executable to install (default: this imprint).", valueName: "path")) var binary: String?
    @Flag(name: .customLong("dry-run"), help: "Print what would be written, as diffs; change nothing.") var dryRun = false
    @Flag(help: "Install even when the checks say the agent could not start in the root.") var force = false
    @Flag(help: "Print the outcome as JSON.") var json = false
    @Option(help: ArgumentHelp("Report each run to this deployment server (its root URL, http or https).", valueName: "url"))
    var server: String?
    @Option(name: .customLong("ca-file"), help: ArgumentHelp(
        "With --server on https: the certificate authority (PEM) the unit trusts the server by, installed as \(ImprintPaths.serverAuthority).",
        valueName: "file"))
    var caFile: String?
    var reportsJSON: Bool { json }
    @OptionGroup var scope: InventoryScopeOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if let server {
            do { _ = try ServerClient.root(of: server) } catch { throw ValidationError("'--server' \(error)") }
        }
        if caFile != nil && server == nil { throw ValidationError("'--ca-file' goes with '--server URL'") }
    }

    func run(_ context: CommandContext) throws {
        let target = try TargetRoot(root)
        try target.checkRestoreFinished()
        let executable = try Self.load(binary)
        let source = try global.openInventory(context, readOnly: true)
        try Self.install(
            executable, into: target, from: source, scope: try scope.scope(in: source), server: server.map { try ServerClient.root(of: $0) },
            serverAuthority: try caFile.map { path throws(RemoteError) in try ServerLink.readAuthority(path) },
            dryRun: dryRun, force: force, json: json, context: context)
    }

    /// The agent executable at `path` (default: this imprint), stripped.
    static func load(_ path: String?) throws -> AgentBinary {
        let binaryPath = try path ?? runningExecutable()
        guard let executable = AgentBinary.load(path: binaryPath) else {
            throw CommandFailure(status: .missingInput, message: "cannot read the executable \(quoted(binaryPath)); pass '--binary PATH'")
        }
        return executable
    }

    /// Installs the agent and the `scope` of `source` into `target`, and prints what it did (`install`,
    /// `restore --install-agent`).
    static func install(
        _ executable: AgentBinary, into target: TargetRoot, from source: Inventory, scope chosen: SnapshotScope,
        server: String? = nil, serverAuthority: Data? = nil, dryRun: Bool, force: Bool, json: Bool, context: CommandContext
    ) throws {
        let inventory = try source.snapshot(chosen, secretsForFilesOnly: server != nil)
        let request = InstallRequest(binary: executable, inventory: inventory.data, force: force, server: server, serverAuthority: serverAuthority)
        let plan = try Installer.plan(request, root: target)
        if !dryRun { try Installer.apply(plan, root: target) }
        if json {
            try context.printJSON(View(plan, root: target.path, dryRun: dryRun, inventory: (chosen, inventory.units)))
            return
        }
        let changed = plan.files.filter(\.changes)
        var lines = [dryRun
            ? "would install the agent into \(target.path): \(changed.count) file\(changed.count == 1 ? "" : "s") (dry run, nothing written)"
            : "installed the agent into \(target.path)"]
        for file in changed {
            lines.append(dryRun ? "# \(file.reason)\n" + file.diff : "  \(file.path)  (\(file.reason))")
        }
        lines.append("  inventory copy: \(inventory.units) unit\(inventory.units == 1 ? "" : "s") (\(chosen))")
        lines += plan.notes.map { "note: \($0)" }
        context.print(lines.joined(separator: "\n"))
    }

    /// The path of the running imprint.
    static func runningExecutable() throws -> String {
        do {
            return try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        } catch {
            throw CommandFailure(status: .missingInput, message: "cannot find this executable (\(error)); pass '--binary PATH'")
        }
    }

    /// `imprint install --json`.
    struct View: Encodable {
        struct File: Encodable {
            var path: String
            var action: String
            var reason: String
            var bytes: Int?
        }

        var root: String
        var dryRun: Bool
        var files: [File]
        /// How many units the inventory copy holds, and which (`unit RM204-07`, `the units of group RM204`, ...).
        var inventoryUnits: Int
        var inventoryScope: String
        var notes: [String]

        init(_ plan: InstallPlan, root: String, dryRun: Bool, inventory: (scope: SnapshotScope, units: Int)) {
            self.root = root
            self.dryRun = dryRun
            inventoryUnits = inventory.units
            inventoryScope = inventory.scope.description
            files = plan.files.map { file in
                let action = file.link != nil ? "link" : !file.changes ? "unchanged" : file.before == nil ? "create" : "replace"
                return File(path: file.path, action: action, reason: file.reason, bytes: file.contents?.count)
            }
            notes = plan.notes
        }
    }
}

/// Which units a unit's copy of the inventory holds (`install`, `restore --install-agent`).
struct InventoryScopeOptions: ParsableArguments {
    @Option(name: .customLong("unit"), help: ArgumentHelp(
        "Copy only this unit's record (hostname or identifier); repeatable.", valueName: "name"))
    var units: [String] = []
    @Option(name: .customLong("group"), help: ArgumentHelp("Copy the units of this group; repeatable.", valueName: "name"))
    var groups: [String] = []
    @Option(name: .customLong("model"), help: ArgumentHelp(
        "Copy the units of this hardware model (as 'imprint facts' names it); repeatable.", valueName: "name"))
    var models: [String] = []
    @Flag(name: .customLong("whole-inventory"), help: "Copy every unit, every address and Wi-Fi passphrase of the site.")
    var wholeInventory = false

    /// A file of facts naming the unit (install's --facts), matched in the inventory.
    @Option(name: .customLong("facts"), help: ArgumentHelp("Copy only the record of the unit these facts match.", valueName: "file"))
    var facts: String?

    func validate() throws {
        let given = [!units.isEmpty, !groups.isEmpty, !models.isEmpty, wholeInventory, facts != nil].filter { $0 }.count
        if given == 0 {
            throw ValidationError(
                "say which units this root may be, so its copy of the inventory holds no others: '--unit NAME', "
                    + "'--facts FILE', '--group NAME', '--model NAME', or '--whole-inventory'")
        }
        if given > 1 {
            throw ValidationError("give one of '--unit', '--facts', '--group', '--model' or '--whole-inventory', not several")
        }
    }

    /// The scope the options name; the unit of --facts is looked up in `inventory`.
    func scope(in inventory: Inventory) throws -> SnapshotScope {
        if let facts { return try .unit(of: try FactsProbe.read(factsFile: facts), in: inventory) }
        if !units.isEmpty { return .units(units) }
        if !groups.isEmpty { return .groups(groups) }
        if !models.isEmpty { return .models(models) }
        return .everything
    }
}

extension SnapshotScope {
    /// The one unit `facts` name in `inventory`.
    static func unit(of facts: HardwareFacts, in inventory: Inventory) throws -> SnapshotScope {
        .units([try inventory.match(facts).unit.draft.hostname.value])
    }
}

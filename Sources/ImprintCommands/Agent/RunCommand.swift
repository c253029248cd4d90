import ArgumentParser
import Foundation
import ImprintAgent
import ImprintCore
import ImprintRemote
import ImprintWire
import ImprintInventory

/// `--only` and `--skip`: comma-separated step names.
struct StepSelection: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Run only these steps (comma-separated: \(AgentStep.allCases.map(\.rawValue).joined(separator: ", "))).",
        valueName: "steps"))
    var only: String?

    @Option(help: ArgumentHelp("Leave out these steps (comma-separated).", valueName: "steps"))
    var skip: String?

    func validate() throws {
        for (flag, list) in [("--only", only), ("--skip", skip)] {
            for name in (list ?? "").split(separator: ",") {
                do { _ = try AgentStep(String(name)) } catch { throw ValidationError(flag: flag, error) }
            }
        }
    }

    /// The chosen steps. The identity step is kept unless skipped by name, so every run leaves its log line.
    func steps() throws -> Set<AgentStep> {
        let parse = { (list: String?) throws -> [AgentStep] in
            try (list ?? "").split(separator: ",").map { name throws -> AgentStep in try AgentStep(String(name)) }
        }
        var steps = only == nil ? Set(AgentStep.allCases) : Set(try parse(only) + [.identity])
        steps.subtract(try parse(skip))
        return steps
    }
}

struct RunCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Give this unit its identity: hostname, machine IDs, SSH host keys, identity log.",
        discussion: """
            Reads the facts (sysfs under --root, or --facts), finds the unit in the inventory, plans every file \
            change, and applies it to the root: each file replaced atomically and backed up first under \
            /var/lib/imprint/runs/RUN, so 'imprint rollback' can put it back. A run killed half-way is undone by \
            the next run; a run that fails (a full disk) is rolled back before it exits 1. A root that a restore \
            did not finish (it holds \(TargetRoot.restoreMarker)) is refused with exit 22. The unit's identity is appended to /var/log/imprint/identity.jsonl in the root and to \
            the inventory's history.

            A root already personalized for the unit's current record revision has nothing to do: the run exits 0 \
            at once. An edited record (a new revision) is applied at the next run; --force re-applies. A run of some \
            steps (--only, --skip) that would change nothing writes nothing. The machine-id and SSH host keys are \
            made once per unit and kept by every later run, whatever its steps; only --force renews them (--only \
            host-keys --force renews the keys alone). Runs on one root take turns on /var/lib/imprint/lock.

            Steps: hostname (/etc/hostname, /etc/hosts 127.0.1.1, /etc/machine-info, and /etc/sysconfig/network, \
            /etc/HOSTNAME, /etc/mailname where present); machine-id (/etc/machine-id, /var/lib/dbus/machine-id, \
            systemd's random-seed and credential.secret, /etc/hostid and the iSCSI initiator name where present); \
            host-keys (new /etc/ssh/ssh_host_*_key of the types the image had, all three when it had none); \
            network (the unit's cards, matched by MAC, in one Imprint-owned file per stack the image uses: netplan, \
            NetworkManager, systemd-networkd, ifupdown or ifcfg; the master's card-bound files, udev net rules, DHCP \
            leases and NetworkManager secret_key removed into the run's backup); \
            printers (the unit's and its group's CUPS queues and default: /etc/cups/printers.conf and PPDs when cupsd \
            is not running, lpadmin when it is; other queues kept, the ones Imprint made and the unit lost removed); \
            accounts (the unit's and its group's local accounts in /etc/passwd, /etc/shadow, /etc/group, \
            /etc/gshadow, a new one's home, an autologin in LightDM's or GDM's configuration); files (the files \
            attached to the unit and its group, rendered with its values and custom fields); hooks (its offline \
            hooks, run in a chroot of the root without network once the files are in place; they cannot be rolled \
            back); identity (the log line and /var/lib/imprint/state.json).

            --first-boot-hooks runs only the unit's first-boot hooks, on the running unit (--root /) once its \
            network is up, as imprint-hooks.service does at boot: once per record revision, after the boot run \
            applied it. On a unit installed with --server they run with the record the server gives, which it \
            does only inside a deployment window open for the unit's group (else exit 30, and the next boot asks \
            again); each custom field, secrets included, is in the hooks' environment as IMPRINT_FIELD_NAME.

            \(ExitStatus.helpTable)
            """)

    @OptionGroup var factsSource: FactsOptions
    @OptionGroup var selection: StepSelection
    @Flag(name: .customLong("dry-run"), help: "Print the plan as unified diffs; change nothing.") var dryRun = false
    @Flag(help: "Re-apply the steps even when this revision was applied already, and renew the machine-id and host keys.")
    var force = false
    @Flag(help: "Print the outcome as JSON.") var json = false
    var reportsJSON: Bool { json }
    @Flag(name: .customLong("detailed-exitcodes"), help: "Exit 2 when changes were applied, 0 when there was nothing to do.")
    var detailedExitCodes = false
    @Option(help: "Seconds to wait for another run's lock.") var wait: Double = 30
    @Option(help: ArgumentHelp("Why this run happens, for the history: boot, restore, technician.", valueName: "name"))
    var source: String = "technician"
    @Option(name: .customLong("image-id"), help: "The image the root was restored from, for the identity log.") var imageID: String?
    @Flag(name: .customLong("first-boot-hooks"), help: "Run only the unit's first-boot hooks (on the unit, --root /, network up).")
    var firstBootHooks = false
    @Option(help: ArgumentHelp(
        "A unit not in the inventory joins this group, named by the group's pattern from its own serial, MAC or asset tag (default: the one group that allows enrolment; a counter pattern is refused).",
        valueName: "group"))
    var enroll: String?
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if wait < 0 { throw ValidationError("'--wait' must be 0 or more seconds") }
        do { _ = try FieldText.check(source, field: "--source", maxLength: 32) } catch { throw ValidationError(flag: "--source", error) }
    }

    func run(_ context: CommandContext) throws {
        let root = try TargetRoot(factsSource.root)
        try root.checkRestoreFinished()
        let facts = try factsSource.read()
        // A unit linked to a server takes the record its first-boot hooks run with from the server, which hands it
        // (and the secrets the hooks need) only inside a deployment window; the server then gets the run's report.
        // A dry run does not ask: the answer could arm the unit and leave a token on it. Nor does a run on another
        // root, which the agent refuses: it would be asked first.
        let link = Result { try ServerLink.server(in: root) }
        let server = try firstBootHooks && root.path == "/" && !dryRun ? link.get() : nil
        if firstBootHooks && dryRun, let linked = try? link.get() {
            context.errorOutput(
                "imprint: dry run: the hooks are planned from this unit's copy of the inventory; the real run takes the record "
                    + "and its secrets from \(linked) inside a deployment window\n")
        }
        let directory: any UnitDirectory
        if let server {
            let client = try ServerClient(
                server: server, library: context.environment["IMPRINT_LIBCURL"], authority: try ServerLink.authority(in: root))
            directory = try ServerRecord.ask(client, facts: facts, root: root)
        } else {
            directory = try global.openInventory(context, readOnly: dryRun)
        }
        var settings = RunSettings(
            steps: try selection.steps(), force: force, dryRun: dryRun, live: root.path == "/", imageID: imageID,
            source: source, time: context.clock(), agentVersion: imprintVersion, lockWait: wait)
        settings.firstBootHooks = firstBootHooks
        // A unit that reports to a server queues each run's report; imprint-report.service sends them later.
        let reporting = !dryRun && (try? link.get()) != nil
        let done: Personalization
        do {
            done = try Agent.personalize(facts, enrolling: enroll, settings: settings, directory: directory, root: root) {
                context.errorOutput("imprint: another run holds the lock of \(root.path); waiting up to \(Int(wait)) s\n")
            }
        } catch {
            if reporting { Self.queue(UnitReport(event: .failed, message: "\(error)", time: context.clock()), in: root, context: context) }
            throw error
        }
        // A run of some steps with nothing to do (the printers service at every boot) is not worth a report; a full
        // run's "unchanged" is the unit saying it is up and as the record says.
        let partial = selection.only != nil || selection.skip != nil || firstBootHooks
        // The server's directory reported an applied run itself; only one that did not reach it is queued.
        let reported = (directory as? ServerDirectory)?.reportProblems.isEmpty == true && done.outcome.result == .applied
        if reporting && !reported && !(partial && done.outcome.result != .applied) {
            let applied = done.outcome.result == .applied
            Self.queue(
                UnitReport(event: applied ? .applied : .unchanged, identity: done.outcome.identity, time: context.clock()),
                in: root, context: context)
        }
        try Self.report(done, dryRun: dryRun, json: json, context: context)
        if detailedExitCodes && done.outcome.result == .applied { throw ExitCode(ExitStatus.changesApplied.rawValue) }
    }

    /// Queues a report for the server; a queue that cannot be written is a warning, never a failed run.
    static func queue(_ report: UnitReport, in root: TargetRoot, context: CommandContext) {
        do {
            try ReportQueue.enqueue(report, in: root)
        } catch {
            context.errorOutput("imprint: warning: the report for the server could not be queued: \(error)\n")
        }
    }

    /// Prints what a personalization did, as text or JSON (`run`, `restore --personalize`).
    static func report(_ done: Personalization, dryRun: Bool, json: Bool, context: CommandContext) throws {
        let outcome = done.outcome
        if json {
            try context.printJSON(RunView(outcome, unit: done.unit.profile))
            return
        }
        if let group = done.unit.enrolledInto {
            context.print("\(dryRun ? "would enrol" : "enrolled") into \(group) as \(done.unit.profile.hostname)")
        }
        context.print(text(outcome, unit: done.unit.profile, dryRun: dryRun))
        if outcome.identity?.inventoryCopy != nil {
            context.print("  inventory   this unit's copy now holds its own record only")
        }
    }

    static func text(_ outcome: RunOutcome, unit: UnitProfile, dryRun: Bool) -> String {
        let name = "\(unit.hostname) (revision \(unit.revision))"
        var lines: [String] = []
        for recovered in outcome.recovered { lines.append("undid run \(recovered), which was interrupted") }
        switch outcome.result {
        case .nothingToDo where !outcome.idleSteps.isEmpty:
            lines.append("\(name): nothing to do for \(outcome.idleSteps.map(\.rawValue).joined(separator: ", ")), all as the record says")
        case .nothingToDo:
            lines.append("\(name): nothing to do, this revision was applied by run \(outcome.run); --force re-applies")
        case .planned:
            let changes = outcome.plan.effective
            lines.append("\(name): would change \(changes.count) file\(changes.count == 1 ? "" : "s") (dry run, nothing written)")
            for change in changes { lines.append("# \(change.step.rawValue): \(change.reason)\n" + change.diff) }
            for command in outcome.plan.commands {
                lines.append("# \(command.step.rawValue): \(command.reason)\nwould run: \(command)")
            }
            for hook in outcome.plan.hooks {
                lines.append("# hooks: \(hook.name), offline in a chroot, timeout \(hook.timeout) s; cannot be rolled back\nwould run: \(hook.command)")
            }
        case .applied:
            lines.append("\(name): applied run \(outcome.run)")
            for command in outcome.plan.commands {
                lines.append("  \(command.step.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) ran \(command)")
            }
            for change in outcome.plan.effective {
                lines.append("  \(change.step.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(change.path)")
            }
            for hook in outcome.identity?.hooks ?? [] {
                lines.append("  hooks       \(hook.name) exited \(hook.status.map(String.init) ?? "?")")
            }
            if let id = outcome.identity?.machineID {
                lines.append("  machine-id  \(id.new) (was \(id.old ?? "none"))")
            }
            for key in outcome.identity?.hostKeys ?? [] {
                lines.append("  host key    \(key.type.padding(toLength: 8, withPad: " ", startingAt: 0))\(key.fingerprint)")
            }
        }
        lines += outcome.plan.notes.map { "note: \($0)" }
        return lines.joined(separator: "\n")
    }
}

/// `imprint run --json`.
struct RunView: Encodable {
    struct Change: Encodable {
        var step: String
        var path: String
        var reason: String
        var action: String
        var diff: String
    }

    var result: String
    var run: String
    var unit: String
    var revision: Int
    var changes: [Change]
    /// The programs run (or, in a dry run, to run): `lpadmin` on a live system.
    var commands: [ExternalCommand]
    /// The offline hooks the run runs (or would run), in order; what they did is in `identity.hooks`.
    var hooks: [Hook]
    var notes: [String]
    var recovered: [String]
    /// The group an unknown unit joined in this run.
    @Nullable var enrolledInto: String?
    @Nullable var identity: IdentityRecord?

    init(_ outcome: RunOutcome, unit: UnitProfile) {
        result = outcome.result.rawValue
        run = outcome.run
        self.unit = unit.hostname.value
        revision = unit.revision
        changes = outcome.plan.effective.map { change in
            let action: String
            switch change.action {
            case .write: action = change.before == nil ? "create" : "replace"
            case .symlink: action = "link"
            case .folder: action = "create folder"
            case .remove: action = "remove"
            }
            return Change(step: change.step.rawValue, path: change.path, reason: change.reason, action: action, diff: change.diff)
        }
        commands = outcome.plan.commands
        hooks = outcome.plan.hooks
        notes = outcome.plan.notes
        recovered = outcome.recovered
        enrolledInto = outcome.identity?.enrolledInto
        identity = outcome.identity
    }
}

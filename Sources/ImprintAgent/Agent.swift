import Foundation
import Glibc
import ImprintCore

/// How a run goes, whichever unit it is for: the steps, whether it writes, where it comes from.
public struct RunSettings: Sendable {
    public var steps: Set<AgentStep>
    /// Re-apply even when this root already has the record's revision, and renew the machine-id and host keys.
    public var force: Bool
    public var dryRun: Bool
    /// Whether the root is the running system (`--root /`), where some changes need a reboot.
    public var live: Bool
    /// The image the root was restored from, for the identity log.
    public var imageID: String?
    /// Why the run happens, for the history: `boot`, `restore`, `technician`.
    public var source: String
    public var time: Date
    public var random: RandomSource
    /// Makes a new machine-id (32 hex digits); libuuid in a real run.
    public var newMachineID: @Sendable () -> String
    public var agentVersion: String
    /// Seconds to wait for another run's lock.
    public var lockWait: Double
    /// The cupsd a live run sets printers on (`host:port`); nil for the system's own.
    public var cupsServer: String?
    /// Run only the unit's first-boot hooks (`imprint-hooks.service`, once the network is up), once per revision.
    public var firstBootHooks = false

    public init(
        steps: Set<AgentStep> = Set(AgentStep.allCases), force: Bool = false, dryRun: Bool = false, live: Bool = false,
        imageID: String? = nil, source: String = "technician", time: Date = Date(), random: RandomSource = .system,
        newMachineID: @escaping @Sendable () -> String = freshMachineID, agentVersion: String, lockWait: Double = 30,
        cupsServer: String? = nil
    ) {
        self.steps = steps
        self.force = force
        self.dryRun = dryRun
        self.live = live
        self.imageID = imageID
        self.source = source
        self.time = time
        self.random = random
        self.newMachineID = newMachineID
        self.agentVersion = agentVersion
        self.lockWait = lockWait
        self.cupsServer = cupsServer
    }
}

/// One unit's run: the unit, found already, and how the run goes (its settings read as the request's own fields).
@dynamicMemberLookup
public struct RunRequest: Sendable {
    public var unit: UnitAssignment
    /// The machine's facts, when the run has them: the network step says which configured card the machine lacks.
    public var facts: HardwareFacts?
    /// The run will shrink the unit's copy of the inventory to its own record, for the identity line.
    public var shrinksInventory: Bool
    public var settings: RunSettings

    public var profile: UnitProfile {
        get { unit.profile }
        set { unit.profile = newValue }
    }

    public init(unit: UnitAssignment, shrinksInventory: Bool = false, settings: RunSettings) {
        self.unit = unit
        self.shrinksInventory = shrinksInventory
        self.settings = settings
    }

    /// A run of `profile`, matched by `matched`, with the settings given field by field.
    public init(
        profile: UnitProfile, matched: [Identifier], steps: Set<AgentStep> = Set(AgentStep.allCases), force: Bool = false,
        dryRun: Bool = false, live: Bool = false, imageID: String? = nil, source: String = "technician",
        time: Date = Date(), random: RandomSource = .system,
        newMachineID: @escaping @Sendable () -> String = freshMachineID, agentVersion: String, lockWait: Double = 30,
        cupsServer: String? = nil
    ) {
        self.init(
            unit: UnitAssignment(profile: profile, matched: matched),
            settings: RunSettings(
                steps: steps, force: force, dryRun: dryRun, live: live, imageID: imageID, source: source, time: time,
                random: random, newMachineID: newMachineID, agentVersion: agentVersion, lockWait: lockWait,
                cupsServer: cupsServer))
    }

    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<RunSettings, Value>) -> Value {
        get { settings[keyPath: keyPath] }
        set { settings[keyPath: keyPath] = newValue }
    }
}

/// What personalizing a machine did: the unit its facts named (or that it joined), and the run.
public struct Personalization: Sendable {
    public var unit: UnitAssignment
    public var outcome: RunOutcome
}

/// What a run did.
public struct RunOutcome: Sendable {
    public enum Result: String, Sendable {
        case applied
        case nothingToDo = "nothing-to-do"
        case planned
    }

    public var result: Result
    public var run: String
    public var plan: Plan
    public var identity: IdentityRecord?
    /// Runs a killed process left half-done, undone before this one.
    public var recovered: [String]
    /// The steps of a run of some steps that found nothing to do (empty otherwise).
    public var idleSteps: [AgentStep] = []
}

/// The personalization agent: plans a unit's identity files and applies them to a root.
public enum Agent {
    /// Plans and (unless a dry run) applies the unit's identity to `root`.
    ///
    /// The machine-id and SSH host keys are made once per unit, whatever steps are chosen: a later run keeps them
    /// unless `force` is set. A run whose chosen steps would change nothing writes nothing (no log line, no run).
    /// - Important: changes files under `root`; every replaced file is backed up for `rollback`.
    public static func run(_ request: RunRequest, root: TargetRoot, waiting: () -> Void = {}) throws -> RunOutcome {
        // A half-restored root has files that look whole and are not: personalizing it would hide that.
        try root.checkRestoreFinished()
        let run = runName(request.time, random: request.random)
        // The lock comes before anything is read, so a run that waited for another sees what that one wrote.
        let lock = try RunLock(root: root, wait: request.lockWait, shared: request.dryRun, waiting: waiting)
        defer { withExtendedLifetime(lock) {} }
        let recovered = request.dryRun ? [] : try Applier.recoverInterrupted(root: root)
        let state = AgentState.read(root)
        if request.firstBootHooks {
            return try runFirstBootHooks(request, run: run, root: root, state: state, recovered: recovered)
        }
        let everyStep = request.steps == Set(AgentStep.allCases)
        // The state names the run that wrote it; only if that run's journal is done did the run finish (a run killed
        // after writing the state but before its journal was marked done must be undone and made again).
        if !request.force, everyStep, let state,
            state.unit.lowercased() == request.profile.hostname.value.lowercased(), state.revision == request.profile.revision,
            (try? Journal.read(state.run, root: root))??.state == .done
        {
            return RunOutcome(result: .nothingToDo, run: state.run, plan: Plan(), identity: nil, recovered: recovered)
        }
        var (plan, identity) = try planRun(request, run: run, root: root, state: state)
        // A run of some steps (a technician's --only network, the printers service at every boot) that would change
        // nothing but its own records leaves no trace: no run folder, no line.
        if !request.force, !everyStep, plan.commands.isEmpty, plan.hooks.isEmpty,
            plan.effective.allSatisfy({ Self.records.contains($0.path) })
        {
            var idle = Plan()
            idle.notes = plan.notes
            return RunOutcome(
                result: .nothingToDo, run: run, plan: idle, identity: nil, recovered: recovered,
                idleSteps: request.steps.subtracting([.identity]).sorted())
        }
        if request.dryRun {
            return RunOutcome(result: .planned, run: run, plan: plan, identity: identity, recovered: [])
        }
        // Programs first (lpadmin on a live system): if one fails, no file has changed and the run can be repeated.
        try CommandRunner.run(plan.commands)
        // A run that only runs programs (the printers service asking again for a printer that was off) leaves no
        // run folder.
        if !plan.effective.isEmpty || !plan.hooks.isEmpty {
            try apply(plan, identity: &identity, request, run: run, root: root)
        }
        if request.live, plan.effective.contains(where: { $0.path == "/etc/hostname" }) {
            plan.notes += setRunningHostname(request.profile.hostname.value)
        }
        // Without the identity step there is no log line, so no history row either.
        return RunOutcome(
            result: .applied, run: run, plan: plan, identity: request.steps.contains(.identity) ? identity : nil,
            recovered: recovered)
    }

    /// Applies `plan`, running its hooks once the unit's files are in place, after which the identity line is
    /// written naming what each hook did; then drops the oldest run folders.
    static func apply(_ plan: Plan, identity: inout IdentityRecord, _ request: RunRequest, run: String, root: TargetRoot) throws {
        var record = identity
        let finish: Applier.Finish? = plan.hooks.isEmpty ? nil : {
            let results = HookRunner.run(plan.hooks, profile: request.profile, root: root)
            record.hooks = results
            var records = plan.changes.filter { Self.records.contains($0.path) }
            if let index = records.firstIndex(where: { $0.path == IdentityRecord.logPath }) {
                records[index] = try logLine(record, root: root)
            }
            return (results, records)
        }
        _ = try Applier.apply(plan, run: run, unit: request.profile.hostname.value, root: root, time: request.time, finish: finish)
        identity = record
        try Applier.prune(root: root, keeping: AgentState.read(root)?.run)
    }

    /// Runs the unit's first-boot hooks on the running system, once the boot run has applied the record's revision,
    /// and once per revision: the state remembers the revision whose hooks all succeeded, and the run leaves an
    /// identity line with what each did. A failing hook fails the run, which the next boot makes again.
    static func runFirstBootHooks(
        _ request: RunRequest, run: String, root: TargetRoot, state: AgentState?, recovered: [String]
    ) throws -> RunOutcome {
        let profile = request.profile
        let hooks = profile.hooks.filter { $0.phase == .firstBoot }
        guard root.path == "/" else {
            throw CoreError.invalidValue(
                field: "--root", value: root.path,
                reason: "first-boot hooks run on the unit itself, after its network is up (imprint-hooks.service); use --root /")
        }
        var idle = Plan()
        guard let state, state.isState(of: profile), state.revision == profile.revision else {
            idle.notes = ["the record's revision \(profile.revision) is not applied to this root yet; the agent's boot run comes first"]
            return RunOutcome(result: .nothingToDo, run: run, plan: idle, identity: nil, recovered: recovered, idleSteps: [.hooks])
        }
        if hooks.isEmpty || (!request.force && state.firstBootHooks == profile.revision) {
            return RunOutcome(result: .nothingToDo, run: run, plan: idle, identity: nil, recovered: recovered, idleSteps: [.hooks])
        }
        var next = state
        next.firstBootHooks = profile.revision
        next.run = run
        next.time = request.time
        var identity = IdentityRecord(
            unit: profile.hostname.value, fqdn: profile.fqdn, group: profile.group, revision: profile.revision,
            matched: request.unit.matched.map(\.description), steps: ["first-boot-hooks"],
            machineID: state.machineID.map { IdentityRecord.MachineID(old: $0, new: $0) }, hostKeys: [],
            addresses: profile.interfaces.flatMap { $0.addresses.map(\.description) }, image: request.imageID,
            enrolledInto: nil, inventoryCopy: nil, agentVersion: request.agentVersion, run: run, time: request.time,
            result: request.dryRun ? RunOutcome.Result.planned.rawValue : RunOutcome.Result.applied.rawValue)
        var plan = Plan(hooks: hooks)
        plan.notes = ["first-boot hooks \(hooks.map(\.name).joined(separator: ", ")) run on the unit; what a hook changes cannot be rolled back"]
        plan.changes = [
            try logLine(identity, root: root),
            FileChange(
                step: .identity, path: AgentState.path, reason: "the revision whose first-boot hooks ran",
                action: .write(contents: try next.encoded(), metadata: FileMetadata(mode: 0o644)), before: try root.readFile(AgentState.path)),
        ]
        if request.dryRun { return RunOutcome(result: .planned, run: run, plan: plan, identity: identity, recovered: []) }
        try apply(plan, identity: &identity, request, run: run, root: root)
        return RunOutcome(result: .applied, run: run, plan: plan, identity: identity, recovered: recovered)
    }

    /// The files a run writes about itself rather than for the unit: a run that would change only these is idle.
    static let records: Set<String> = [IdentityRecord.logPath, AgentState.path]

    /// What the root's state file says: the unit and revision it was last personalized for, or nil.
    public static func state(of root: TargetRoot) -> AgentState? { AgentState.read(root) }

    /// Puts back the files of `run` (default: the latest finished run).
    /// - Important: undoes the run's changes under `root`.
    public static func rollBack(_ run: String?, root: TargetRoot, wait: Double = 30) throws -> Journal {
        let lock = try RunLock(root: root, wait: wait, waiting: {})
        defer { withExtendedLifetime(lock) {} }
        let candidates = try Journal.runs(root)
        guard let name = run ?? candidates.reversed().first(where: { (try? Journal.read($0, root: root))??.state == .done }) else {
            throw AgentError.noRun("no finished run to roll back under \(quoted(root.path + Journal.runsFolder))")
        }
        guard var journal = try Journal.read(name, root: root) else {
            throw AgentError.noRun("no run \(quoted(name)); the runs are \(candidates.joined(separator: ", "))")
        }
        guard journal.state == .done else {
            throw AgentError.noRun("run \(name) is \(journal.state.rawValue), not done; nothing to roll back")
        }
        try Applier.rollBack(&journal, root: root)
        return journal
    }

    static func planRun(_ request: RunRequest, run: String, root: TargetRoot, state: AgentState?) throws -> (Plan, IdentityRecord) {
        var plan = Plan()
        let profile = request.profile
        let previous = state.flatMap { $0.isState(of: profile) ? $0 : nil }
        let currentID = try root.readTrimmedText("/etc/machine-id")
        let currentKeys = try HostKeysStep.current(root: root)
        let keepsID = previous?.keepsMachineID(of: profile, current: currentID) == true
        let keepsKeys = previous?.keepsHostKeys(of: profile, current: currentKeys, currentMachineID: currentID) == true
        // The machine-id and host keys are made once per unit: a later run of any steps (an edited record, a
        // technician's --skip network) keeps them, unless forced. A new key would greet every user with a
        // man-in-the-middle warning; a new machine-id splits the journal and changes the DHCP client id.
        var steps = request.steps
        if !request.force {
            let kept = [(AgentStep.machineID, keepsID), (.hostKeys, keepsKeys)].filter { steps.contains($0.0) && $0.1 }.map(\.0)
            steps.subtract(kept)
            if let note = keptNote(kept) { plan.notes.append(note) }
        }
        // The identity line names the machine-id and keys the unit has after the run, made now or kept.
        var made = (machineID: currentID.map { IdentityRecord.MachineID(old: $0, new: $0) }, hostKeys: currentKeys)
        try planSteps(steps, request, root: root, into: &plan, made: &made)
        let identity = IdentityRecord(
            unit: profile.hostname.value, fqdn: profile.fqdn, group: profile.group, revision: profile.revision,
            matched: request.unit.matched.map(\.description), steps: steps.sorted().map(\.rawValue),
            machineID: made.machineID, hostKeys: made.hostKeys,
            addresses: profile.interfaces.flatMap { $0.addresses.map(\.description) },
            image: request.imageID, enrolledInto: request.unit.enrolledInto,
            inventoryCopy: request.shrinksInventory ? "own record only" : nil, agentVersion: request.agentVersion, run: run, time: request.time,
            result: request.dryRun ? RunOutcome.Result.planned.rawValue : RunOutcome.Result.applied.rawValue)
        if steps.contains(.identity) { plan.changes.append(try logLine(identity, root: root)) }
        // The state remembers an identity made now (whatever steps ran, so a later run keeps it) and the revision
        // once every step has applied it.
        let everyStepApplied = request.steps.isSuperset(of: AgentStep.allCases.filter { $0 != .identity })
        let madeID = steps.contains(.machineID) ? made.machineID?.new : nil
        let madeKeys = steps.contains(.hostKeys) ? made.hostKeys.map(\.fingerprint) : nil
        if everyStepApplied || madeID != nil || madeKeys != nil {
            let next = AgentState(
                unit: profile.hostname.value, revision: everyStepApplied ? profile.revision : previous?.revision, run: run,
                time: request.time, identifiers: profile.identifiers.map(\.description),
                machineID: madeID ?? (keepsID ? previous?.machineID : nil),
                hostKeys: madeKeys ?? (keepsKeys ? currentKeys.map(\.fingerprint) : nil),
                firstBootHooks: previous?.firstBootHooks)
            plan.changes.append(FileChange(
                step: .identity, path: AgentState.path, reason: "what the next run keeps, and the revision applied",
                action: .write(contents: try next.encoded(), metadata: FileMetadata(mode: 0o644)),
                before: try root.readFile(AgentState.path)))
        }
        return (plan, identity)
    }

    /// Plans each chosen step into `plan`; `made` gets the machine-id and host keys those steps make.
    static func planSteps(
        _ steps: Set<AgentStep>, _ request: RunRequest, root: TargetRoot, into plan: inout Plan,
        made: inout (machineID: IdentityRecord.MachineID?, hostKeys: [IdentityRecord.HostKey])
    ) throws {
        let profile = request.profile
        if steps.contains(.hostname) {
            plan.changes += try HostnameStep.plan(profile, root: root)
        }
        if steps.contains(.machineID) {
            let result = try MachineIDStep.plan(root: root, random: request.random, newID: request.newMachineID(), live: request.live)
            plan.changes += result.changes
            plan.notes += result.notes
            made.machineID = IdentityRecord.MachineID(old: result.oldID, new: result.newID)
        }
        if steps.contains(.hostKeys) {
            let result = try HostKeysStep.plan(profile, root: root)
            plan.changes += result.changes
            plan.notes += result.notes
            made.hostKeys = result.keys
        }
        if steps.contains(.network) {
            let result = try NetworkStep.plan(profile, root: root, cards: request.facts.flatMap { $0.interfaces.isEmpty ? nil : $0.interfaces })
            plan.changes += result.changes
            plan.notes += result.notes
        }
        if steps.contains(.printers) {
            let result = try PrintersStep.plan(
                profile, root: root, cups: request.live ? CupsScheduler.running(server: request.cupsServer) : nil)
            plan.changes += result.changes
            plan.commands += result.commands
            plan.notes += result.notes
        }
        if steps.contains(.accounts) {
            let result = try AccountsStep.plan(profile, root: root, time: request.time)
            plan.changes += result.changes
            plan.notes += result.notes
        }
        let offline = profile.hooks.filter { $0.phase == .offline }
        if steps.contains(.hooks), !offline.isEmpty {
            plan.hooks = offline
            plan.notes.append(
                "hook\(offline.count == 1 ? "" : "s") \(offline.map(\.name).joined(separator: ", ")) run\(offline.count == 1 ? "s" : "") "
                    + "offline after the files are in place; what a hook changes cannot be rolled back")
        }
        if steps.contains(.files) {
            // An attached file may belong to an account this run makes: its owner is looked up in the planned files.
            var pending: [String: Data] = [:]
            for change in plan.changes { if let contents = change.after { pending[change.path] = contents } }
            let result = try FilesStep.plan(profile, root: root, taken: Set(plan.changes.map(\.path)), pending: pending)
            plan.changes += result.changes
            plan.notes += result.notes
        }
    }

    /// The note of a run that kept the unit's machine-id or host keys, or nil when it kept neither.
    static func keptNote(_ kept: [AgentStep]) -> String? {
        guard !kept.isEmpty else { return nil }
        let names = kept.map { $0 == .machineID ? "machine-id" : "host keys" }.joined(separator: " and ")
        return "\(names) kept: this unit already has its own (--force renews \(kept.count == 1 ? "it" : "them"))"
    }

    /// The identity log with `identity` appended as one more line.
    static func logLine(_ identity: IdentityRecord, root: TargetRoot) throws -> FileChange {
        let log = IdentityRecord.logPath
        let before = try root.readFile(log)
        var contents = before ?? Data()
        if let last = contents.last, last != UInt8(ascii: "\n") { contents.append(UInt8(ascii: "\n")) }
        contents.append(Data((try identity.jsonLine() + "\n").utf8))
        return FileChange(
            step: .identity, path: log, reason: "one line per run: who this unit became",
            action: .write(contents: contents, metadata: before == nil ? FileMetadata(mode: 0o640) : nil), before: before)
    }

    /// Gives the running system the unit's hostname, as systemd does from /etc/hostname at boot, so the services
    /// started after the agent (sshd, CUPS, DHCP) already use it. A failure is a note: the name applies at next boot.
    static func setRunningHostname(_ name: String) -> [String] {
        let result = name.withCString { sethostname($0, strlen($0)) }
        if result == 0 { return [] }
        return ["the running hostname is unchanged (\(String(cString: strerror(errno)))); it takes effect at the next boot"]
    }

    /// A run's name: its UTC time, sortable, and a random suffix so two runs in one second differ.
    static func runName(_ time: Date, random: RandomSource) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return "\(formatter.string(from: time))-\(random.hex(2))"
    }
}

import Foundation
import ImprintAgent
import ImprintCore
import ImprintImage

/// One thing preflight found wrong: which check, what is wrong, and what to change.
public struct PreflightFinding: Codable, Equatable, Sendable {
    /// The check that failed: `record`, `model`, `hostname`, `address`, `macs`, `printer-driver`,
    /// `printer-uri`, `printer-reach`, `plan`, `network`, `printers`, `sshd`, `agent`, `tool`, `boot`.
    public var check: String
    public var message: String
    public var fix: String

    public init(_ check: String, _ message: String, fix: String) {
        self.check = check
        self.message = message
        self.fix = fix
    }
}

/// What preflight says of one unit.
public struct PreflightUnitResult: Codable, Equatable, Sendable {
    public var unit: String
    public var model: String?
    /// The unit's own failures first, then the image's (which every unit inherits).
    public var failures: [PreflightFinding]
    /// The real tools that accepted what this unit would get (`netplan generate`, `cupsd + lpstat`...).
    public var checkedBy: [String]
    /// What its boot showed, for the unit `--boot` booted; nil for the others.
    public var boot: PreflightBootResult?

    public var passed: Bool { failures.isEmpty }
}

/// What preflight says of an image and the units it will go to.
public struct PreflightReport: Codable, Equatable, Sendable {
    public var image: String
    public var models: [String]
    public var group: String
    /// What is wrong with the image itself, whichever unit gets it (also in every unit's failures).
    public var imageFailures: [PreflightFinding]
    /// What the image's own checks ran: `restore` (every block and file checked), `sshd -t`.
    public var imageCheckedBy: [String]
    public var units: [PreflightUnitResult]

    public var passed: Int { units.filter(\.passed).count }
    public var failed: Int { units.count - passed }
}

/// Everything preflight checks a group against, read before it starts: nothing here is written.
public struct PreflightRequest: Sendable {
    /// The image, restored once into a scratch folder (or any root holding the image's tree).
    public var root: TargetRoot
    public var imageName: String
    public var manifest: ImageManifest
    public var group: String
    /// The units to check, in order.
    public var units: [UnitProfile]
    /// Every unit of the group, for the names and addresses that must be unique in it.
    public var groupUnits: [UnitProfile]
    /// Units of the group whose stored record cannot be read (hostname: why), named as failures.
    public var unreadable: [String: String] = [:]
    /// Every static address in the inventory, with the hostnames that have it.
    public var addressOwners: [String: [String]]
    public var agentVersion: String
    public var time: Date
    /// The unit to boot after the checks, and the agent to give it; nil boots none.
    public var boot: PreflightBootRequest?
    /// Whether every driverless queue's printer is asked over IPP from here (`--reach`).
    public var reach = false

    public init(
        root: TargetRoot, imageName: String, manifest: ImageManifest, group: String, units: [UnitProfile],
        groupUnits: [UnitProfile], unreadable: [String: String] = [:], addressOwners: [String: [String]], agentVersion: String,
        time: Date, boot: PreflightBootRequest? = nil
    ) {
        self.boot = boot
        self.unreadable = unreadable
        self.root = root
        self.imageName = imageName
        self.manifest = manifest
        self.group = group
        self.units = units
        self.groupUnits = groupUnits
        self.addressOwners = addressOwners
        self.agentVersion = agentVersion
        self.time = time
    }
}

/// Preflight: an image checked against every unit it will go to, before anything is deployed. Each unit's
/// personalization is planned against the one restored copy (a dry run: nothing is written to it) and what the unit
/// would get is handed to the real programs that will read it, in scratch folders.
public enum Preflight {
    /// The agent's steps whose files differ from unit to unit; the machine-id and host keys are made the same way
    /// for every unit (the host keys are checked once, with sshd).
    static let plannedSteps: Set<AgentStep> = [.hostname, .network, .printers, .identity]

    /// Checks every unit of `request` and the image.
    /// - Parameters:
    ///   - progress: called with each unit's name before it is checked.
    public static func run(_ request: PreflightRequest, progress: (String) -> Void = { _ in }) throws -> PreflightReport {
        let scratch = try makeTemporaryFolder("imprint-preflight")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var tools = ToolRunner(scratch: scratch)
        var imageFailures: [PreflightFinding] = []
        var imageCheckedBy = ["restore (every block and file checked, as verify)"]
        if let problems = try Installer.firstBootProblems(root: request.root) {
            imageFailures += problems.map { PreflightFinding("agent", $0, fix: "run 'imprint install' on the master and capture it again") }
            imageCheckedBy.append("agent binary and its libraries")
        }
        var results: [PreflightUnitResult] = []
        var sshdChecked = false
        for profile in request.units {
            progress(profile.hostname.value)
            var result = PreflightUnitResult(unit: profile.hostname.value, model: profile.model, failures: [], checkedBy: [])
            result.failures = recordFindings(profile, request: request)
            if result.failures.contains(where: { $0.check == "model" }) {
                results.append(result)
                continue
            }
            if !sshdChecked {
                // The host keys are made alike for every unit (the types the image has), so sshd checks them once.
                sshdChecked = true
                do {
                    let keys = try planUnit(profile, request: request, steps: [.hostKeys])
                    if let finding = try tools.checkSSHD(keys, root: request.root) {
                        imageFailures.append(finding)
                    } else if request.root.exists("/etc/ssh/sshd_config") {
                        imageCheckedBy.append("sshd -t")
                    }
                } catch {
                    imageFailures.append(finding(for: error, check: "sshd"))
                }
            }
            do {
                // A queue whose PPD the image lacks stops the printers step's plan; it is named already, and the
                // unit's network is still checked.
                let lacksPPD = result.failures.contains { $0.check == "printer-driver" }
                let plan = try planUnit(profile, request: request, steps: lacksPPD ? plannedSteps.subtracting([.printers]) : plannedSteps)
                result.failures += imageAddressFindings(plan, profile: profile, request: request)
                try tools.checkHostname(plan, profile: profile, root: request.root, unit: results.count, into: &result)
                try tools.checkNetwork(plan, profile: profile, root: request.root, unit: results.count, into: &result)
                if !lacksPPD { try tools.checkPrinters(plan, profile: profile, root: request.root, into: &result) }
                if request.reach { try tools.checkReach(profile, into: &result) }
            } catch {
                result.failures.append(finding(for: error, check: "plan"))
            }
            results.append(result)
        }
        try tools.finishNetworkd(into: &results)
        for (unit, why) in request.unreadable {
            results.append(PreflightUnitResult(unit: unit, model: nil, failures: [PreflightFinding(
                "record", "the unit's record cannot be read: \(why)",
                fix: "correct the record: 'imprint inventory set \(unit) ...' (a pasted document: --netplan-file FILE)")], checkedBy: []))
        }
        results.sort { $0.unit.lowercased() < $1.unit.lowercased() }
        for index in results.indices { results[index].failures += imageFailures }
        // Last: the boot writes into the copy (the agent, the check service) that every check above read.
        if let boot = request.boot, let index = results.firstIndex(where: { $0.unit.lowercased() == boot.unit.lowercased() }) {
            progress("\(results[index].unit): boot")
            let booted = request.units.first { $0.hostname.value.lowercased() == boot.unit.lowercased() }.map {
                bootUnit($0, request: request, boot: boot, scratch: scratch)
            } ?? PreflightBootResult(seconds: 0, checked: [], failures: [PreflightFinding(
                "boot", "the unit was not booted: its record cannot be read", fix: "correct the record first")])
            results[index].boot = booted
            results[index].failures += booted.failures
        }
        return PreflightReport(
            image: request.imageName, models: request.manifest.models, group: request.group, imageFailures: imageFailures,
            imageCheckedBy: imageCheckedBy, units: results)
    }

    /// A check that could not be made: a program this machine lacks, or the agent refusing to plan the unit.
    static func finding(for error: any Error, check: String) -> PreflightFinding {
        if let missing = error as? MissingTool {
            return PreflightFinding("tool", missing.description, fix: "install it on this machine: apt-get install \(missing.package)")
        }
        return PreflightFinding(check, "\(error)", fix: "correct the unit's record or the image as the message says")
    }

    /// The unit's plan against the restored copy: a dry run, so nothing is written to it.
    static func planUnit(_ profile: UnitProfile, request: PreflightRequest, steps: Set<AgentStep>) throws -> Plan {
        let run = RunRequest(
            profile: profile, matched: [], steps: steps, force: true, dryRun: true, imageID: request.imageName,
            source: "preflight", time: request.time, agentVersion: request.agentVersion, lockWait: 0)
        return try Agent.run(run, root: request.root).plan
    }
}

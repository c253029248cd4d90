import Foundation
import ImprintCore
import ImprintTemplates

/// Plans the unit's CUPS queues (its group's and its own) and its default printer.
///
/// Offline (cupsd not running on the root: after a restore, or at boot before cups.service) the step writes
/// /etc/cups/printers.conf and the PPDs of `ppd:` queues; with cupsd running it runs `lpadmin`. Either way it
/// remembers the queues it made in /var/lib/imprint/printers.json, removes those of them the unit no longer has,
/// and never touches another queue (a local USB printer).
enum PrintersStep {
    struct Result {
        var changes: [FileChange]
        var commands: [ExternalCommand]
        var notes: [String]
    }

    static let confPath = "/etc/cups/printers.conf"
    static let ppdFolder = "/etc/cups/ppd"
    /// The gid of group `lp` on Debian, Fedora, SUSE and Arch, for a root without /etc/group.
    static let defaultLPGroup: UInt32 = 7

    /// - Parameters:
    ///   - cups: the running scheduler to set the queues up with; nil when cupsd is not running on this root.
    static func plan(_ profile: UnitProfile, root: TargetRoot, cups: CupsScheduler? = nil) throws -> Result {
        let queues = try validated(profile)
        let previous = try ImprintQueues.read(root)
        let assigned = Set(queues.map(\.name.value))
        let stale = previous.queues.map(\.name).filter { !assigned.contains($0) }
        if queues.isEmpty && previous.queues.isEmpty { return Result(changes: [], commands: [], notes: []) }

        var result = Result(changes: [], commands: [], notes: [])
        for queue in queues {
            if case .ppd(let path) = queue.driver, try root.readFile(path) == nil {
                throw AgentError.printers(
                    "printer \(quoted(queue.name.value)) uses the PPD \(quoted(path)), which is not in \(quoted(root.path)); "
                        + "install its driver package in the image, or change the driver with "
                        + "'imprint inventory printer set \(queue.name.value) --driver ...'")
            }
        }
        if let cups {
            result.commands = commands(
                queues, defaultPrinter: profile.defaultPrinter, stale: stale, previous: previous, cups: cups, root: root)
            if !result.commands.isEmpty {
                let removed = stale.filter(cups.queues.keys.contains)
                result.notes.append(
                    "cupsd is running: the queues are set with lpadmin\(removed.isEmpty ? "" : ", and \(removed.joined(separator: ", ")) removed"); "
                        + "a rollback puts back Imprint's list of its queues, not the queues themselves")
            }
            let asked = queues.filter { $0.driver == .everywhere && !isSetUp($0, cups: cups, previous: previous) }
            if !asked.isEmpty {
                result.notes.append(
                    "\(asked.map(\.name.value).joined(separator: ", ")): driverless (IPP Everywhere); cupsd asks the printer for its "
                        + "capabilities, and a printer that does not answer leaves its queue without a driver until the next run")
            }
        } else {
            try planOffline(queues, profile: profile, previous: previous, stale: stale, root: root, into: &result)
        }
        let state = ImprintQueues(queues: queues.map(ImprintQueues.Queue.init))
        result.changes.append(FileChange(
            step: .printers, path: ImprintQueues.path, reason: "the queues Imprint made, so it removes only its own later",
            action: .write(contents: try state.encoded(), metadata: FileMetadata(mode: 0o644)),
            before: try root.readFile(ImprintQueues.path)))
        return result
    }

    /// The unit's queues, each value checked again before it reaches a file or a command line: a queue name,
    /// location or description that could end a `<Printer>` block or start a new line is refused.
    static func validated(_ profile: UnitProfile) throws -> [PrinterQueue] {
        var seen = Set<String>()
        var queues: [PrinterQueue] = []
        for queue in profile.printers where seen.insert(queue.name.value).inserted {
            let name = try PrinterName(queue.name.value)
            if name.value != queue.name.value {
                throw CoreError.invalidValue(field: "printer name", value: queue.name.value, reason: "has surrounding spaces")
            }
            _ = try DeviceURI(queue.deviceURI.value)
            for (field, value) in [("printer location", queue.location), ("printer description", queue.description)] {
                guard let value else { continue }
                _ = try PrinterQueue.checkText(value, field: field)
            }
            queues.append(queue)
        }
        if let wanted = profile.defaultPrinter, !seen.contains(wanted.value) {
            throw AgentError.printers(
                "the default printer \(quoted(wanted.value)) is not one of the unit's printers "
                    + "(\(queues.map(\.name.value).joined(separator: ", "))); assign it to the unit or its group first")
        }
        return queues
    }

    // MARK: - Offline: printers.conf and PPDs

    static func planOffline(
        _ queues: [PrinterQueue], profile: UnitProfile, previous: ImprintQueues, stale: [String], root: TargetRoot,
        into result: inout Result
    ) throws {
        let (before, conf) = try readConf(root)
        let template = try Template.load("cups-printer.conf", root: root)
        let defaultName = profile.defaultPrinter?.value
        let merged = try merge(
            queues, into: conf, isNewFile: before == nil, defaultName: defaultName, previous: previous, stale: stale,
            template: template)
        var reason = "the unit's queues \(queues.map(\.name.value).joined(separator: ", "))"
        if queues.isEmpty { reason = "the unit has no printers now" }
        if let defaultName { reason += "; default \(defaultName)" }
        reason += "; other queues kept as they were"
        if template.source != "built-in" { reason += "; blocks from \(template.source)" }
        let lp = try lpGroup(root)
        result.changes.append(FileChange(
            step: .printers, path: confPath, reason: reason,
            action: .write(contents: Data(merged.conf.text.utf8), metadata: before == nil ? FileMetadata(mode: 0o600, owner: 0, group: lp) : nil),
            before: before))
        let finished = try planPPDs(queues, previous: previous, stale: stale, root: root, lpGroup: lp, into: &result)
        result.notes += offlineNotes(queues, merged: merged, defaultName: defaultName, finished: finished, root: root)
    }

    /// The image's printers.conf as it is (nil when it has none), and parsed.
    private static func readConf(_ root: TargetRoot) throws -> (before: Data?, conf: PrintersConf) {
        let before = try root.readFile(confPath)
        let existing = try before.map { data throws -> String in
            guard let text = String(data: data, encoding: .utf8) else {
                throw AgentError.printers("\(quoted(confPath)) in \(quoted(root.path)) is not UTF-8 text; fix the file or move it aside")
            }
            return text
        }
        return (before, try PrintersConf(parsing: existing ?? "", path: confPath))
    }

    /// printers.conf with the unit's queues laid in, and what that did to the queues the image had.
    struct MergedConf {
        var conf: PrintersConf
        /// Queues Imprint made that the unit no longer has.
        var removed: [String] = []
        /// Queues of the image that had the name of one of the unit's, now Imprint's.
        var replacedForeign: [String] = []
        /// Queues of the image kept, but no longer the default.
        var undefaulted: [String] = []
    }

    /// Replaces the blocks of the unit's queues in place, drops the stale ones, takes the default from any other
    /// queue when the unit has one, keeps everything else as it was and appends the unit's queues not yet there.
    private static func merge(
        _ queues: [PrinterQueue], into conf: PrintersConf, isNewFile: Bool, defaultName: String?, previous: ImprintQueues,
        stale: [String], template: Template
    ) throws -> MergedConf {
        let assigned = Dictionary(queues.map { ($0.name.value, $0) }, uniquingKeysWith: { first, _ in first })
        let ownedBefore = Set(previous.queues.map(\.name))
        var merged = MergedConf(conf: PrintersConf(parts: []))
        var parts: [PrintersConf.Part] = []
        var written = Set<String>()
        for part in conf.parts {
            guard case .queue(let block) = part else {
                parts.append(part)
                continue
            }
            if let queue = assigned[block.name], !written.contains(block.name) {
                parts.append(.queue(try render(queue, isDefault: block.name == defaultName, template: template)))
                written.insert(block.name)
                if !ownedBefore.contains(block.name) { merged.replacedForeign.append(block.name) }
            } else if assigned[block.name] != nil || stale.contains(block.name) {
                if stale.contains(block.name) { merged.removed.append(block.name) }
            } else if defaultName != nil && block.isDefault {
                parts.append(.queue(block.asDefault(false)))
                merged.undefaulted.append(block.name)
            } else {
                parts.append(part)
            }
        }
        if isNewFile {
            parts.insert(contentsOf: [
                .line("# Printer configuration file for CUPS, written by Imprint's printers step\n"),
                .line("# DO NOT EDIT THIS FILE WHEN CUPSD IS RUNNING\n"),
            ], at: 0)
        }
        if let last = parts.last, case .line(let line) = last, !line.hasSuffix("\n") {
            parts[parts.count - 1] = .line(line + "\n")
        }
        for queue in queues where !written.contains(queue.name.value) {
            parts.append(.queue(try render(queue, isDefault: queue.name.value == defaultName, template: template)))
        }
        merged.conf = PrintersConf(parts: parts)
        return merged
    }

    /// Copies each `.ppd` driver into CUPS's folder and removes the PPDs of queues that no longer use one; returns
    /// the driverless queues a live run already finished.
    private static func planPPDs(
        _ queues: [PrinterQueue], previous: ImprintQueues, stale: [String], root: TargetRoot, lpGroup lp: UInt32,
        into result: inout Result
    ) throws -> Set<String> {
        var finished = Set<String>()
        for queue in queues {
            let ppd = "\(ppdFolder)/\(queue.name.value).ppd"
            let current = try root.readFile(ppd)
            switch queue.driver {
            case .ppd(let path):
                guard let contents = try root.readFile(path) else { continue }
                result.changes.append(FileChange(
                    step: .printers, path: ppd, reason: "the driver of \(queue.name.value), copied from \(path)",
                    action: .write(contents: contents, metadata: current == nil ? FileMetadata(mode: 0o640, owner: 0, group: lp) : nil),
                    before: current))
            case .everywhere where current != nil && previous.queues.contains(ImprintQueues.Queue(queue)):
                // The IPP Everywhere PPD lpadmin made for this very printer on a live run: still right.
                finished.insert(queue.name.value)
            case .everywhere, .raw:
                if let current {
                    result.changes.append(FileChange(
                        step: .printers, path: ppd, reason: "\(queue.name.value) is now a \(queue.driver) queue: its old PPD goes",
                        action: .remove, before: current))
                }
            }
        }
        for name in stale {
            let ppd = "\(ppdFolder)/\(name).ppd"
            if let current = try root.readFile(ppd) {
                result.changes.append(FileChange(
                    step: .printers, path: ppd, reason: "the PPD of \(name), a queue Imprint made that the unit no longer has",
                    action: .remove, before: current))
            }
        }
        return finished
    }

    /// What the admin should know about an offline run: a missing CUPS, queues removed, taken over or undefaulted,
    /// and driverless queues that wait for cupsd.
    private static func offlineNotes(
        _ queues: [PrinterQueue], merged: MergedConf, defaultName: String?, finished: Set<String>, root: TargetRoot
    ) -> [String] {
        var notes: [String] = []
        if !root.exists("/etc/cups") {
            notes.append("the image has no /etc/cups: is CUPS installed? The queues appear once it is")
        }
        let removed = merged.removed
        if !removed.isEmpty {
            notes.append("removed queue\(removed.count == 1 ? "" : "s") \(removed.joined(separator: ", ")): Imprint made them and the unit no longer has them")
        }
        let replacedForeign = merged.replacedForeign
        if !replacedForeign.isEmpty {
            notes.append("queue\(replacedForeign.count == 1 ? "" : "s") \(replacedForeign.joined(separator: ", ")) in the image replaced by the inventory's (same name); Imprint owns them from now on")
        }
        if let defaultName, !merged.undefaulted.isEmpty {
            notes.append("\(merged.undefaulted.joined(separator: ", ")) kept, but no longer the default: the unit's default is \(defaultName)")
        }
        let everywhere = queues.filter { $0.driver == .everywhere && !finished.contains($0.name.value) }.map(\.name.value)
        if !everywhere.isEmpty {
            notes.append(
                "\(everywhere.joined(separator: ", ")): driverless (IPP Everywhere) queues need cupsd up and the printer "
                    + "answering; written now without a driver, as CUPS itself leaves a queue whose printer does not "
                    + "answer, so they exist, take jobs and keep the default; once cupsd is up, imprint-printers.service "
                    + "(set up by 'imprint install') makes them IPP Everywhere queues with lpadmin -m everywhere, as "
                    + "'imprint run --root / --only printers' does by hand")
        }
        return notes
    }

    /// One queue's block, rendered from the `cups-printer.conf` template.
    static func render(_ queue: PrinterQueue, isDefault: Bool, template: Template) throws -> PrintersConf.Queue {
        var values: [String: Any] = [
            "tag": isDefault ? "DefaultPrinter" : "Printer",
            "name": queue.name.value,
            "info": PrintersConf.escaped(queue.description ?? queue.name.value),
            "uri": PrintersConf.escaped(queue.deviceURI.value),
        ]
        if let location = queue.location, !location.isEmpty { values["location"] = PrintersConf.escaped(location) }
        let text = template.render(values)
        let parsed = try PrintersConf(parsing: text, path: "template \(template.source)")
        guard parsed.queues.count == 1, let block = parsed.queues.first, block.name == queue.name.value,
            block.isDefault == isDefault
        else {
            throw AgentError.printers(
                "template cups-printer.conf from \(template.source) must render exactly one <Printer NAME> block "
                    + "for \(quoted(queue.name.value)); fix or remove the override")
        }
        // Lines the template renders outside the block (blank lines) are left out.
        var rendered = block
        if !rendered.closing.hasSuffix("\n") { rendered.closing += "\n" }
        return rendered
    }

    /// The gid of group `lp` in the root's /etc/group, which CUPS gives its configuration files.
    static func lpGroup(_ root: TargetRoot) throws -> UInt32 {
        try AccountIDs.read("/etc/group", root: root)["lp"] ?? defaultLPGroup
    }

    // MARK: - Live: lpadmin

    /// The `lpadmin` commands that set the unit's queues on a running cupsd: each queue (`-E` enables it and
    /// accepts jobs), the default, and `-x` for the queues Imprint made that the unit no longer has. A queue cupsd
    /// already has as Imprint made it (same URI, driver and texts, and a PPD when its driver makes one) is left
    /// alone, so a run on a finished unit runs nothing; a driverless queue whose printer did not answer last time
    /// has no PPD yet and is asked for again.
    static func commands(
        _ queues: [PrinterQueue], defaultPrinter: PrinterName?, stale: [String], previous: ImprintQueues,
        cups: CupsScheduler, root: TargetRoot
    ) -> [ExternalCommand] {
        let server = cups.server.map { ["-h", $0] } ?? []
        var commands: [ExternalCommand] = []
        for queue in queues where !isSetUp(queue, cups: cups, previous: previous) {
            var arguments = server + ["-p", queue.name.value, "-v", queue.deviceURI.value]
            switch queue.driver {
            case .everywhere: arguments += ["-m", "everywhere"]
            case .raw: arguments += ["-m", "raw"]
            case .ppd(let path): arguments += ["-P", root.path == "/" ? path : root.path + path]
            }
            arguments += ["-D", queue.description ?? queue.name.value, "-L", queue.location ?? ""]
            arguments += ["-o", "printer-is-shared=false", "-E"]
            commands.append(ExternalCommand(
                step: .printers, executable: "lpadmin", arguments: arguments,
                reason: "queue \(queue.name.value) (\(queue.driver)) for \(queue.deviceURI.value)"))
        }
        if let defaultPrinter, cups.defaultPrinter != defaultPrinter.value {
            commands.append(ExternalCommand(
                step: .printers, executable: "lpadmin", arguments: server + ["-d", defaultPrinter.value],
                reason: "the unit's default printer"))
        }
        for name in stale where cups.queues[name] != nil {
            commands.append(ExternalCommand(
                step: .printers, executable: "lpadmin", arguments: server + ["-x", name],
                reason: "Imprint made \(name) and the unit no longer has it"))
        }
        return commands
    }

    /// Whether cupsd already has `queue` as Imprint made it: the same URI, the same driver and texts in
    /// printers.json, and a PPD where the driver makes one.
    static func isSetUp(_ queue: PrinterQueue, cups: CupsScheduler, previous: ImprintQueues) -> Bool {
        guard let current = cups.queues[queue.name.value] else { return false }
        return current.uri == queue.deviceURI.value && (current.hasPPD || queue.driver == .raw)
            && previous.queues.contains(ImprintQueues.Queue(queue))
    }
}

/// The cupsd a live run talks to, and the queues it has now.
struct CupsScheduler: Equatable, Sendable {
    /// What cupsd says of one queue.
    struct Queue: Equatable, Sendable {
        var uri: String
        /// Whether the queue has a PPD (`Interface:` in `lpstat -l -p`): a driverless queue gets one only once its
        /// printer has answered.
        var hasPPD: Bool
    }

    /// `host:port` for `-h`, or nil for the system's own (CUPS_SERVER, client.conf, the local socket).
    var server: String?
    var queues: [String: Queue]
    var defaultPrinter: String?

    /// The running scheduler, asked with `lpstat`; nil when it is not running or lpstat is not installed, which
    /// means the printers step writes printers.conf instead.
    static func running(server: String? = nil) -> CupsScheduler? {
        let host = server.map { ["-h", $0] } ?? []
        func lpstat(_ arguments: [String], _ reason: String) -> String? {
            let command = ExternalCommand(step: .printers, executable: "lpstat", arguments: host + arguments, reason: reason)
            guard let result = try? CommandRunner.capture(command) else { return nil }
            return result.output
        }
        guard lpstat(["-r"], "is cupsd running?")?.contains("scheduler is running") == true,
            let devices = lpstat(["-v"], "the queues cupsd has, with their URIs"),
            let details = lpstat(["-l", "-p"], "which queues have a driver"),
            let destination = lpstat(["-d"], "the default printer")
        else { return nil }
        return CupsScheduler(lpstatDevices: devices, details: details, destination: destination, server: server)
    }

    init(server: String?, queues: [String: Queue], defaultPrinter: String? = nil) {
        self.server = server
        self.queues = queues
        self.defaultPrinter = defaultPrinter
    }

    /// Reads the output of `lpstat -v` ("device for NAME: URI"), `lpstat -l -p` (a "printer NAME ..." line, then
    /// tab-indented details, "Interface: PPD" among them) and `lpstat -d` ("system default destination: NAME").
    init(lpstatDevices devices: String, details: String, destination: String, server: String?) {
        var queues: [String: Queue] = [:]
        for line in devices.split(whereSeparator: \.isNewline) where line.hasPrefix("device for ") {
            let rest = line.dropFirst("device for ".count)
            guard let colon = rest.firstIndex(of: ":") else { continue }
            let uri = rest[rest.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            queues[String(rest[..<colon])] = Queue(uri: uri, hasPPD: false)
        }
        var current: String?
        for line in details.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("printer ") {
                current = line.split(separator: " ").dropFirst().first.map(String.init)
            } else if let name = current, line.trimmingCharacters(in: .whitespaces).hasPrefix("Interface:") {
                queues[name]?.hasPPD = true
            }
        }
        let prefix = "system default destination: "
        let defaultPrinter = destination.split(whereSeparator: \.isNewline).first { $0.hasPrefix(prefix) }
            .map { String($0.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
        self.init(server: server, queues: queues, defaultPrinter: defaultPrinter)
    }
}

/// /var/lib/imprint/printers.json in the root: the queues Imprint made, with the URI and driver it gave them.
struct ImprintQueues: Codable, Equatable {
    struct Queue: Codable, Equatable {
        var name: String
        var uri: String
        var driver: String
        /// The texts lpadmin was given (absent in files of older versions, which then count as changed).
        var description: String?
        var location: String?

        init(_ queue: PrinterQueue) {
            name = queue.name.value
            uri = queue.deviceURI.value
            driver = queue.driver.description
            description = queue.description ?? queue.name.value
            location = queue.location ?? ""
        }
    }

    var queues: [Queue]

    static let path = "/var/lib/imprint/printers.json"

    /// The queues a previous run made; none when there was no run (a file that cannot be read is an error, not
    /// "none": Imprint would otherwise forget queues it must remove).
    static func read(_ root: TargetRoot) throws -> ImprintQueues {
        guard let data = try root.readFile(path) else { return ImprintQueues(queues: []) }
        do {
            return try JSONDecoder().decode(ImprintQueues.self, from: data)
        } catch {
            throw AgentError.printers(
                "\(quoted(path)) in \(quoted(root.path)) cannot be read (\(error)); it lists the queues Imprint made: "
                    + "fix it, or remove it to make Imprint forget them")
        }
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }
}

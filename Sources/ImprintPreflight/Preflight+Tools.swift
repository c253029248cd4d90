import Crypto
import Foundation
import ImprintCore

/// Hands what each unit would get to the real programs that read it, each in a scratch folder: nothing is written
/// to the restored copy, and the host's own configuration is never read or changed (a daemon that needs a system
/// folder gets a private mount of it).
struct ToolRunner {
    let scratch: String
    /// cupsd's verdict on each distinct set of CUPS files: the units of a group share their queues, so one cupsd
    /// usually serves the whole group.
    private var printerVerdicts: [String: PreflightFinding?] = [:]
    /// The systemd-networkd files of every unit, checked by one networkd run at the end (it takes 2 s).
    /// (`unit` is the index of the unit's result.)
    private var networkdFiles: [(unit: Int, name: String, contents: Data)] = []
    /// With `--reach`: what each printer's URI answered (nil: it answered).
    private var reachVerdicts: [String: PreflightFinding?] = [:]

    init(scratch: String) { self.scratch = scratch }

    // MARK: - Network

    /// The unit's network files, given to the validator of the stack they are for.
    /// - Parameters:
    ///   - unit: the index `result` will have among the results, for the systemd-networkd run at the end.
    mutating func checkNetwork(
        _ plan: Plan, profile: UnitProfile, root: TargetRoot, unit: Int, into result: inout PreflightUnitResult
    ) throws {
        let written = plan.changes.filter { $0.step == .network }.compactMap { change -> (path: String, contents: Data, mode: UInt32)? in
            guard case .write(let contents, let metadata) = change.action else { return nil }
            return (change.path, contents, metadata?.mode ?? 0o644)
        }
        guard !written.isEmpty else {
            result.failures.append(PreflightFinding(
                "macs", "no network file is rendered for \(profile.hostname.value): \(plan.notes.filter { $0.hasPrefix("network:") }.joined(separator: "; "))",
                fix: "give the unit its MAC address: 'imprint inventory set \(profile.hostname.value) --mac MAC'"))
            return
        }
        let text = written.map { String(decoding: $0.contents, as: UTF8.self).lowercased() }.joined(separator: "\n")
        let uncovered = profile.interfaces.compactMap(\.mac).filter { !text.contains($0.value.lowercased()) }
        if !uncovered.isEmpty {
            result.failures.append(PreflightFinding(
                "macs", "the network files do not match \(uncovered.map(\.value).joined(separator: ", "))",
                fix: "check the unit's netplan document binds every card it configures"))
        }
        let folder = try newFolder("network-\(unit)")
        if written.contains(where: { $0.path.hasPrefix("/etc/netplan/") }) {
            // The image's own netplan files, as the unit keeps them, beside the unit's.
            let removed = Set(plan.changes.filter { $0.action == .remove }.map(\.path))
            for name in (try? root.listFolder("/etc/netplan")) ?? [] where !removed.contains("/etc/netplan/" + name) {
                if let data = try root.readFile("/etc/netplan/" + name) {
                    try write(data, to: folder + "/etc/netplan/" + name, mode: 0o600)
                }
            }
            for file in written { try write(file.contents, to: folder + file.path, mode: file.mode) }
            // The generator 'netplan generate' runs, called directly where it is: the same parser and messages,
            // without the Python front end's 0.2 s start, which was most of a unit's check.
            let generator = FileManager.default.isExecutableFile(atPath: "/usr/lib/netplan/generate")
                ? ("/usr/lib/netplan/generate", ["--root-dir", folder]) : ("/usr/sbin/netplan", ["generate", "--root-dir", folder])
            Self.judge(
                try run(generator.0, generator.1), program: "netplan generate",
                refused: "the unit's files", fix: "correct the unit's network settings or the image's /etc/netplan files", into: &result)
        }
        for file in written where file.path.hasSuffix(".nmconnection") {
            // nmcli may warn on standard error about a keyfile it reads: only its exit status is a refusal.
            Self.judge(
                try run("/usr/bin/nmcli", ["--offline", "connection", "modify", "connection.id", "preflight"], input: file.contents),
                strict: false, program: "nmcli --offline", refused: file.path, into: &result)
        }
        for file in written where file.path.hasPrefix("/etc/network/") {
            try write(file.contents, to: folder + file.path, mode: file.mode)
            Self.judge(
                try run("/usr/sbin/ifquery", ["-i", folder + file.path, "--list", "--allow", "hotplug"]), program: "ifquery",
                refused: file.path, into: &result)
        }
        for file in written where file.path.hasPrefix("/etc/systemd/network/") {
            networkdFiles.append((unit, "u\(unit)-" + (file.path as NSString).lastPathComponent, file.contents))
        }
        if written.contains(where: { $0.path.hasPrefix("/etc/sysconfig/") }) {
            result.checkedBy.append("ifcfg: no offline reader, not checked by a tool")
        }
    }

    /// What a network program said of the unit's files: a failure naming them with its complaint, or the program
    /// among those that accepted them.
    /// - Parameters:
    ///   - strict: anything on standard error is a complaint (netplan, ifquery); otherwise only the exit status.
    static func judge(
        _ outcome: Outcome, strict: Bool = true, program: String, refused: String,
        fix: String = "correct the unit's network settings", into result: inout PreflightUnitResult
    ) {
        if let problem = outcome.problem, strict || outcome.status != 0 {
            result.failures.append(PreflightFinding("network", "\(program) refused \(refused): \(problem)", fix: fix))
        } else if !result.checkedBy.contains(program) {
            result.checkedBy.append(program)
        }
    }

    /// Runs systemd-networkd once over every unit's files (renamed apart), for 2 s in a private network and mount
    /// namespace with them bind-mounted over /etc/systemd/network, and names each unit whose file it complains of.
    /// A deliberately broken file beside them proves that complaints are seen.
    mutating func finishNetworkd(into results: inout [PreflightUnitResult]) throws {
        guard !networkdFiles.isEmpty else { return }
        let units = Set(networkdFiles.map(\.unit))
        do {
            try MissingTool.check("/usr/lib/systemd/systemd-networkd")
            try MissingTool.check("/usr/bin/unshare")
        } catch {
            for unit in units { results[unit].failures.append(Preflight.finding(for: error, check: "network")) }
            return
        }
        let folder = try newFolder("networkd")
        for file in networkdFiles { try write(file.contents, to: folder + "/" + file.name, mode: 0o644) }
        try write(Data("[Match]\nMACAddress=zz\n[Network]\nAddress=notanaddress\n".utf8), to: folder + "/99-broken.network", mode: 0o644)
        let script = """
            set -e
            mount -t tmpfs tmpfs /run
            mkdir -p /run/systemd/netif
            mount --bind "$1" /etc/systemd/network
            SYSTEMD_LOG_LEVEL=debug SYSTEMD_LOG_TARGET=console timeout 2 /usr/lib/systemd/systemd-networkd 2>&1 || true
            """
        let ran = try run("/usr/bin/unshare", ["--net", "--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", folder])
        let log = ran.output + ran.error
        guard log.contains("99-broken.network") else {
            for unit in units {
                results[unit].failures.append(PreflightFinding(
                    "tool", "systemd-networkd could not be run to read the unit's files: \(log.suffix(300))",
                    fix: "run preflight as root on a machine with systemd (Debian: systemd)"))
            }
            return
        }
        for unit in units {
            let names = networkdFiles.filter { $0.unit == unit }.map(\.name)
            let complaints = log.split(separator: "\n").filter { line in
                names.contains { line.contains($0) } && !line.contains("Parsing ") && !line.contains("Loaded")
            }
            if complaints.isEmpty {
                results[unit].checkedBy.append("systemd-networkd")
            } else {
                results[unit].failures.append(PreflightFinding(
                    "network", "systemd-networkd: " + complaints.joined(separator: "; "), fix: "correct the unit's network settings"))
            }
        }
    }

    // MARK: - Hostname

    /// Whether the unit's name resolves in the image as the unit will have it: `getent hosts NAME` in a chroot of the
    /// restored copy, so through the image's own /etc/nsswitch.conf and libraries, in private mount and network
    /// namespaces (no DNS query leaves the machine). The unit's planned /etc/hosts lies over the copy's /etc in a
    /// read-only overlay, so the copy is not written, also when the image has no /etc/hosts (a debootstrap has
    /// none). An image without getent is not checked.
    func checkHostname(_ plan: Plan, profile: UnitProfile, root: TargetRoot, unit: Int, into result: inout PreflightUnitResult) throws {
        guard let getent = ["/usr/bin/getent", "/bin/getent"].first(where: root.exists) else { return }
        let planned = plan.changes.first { $0.path == "/etc/hosts" }.flatMap(\.after)
        guard let hosts = try planned ?? root.readFile("/etc/hosts") else { return }
        let layer = try newFolder("hosts-\(unit)")
        try write(hosts, to: layer + "/hosts", mode: 0o644)
        let script = """
            set -e
            mount -t overlay overlay -o "lowerdir=$1:$2" "$2"
            exec chroot "$3" "$4" hosts "$5"
            """
        let name = profile.hostname.value
        let looked = try run("/usr/bin/unshare", [
            "--mount", "--net", "--propagation", "private", "/bin/sh", "-c", script, "sh",
            layer, try root.resolve("/etc"), root.path, getent, name,
        ])
        let words = looked.output.split(whereSeparator: \.isWhitespace).map { $0.lowercased() }
        if looked.status == 0, words.contains(name.lowercased()) {
            result.checkedBy.append("getent hosts")
        } else {
            result.failures.append(PreflightFinding(
                "hostname", "\(name) does not resolve in the image (getent hosts through its /etc/nsswitch.conf: "
                    + (looked.problem ?? looked.output.trimmingCharacters(in: .whitespacesAndNewlines)) + ")",
                fix: "give 'hosts:' the 'files' source in the master's /etc/nsswitch.conf and capture it again"))
        }
    }

    // MARK: - Printers

    /// The CUPS files the unit would have (the image's, with the plan's printers.conf and PPDs over them), loaded by
    /// a throwaway cupsd: lpstat must list exactly the unit's queues and the image's own, and the default.
    mutating func checkPrinters(_ plan: Plan, profile: UnitProfile, root: TargetRoot, into result: inout PreflightUnitResult) throws {
        var files: [String: Data] = [:]
        if let conf = try root.readFile("/etc/cups/printers.conf") { files["printers.conf"] = conf }
        for name in (try? root.listFolder("/etc/cups/ppd")) ?? [] {
            if let data = try root.readFile("/etc/cups/ppd/" + name) { files["ppd/" + name] = data }
        }
        let imageQueues = Self.queueNames(files["printers.conf"])
        let expected = Self.expectedQueues(profile, imageQueues: imageQueues)
        for change in plan.changes where change.step == .printers && change.path.hasPrefix("/etc/cups/") {
            let name = String(change.path.dropFirst("/etc/cups/".count))
            switch change.action {
            case .write(let contents, _): files[name] = contents
            case .remove: files[name] = nil
            case .symlink, .folder: break
            }
        }
        if expected.names.isEmpty { return }
        var hasher = SHA256()
        for (name, data) in files.sorted(by: { $0.key < $1.key }) {
            hasher.update(data: Data(name.utf8))
            hasher.update(data: data)
        }
        hasher.update(data: Data("\(expected)".utf8))
        let key = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        if printerVerdicts[key] == nil {
            printerVerdicts[key] = try cupsdVerdict(files: files, expected: expected)
        }
        if let finding = printerVerdicts[key] ?? nil {
            result.failures.append(finding)
        } else {
            result.checkedBy.append("cupsd + lpstat")
        }
    }

    private func cupsdVerdict(files: [String: Data], expected: ScratchCupsd.Queues) throws -> PreflightFinding? {
        try MissingTool.check("/usr/sbin/cupsd")
        try MissingTool.check("/usr/bin/lpstat")
        let cupsd = try ScratchCupsd()
        for (name, data) in files { try cupsd.write("etc/" + name, data) }
        try cupsd.start()
        defer { cupsd.stop() }
        let listed = try cupsd.queues()
        guard listed != expected else { return nil }
        var parts: [String] = []
        let missing = Set(expected.names).subtracting(listed.names).sorted()
        let extra = Set(listed.names).subtracting(expected.names).sorted()
        if !missing.isEmpty { parts.append("cupsd did not load \(missing.joined(separator: ", "))") }
        if !extra.isEmpty { parts.append("cupsd also lists \(extra.joined(separator: ", "))") }
        if listed.defaultPrinter != expected.defaultPrinter {
            parts.append("the default is \(listed.defaultPrinter ?? "none"), not \(expected.defaultPrinter ?? "none")")
        }
        let log = cupsd.log().split(separator: "\n").suffix(3).joined(separator: "; ")
        return PreflightFinding(
            "printers", parts.joined(separator: "; ") + (log.isEmpty ? "" : " (cupsd: \(log))"),
            fix: "check the printers' drivers and the image's /etc/cups")
    }

    /// What lpstat must list for the unit: its queues and the image's own, its default or else the image's.
    static func expectedQueues(_ profile: UnitProfile, imageQueues: ScratchCupsd.Queues) -> ScratchCupsd.Queues {
        ScratchCupsd.Queues(
            names: Set(profile.printers.map(\.name.value)).union(imageQueues.names).sorted(),
            defaultPrinter: profile.defaultPrinter?.value ?? imageQueues.defaultPrinter)
    }

    /// The queues and default printer a printers.conf defines.
    static func queueNames(_ conf: Data?) -> ScratchCupsd.Queues {
        var names: [String] = []
        var defaultPrinter: String?
        for line in String(decoding: conf ?? Data(), as: UTF8.self).split(separator: "\n") {
            for tag in ["<Printer ", "<DefaultPrinter "] where line.hasPrefix(tag) && line.hasSuffix(">") {
                let name = String(line.dropFirst(tag.count).dropLast())
                names.append(name)
                if tag == "<DefaultPrinter " { defaultPrinter = name }
            }
        }
        return ScratchCupsd.Queues(names: names.sorted(), defaultPrinter: defaultPrinter)
    }

    // MARK: - Reach

    /// With `--reach`: each of the unit's driverless queues' printers asked for its attributes over IPP from this
    /// machine by CUPS's own client (`ipptool` with its `get-printer-attributes.test`), each URI once per run. A
    /// `dnssd://` URI names a service only the unit's network resolves, so it is not asked.
    mutating func checkReach(_ profile: UnitProfile, into result: inout PreflightUnitResult) throws {
        var asked = false
        for queue in profile.printers {
            guard case .everywhere = queue.driver else { continue }
            let uri = queue.deviceURI.value
            guard Preflight.everywhereURIProblem(uri) == nil, !uri.lowercased().hasPrefix("dnssd:") else { continue }
            if reachVerdicts[uri] == nil {
                let outcome = try run("/usr/bin/ipptool", ["-T", "10", uri, "get-printer-attributes.test"])
                reachVerdicts[uri] = outcome.status == 0 ? .some(nil) : PreflightFinding(
                    "printer-reach", "printer \(queue.name.value) at \(uri) does not answer IPP from here: "
                        + (outcome.error + outcome.output).split(separator: "\n").suffix(2).joined(separator: "; "),
                    fix: "switch the printer on and check its address, or run preflight from a machine on the printers' network")
            }
            if let finding = reachVerdicts[uri] ?? nil { result.failures.append(finding) }
            asked = true
        }
        if asked && !result.failures.contains(where: { $0.check == "printer-reach" }) { result.checkedBy.append("ipptool") }
    }

    // MARK: - sshd

    /// `sshd -t` with the image's /etc/ssh and the host keys a unit would get, in a private mount namespace with a
    /// copy of that folder over /etc/ssh and its own /run. Nil when sshd accepts it, or the image has no sshd.
    func checkSSHD(_ keys: Plan, root: TargetRoot) throws -> PreflightFinding? {
        guard root.exists("/etc/ssh/sshd_config") else { return nil }
        try MissingTool.check("/usr/sbin/sshd")
        let folder = try newFolder("ssh")
        let copied = try run("/bin/cp", ["-a", try root.resolve("/etc/ssh") + "/.", folder])
        if let problem = copied.problem { throw CoreError.io(path: "/etc/ssh", operation: "copy (\(problem))", errno: EIO) }
        for change in keys.changes where change.step == .hostKeys {
            guard case .write(let contents, let metadata) = change.action else { continue }
            try write(contents, to: folder + "/" + (change.path as NSString).lastPathComponent, mode: metadata?.mode ?? 0o600)
        }
        let script = """
            set -e
            mount -t tmpfs tmpfs /run
            mkdir /run/sshd
            mount --bind "$1" /etc/ssh
            exec /usr/sbin/sshd -t -f /etc/ssh/sshd_config
            """
        let tested = try run("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", folder])
        guard tested.status != 0 else { return nil }
        return PreflightFinding(
            "sshd", "sshd -t refused the image's configuration with the unit's new host keys: \(tested.error.trimmingCharacters(in: .whitespacesAndNewlines))",
            fix: "correct /etc/ssh/sshd_config on the master and capture it again")
    }

    // MARK: - Helpers

    struct Outcome {
        var status: Int32
        var output: String
        var error: String

        /// The tool's complaint: its error output, or its exit status when it said nothing.
        var problem: String? {
            let said = error.trimmingCharacters(in: .whitespacesAndNewlines)
            if !said.isEmpty { return said }
            return status == 0 ? nil : "exit status \(status)"
        }
    }

    func run(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> Outcome {
        try MissingTool.check(executable)
        let result = try ChildProcess(
            executable, arguments, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"],
            input: input.map(Array.init) ?? [], timeout: .seconds(60)
        ).run()
        return Outcome(status: result.status, output: result.outputText, error: result.errorText)
    }

    func newFolder(_ name: String) throws -> String {
        let path = scratch + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func write(_ data: Data, to path: String, mode: UInt32) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path))
        chmod(path, mode_t(mode))
    }
}

/// A program preflight runs that this machine does not have.
struct MissingTool: Error, CustomStringConvertible {
    var path: String

    /// The Debian package that has it.
    var package: String {
        let packages = [
            "netplan": "netplan.io", "nmcli": "network-manager", "ifquery": "ifupdown", "unshare": "util-linux",
            "cupsd": "cups-daemon", "lpstat": "cups-client", "ipptool": "cups-ipp-utils", "sshd": "openssh-server", "systemd-networkd": "systemd",
        ]
        return packages[(path as NSString).lastPathComponent] ?? (path as NSString).lastPathComponent
    }

    var description: String { "\(path) is not installed on this machine, so what it reads was not checked" }

    static func check(_ path: String) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else { throw MissingTool(path: path) }
    }
}

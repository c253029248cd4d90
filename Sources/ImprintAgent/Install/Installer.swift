import Foundation
import ImprintCore
import ImprintTemplates

/// What `imprint install` puts into a root.
public struct InstallRequest: Sendable {
    /// The executable to install: the running `imprint`, built with the Swift runtime linked statically, and
    /// stripped (`AgentBinary.load`).
    public var binary: AgentBinary
    /// A consistent copy of the inventory the agent will read at boot.
    public var inventory: Data
    /// Install even when the checks say the agent could not start in the root.
    public var force: Bool
    /// The deployment server the unit reports its runs to (its root URL), nil for none.
    public var server: String?
    /// The certificate authority (PEM) the unit trusts that server by, nil for the system's store.
    public var serverAuthority: Data?

    public init(binary: AgentBinary, inventory: Data, force: Bool = false, server: String? = nil, serverAuthority: Data? = nil) {
        self.binary = binary
        self.inventory = inventory
        self.force = force
        self.server = server
        self.serverAuthority = serverAuthority
    }
}

/// One file `imprint install` writes or links.
public struct InstalledFile: Sendable {
    public var path: String
    public var reason: String
    /// The new contents; nil for a link.
    public var contents: Data?
    public var mode: UInt32
    public var link: String?
    /// The current contents, for the diff; nil when there is no file.
    public var before: Data?

    /// Whether the file changes at all.
    public var changes: Bool { link != nil || contents != before }

    /// The change as a unified diff; binary files (the executable, the inventory) only by size.
    public var diff: String {
        if let link { return "--- a\(path)\n+++ b\(path)\n@@ link -> \(link) @@\n" }
        let contents = contents ?? Data()
        if contents.contains(0) || before?.contains(0) == true {
            let old = before.map { "\($0.count) bytes" } ?? "none"
            return "--- \(before == nil ? "/dev/null" : "a\(path)")\n+++ b\(path)\n@@ binary: \(contents.count) bytes (was \(old)) @@\n"
        }
        return UnifiedDiff.render(path: path, old: before, new: contents)
    }
}

/// What an install would write, and what the technician should know.
public struct InstallPlan: Sendable {
    public var files: [InstalledFile]
    public var notes: [String]
}

/// Puts the agent into a restored root so that it runs at the unit's first boot.
///
/// The root gets the executable, a copy of the inventory, and a systemd service (from the `imprint-agent.service`
/// template) enabled by a link in sysinit.target.wants, ordered before the network, sshd and CUPS. The root's
/// machine-id is set to `uninitialized`, so systemd makes a fresh one at first boot; the master's id is kept in
/// /var/lib/imprint/master-machine-id so the agent can tell that the running id is no longer the master's.
public enum Installer {
    public static let binaryPath = "/usr/local/sbin/imprint"
    public static let inventoryPath = ImprintPaths.inventory
    public static let unitName = "imprint-agent.service"
    public static let unitPath = "/etc/systemd/system/" + unitName
    public static let enablePath = "/etc/systemd/system/sysinit.target.wants/" + unitName
    /// The second service: after CUPS starts, makes the driverless queues the agent wrote before it.
    public static let printersUnitName = "imprint-printers.service"
    public static let printersUnitPath = "/etc/systemd/system/" + printersUnitName
    public static let printersEnablePath = "/etc/systemd/system/multi-user.target.wants/" + printersUnitName
    /// The third service: once the network is up, runs the unit's first-boot hooks.
    public static let hooksUnitName = "imprint-hooks.service"
    public static let hooksUnitPath = "/etc/systemd/system/" + hooksUnitName
    public static let hooksEnablePath = "/etc/systemd/system/multi-user.target.wants/" + hooksUnitName
    public static let masterIDPath = MachineIDStep.masterIDPath
    /// With a server: after the network is up, sends the reports the agent queued at boot.
    public static let reportUnitName = "imprint-report.service"
    public static let reportUnitPath = "/etc/systemd/system/" + reportUnitName
    public static let reportEnablePath = "/etc/systemd/system/multi-user.target.wants/" + reportUnitName
    /// Tries again every half hour while the unit runs, for reports the server could not take at boot.
    public static let reportTimerName = "imprint-report.timer"
    public static let reportTimerPath = "/etc/systemd/system/" + reportTimerName
    public static let reportTimerEnablePath = "/etc/systemd/system/timers.target.wants/" + reportTimerName

    /// Where the dynamic loader looks in a Debian or RHEL-style root (multiarch first).
    static let libraryFolders = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"]

    /// The Debian package that ships each library the agent links to, for the error message.
    static let packages = [
        "libsqlite3.so.0": "libsqlite3-0", "libuuid.so.1": "libuuid1", "libz.so.1": "zlib1g", "libzstd.so.1": "libzstd1",
        "libstdc++.so.6": "libstdc++6", "libgcc_s.so.1": "libgcc-s1", "libc.so.6": "libc6", "libm.so.6": "libc6",
    ]

    /// Plans the install: checks that the binary can start in `root`, renders the service, lists every file.
    /// - Throws: `AgentError.installRefused` naming each problem, unless `request.force`.
    public static func plan(_ request: InstallRequest, root: TargetRoot) throws -> InstallPlan {
        try root.checkRestoreFinished()
        var notes: [String] = []
        let problems = try check(binary: request.binary.contents, root: root)
        if !problems.isEmpty {
            guard request.force else { throw AgentError.installRefused(problems) }
            notes += problems.map { "installed anyway (--force): \($0)" }
        }
        let service = try Template.load(unitName, root: root)
        let printersService = try Template.load(printersUnitName, root: root)
        let hooksService = try Template.load(hooksUnitName, root: root)
        for template in [service, printersService, hooksService] where template.source != "built-in" {
            notes.append("\(template.name) comes from the root's override \(template.source)")
        }

        let agent = request.binary
        let size = AgentBinary.megabytes(agent.contents.count)
        if let why = agent.notStripped {
            notes.append("the agent keeps its symbols and debug info (\(size)): \(why); install binutils for a smaller one")
        }
        var files = try installedFiles(request, services: [service, printersService, hooksService], root: root)
        if let server = request.server { files += try reportFiles(server: server, authority: request.serverAuthority, root: root) }
        files += try firstBootMachineIDFiles(root)
        // The enabling links come last: an install cut short is never enabled half-way.
        files += try enablingLinks(root, reporting: request.server != nil)
        if !root.exists("/usr/lib/systemd/systemd") && !root.exists("/lib/systemd/systemd") {
            notes.append("this root has no systemd: the service will not start by itself; run '\(binaryPath) run' at boot another way")
        }
        return InstallPlan(files: files, notes: notes)
    }

    /// The agent, its inventory and its three services, rendered from `services` (the agent's, the printers', the
    /// first-boot hooks').
    private static func installedFiles(_ request: InstallRequest, services: [Template], root: TargetRoot) throws -> [InstalledFile] {
        let (service, printersService, hooksService) = (services[0], services[1], services[2])
        let values = ["binary": binaryPath, "inventory": inventoryPath]
        let agent = request.binary
        let size = AgentBinary.megabytes(agent.contents.count)
        let sourceSize = AgentBinary.megabytes(agent.sourceSize)
        return [
            InstalledFile(
                path: binaryPath,
                reason: agent.notStripped == nil
                    ? "the agent, Swift runtime linked in, stripped: \(size) (\(sourceSize) with debug info)"
                    : "the agent, Swift runtime linked in: \(size)",
                contents: agent.contents, mode: 0o755, before: try root.readFile(binaryPath)),
            InstalledFile(
                path: inventoryPath, reason: "the inventory the agent reads at boot", contents: request.inventory, mode: 0o600,
                before: try root.readFile(inventoryPath)),
            InstalledFile(
                path: unitPath, reason: "runs the agent at boot, before the network, sshd and CUPS",
                contents: Data(service.render(values).utf8), mode: 0o644, before: try root.readFile(unitPath)),
            InstalledFile(
                path: printersUnitPath, reason: "once CUPS runs, gives the driverless printers their drivers",
                contents: Data(printersService.render(values).utf8), mode: 0o644, before: try root.readFile(printersUnitPath)),
            InstalledFile(
                path: hooksUnitPath, reason: "once the network is up, runs the unit's first-boot hooks",
                contents: Data(hooksService.render(values).utf8), mode: 0o644, before: try root.readFile(hooksUnitPath)),
        ]
    }

    /// The server's address (and the authority its certificate is trusted by) and the service and timer that send
    /// the agent's queued reports to it.
    private static func reportFiles(server: String, authority: Data?, root: TargetRoot) throws -> [InstalledFile] {
        let values = ["binary": binaryPath, "server": ImprintPaths.serverAddress]
        let service = try Template.load(reportUnitName, root: root)
        let timer = try Template.load(reportTimerName, root: root)
        let trust = try authority.map { pem in
            InstalledFile(
                path: ImprintPaths.serverAuthority, reason: "the certificate authority the server's https certificate is checked against",
                contents: pem, mode: 0o644, before: try root.readFile(ImprintPaths.serverAuthority))
        }
        return [trust].compactMap { $0 } + [
            InstalledFile(
                path: ImprintPaths.serverAddress, reason: "the deployment server the unit reports its runs to",
                contents: Data((server + "\n").utf8), mode: 0o644, before: try root.readFile(ImprintPaths.serverAddress)),
            InstalledFile(
                path: reportUnitPath, reason: "once the network is up, sends the runs the agent queued to the server",
                contents: Data(service.render(values).utf8), mode: 0o644, before: try root.readFile(reportUnitPath)),
            InstalledFile(
                path: reportTimerPath, reason: "sends again every half hour what the server could not take at boot",
                contents: Data(timer.render(values).utf8), mode: 0o644, before: try root.readFile(reportTimerPath)),
        ]
    }

    /// Files that make systemd give the unit a fresh machine-id at first boot: the master's id kept aside for the
    /// agent, /etc/machine-id "uninitialized", the D-Bus copy a link to it.
    private static func firstBootMachineIDFiles(_ root: TargetRoot) throws -> [InstalledFile] {
        var files: [InstalledFile] = []
        // systemd makes a fresh machine-id at first boot when the file says "uninitialized"; the agent then sees
        // an id that is not the master's and keeps it, so no reboot is due.
        let currentID = try root.readTrimmedText("/etc/machine-id")
        if let currentID, currentID != "uninitialized", MachineIDStep.isValid(currentID) {
            files.append(InstalledFile(
                path: masterIDPath, reason: "the master's machine-id, so the agent knows a fresh one when it sees it",
                contents: Data((currentID + "\n").utf8), mode: 0o644, before: try root.readFile(masterIDPath)))
            files.append(InstalledFile(
                path: "/etc/machine-id", reason: "systemd makes a fresh machine-id at first boot",
                contents: Data("uninitialized\n".utf8), mode: 0o444, before: try root.readFile("/etc/machine-id")))
        }
        // At first boot systemd takes the D-Bus copy of the id when /etc/machine-id is uninitialized, unless the
        // copy is a link: a file there would bring the master's id straight back.
        let dbusID = "/var/lib/dbus/machine-id"
        if try root.linkTarget(dbusID) == nil, let copy = try root.readFile(dbusID) {
            files.append(InstalledFile(
                path: dbusID, reason: "a link to /etc/machine-id: systemd would take the master's id back from this copy",
                contents: nil, mode: 0o777, link: "/etc/machine-id", before: copy))
        }
        return files
    }

    /// The links that enable the two services, as 'systemctl enable' would make them, for those not yet enabled.
    private static func enablingLinks(_ root: TargetRoot, reporting: Bool) throws -> [InstalledFile] {
        var files: [InstalledFile] = []
        var links = [(printersEnablePath, printersUnitPath), (hooksEnablePath, hooksUnitPath)]
        if reporting { links += [(reportEnablePath, reportUnitPath), (reportTimerEnablePath, reportTimerPath)] }
        // The agent's own link last of all.
        links.append((enablePath, unitPath))
        for (link, unit) in links where try root.linkTarget(link) != unit {
            files.append(InstalledFile(
                path: link, reason: "enables \((unit as NSString).lastPathComponent) (as 'systemctl enable' would)",
                contents: nil, mode: 0o777, link: unit, before: nil))
        }
        return files
    }

    /// Writes the plan's files, each atomically, the enabling link last: an install cut short is never enabled
    /// half-way, and running it again finishes it.
    /// - Important: replaces the agent, its inventory and its service in `root`.
    public static func apply(_ plan: InstallPlan, root: TargetRoot) throws {
        for file in plan.files where file.changes {
            if let link = file.link {
                if try root.linkTarget(file.path) != nil || root.exists(file.path) { try root.remove(file.path) }
                try root.symlink(file.path, to: link)
            } else if let contents = file.contents {
                try root.write(file.path, contents, metadata: FileMetadata(mode: file.mode))
            }
        }
    }

    /// Why the agent installed in `root` could not personalize it at first boot, or nil when no first-boot service
    /// is enabled there (the image is not meant to personalize itself). Empty when the agent can start.
    public static func firstBootProblems(root: TargetRoot) throws -> [String]? {
        guard root.exists(enablePath) || (try? root.linkTarget(enablePath)) != nil else { return nil }
        guard let binary = try root.readFile(binaryPath) else {
            return ["the first-boot service is enabled but \(binaryPath) is missing; run 'imprint install' on the master again"]
        }
        return try check(binary: binary, root: root)
    }

    /// Why `binary` could not start in `root`: the shared Swift runtime, a C library the root lacks, not an
    /// x86-64 ELF executable. Empty when it can.
    static func check(binary: Data, root: TargetRoot) throws -> [String] {
        let needed: [String]
        do {
            needed = try ELFDependencies.needed(in: binary)
        } catch {
            return ["the file to install is not a 64-bit ELF executable (\(error)); pass the imprint binary"]
        }
        var problems: [String] = []
        let swift = needed.filter { $0.hasPrefix("libswift") || $0.hasPrefix("libFoundation") || $0.hasPrefix("libdispatch") || $0.hasPrefix("libBlocksRuntime") }
        if !swift.isEmpty {
            problems.append(
                "this imprint needs the Swift runtime (\(swift.joined(separator: ", "))), which a unit does not have; "
                    + "build it with 'swift build -c release --static-swift-stdlib' and install that binary")
        }
        for library in needed where !swift.contains(library) {
            let found = libraryFolders.contains { root.exists($0 + "/" + library) }
            if !found {
                let package = packages[library].map { " (Debian package \($0))" } ?? ""
                problems.append("the root has no \(library)\(package), which the agent needs; install it in the image")
            }
        }
        return problems
    }
}

import ArgumentParser
import Foundation
import Glibc
import ImprintAgent
import ImprintCore
import ImprintDisk
import ImprintImage
import ImprintInventory
import ImprintPreflight

struct PreflightCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "preflight",
        abstract: "Test an image against every unit of a group before anything is deployed.",
        discussion: """
            Restores the image once into a temporary folder (which checks every block and file, as verify does), \
            then for every unit of the group (or each --unit) plans its personalization against that copy as a dry \
            run, writing nothing to it, and checks what the unit would get: its model is one the image is for; its \
            hostname is valid and unique in the group; its static addresses are host addresses, unique in the group \
            and the inventory, with each gateway inside the subnet; its pasted netplan document is one the inventory \
            accepts; its cards are matched; every ppd: driver's file is in the image and every driverless queue's \
            URI is ipp:// or ipps:// with a host, or dnssd://. Then the real programs read the unit's files in scratch folders: \
            the image's own 'getent hosts' in a chroot of the copy, over the unit's /etc/hosts; \
            'netplan generate --root-dir', 'nmcli --offline', 'ifquery', or systemd-networkd in a private namespace \
            for the image's network stack; a throwaway cupsd on a loopback port with the unit's printers.conf and \
            the image's PPDs, where lpstat must list exactly the unit's queues, the image's own and the default; \
            and, once for the image, 'sshd -t' with the image's /etc/ssh and a unit's new host keys, and the agent \
            and its libraries when the image personalizes itself at first boot.

            --boot then boots one unit (the first --unit, or the group's first unit) from the image: the agent is \
            installed into the restored copy as 'imprint install' does, with that unit's record (--agent-binary, \
            by default the agent the image carries, or this imprint when it carries none), and a check service is \
            added. The image of a whole disk ('capture --disk') is restored, for every check, onto a scratch disk \
            file of the master's size as onto a unit's disk (new GPT, new file systems, ids rewritten, fallback boot \
            loader), and qemu boots that disk with UEFI firmware (OVMF, no boot entry); a folder's copy becomes an \
            ext4 disk ('mkfs.ext4 -d') that qemu boots on the image's own kernel and initramfs from /boot. Both under \
            software emulation, with the unit's model, serial, UUID and asset tag as SMBIOS identifiers and a card \
            with each of its MACs. On the serial console: the agent ran once, sshd is active and serves the unit's \
            new key, each card has the addresses the record gives it (any IPv4 address with DHCP), and lpstat lists \
            the unit's queues and default. A boot that could not be made (qemu or OVMF missing, no kernel in the \
            image) or did not finish in --boot-timeout seconds (default 900) fails the unit with the reason.

            --reach also asks each driverless (everywhere) queue's printer for its attributes over IPP from this \
            machine, with CUPS's ipptool (get-printer-attributes.test), each URI once; a printer that does not \
            answer fails every unit with that queue (a dnssd:// URI is not asked: only the unit's network resolves \
            it).

            Prints one row per unit with its first reason, and a summary (with --boot, a BOOT column); --json the whole report; --html FILE a \
            page with the failures first, each with what to fix. Nothing is written to the inventory or the image. \
            Needs root (the hostname, network and sshd checks run in private mount namespaces).

            \(ExitStatus.helpTable)
            """)

    @Argument(help: ArgumentHelp("The image file.", valueName: "image")) var image: String?
    @Option(help: ArgumentHelp("Pick the newest image for the units' model from this library folder.", valueName: "dir"))
    var library: String?
    @Option(help: ArgumentHelp("The group whose units the image will go to.", valueName: "group")) var group: String
    @Option(help: ArgumentHelp("Check only this unit of the group (repeatable).", valueName: "unit")) var unit: [String] = []
    @Option(help: ArgumentHelp("Also write the report as a self-contained HTML page to this file (atomically).", valueName: "file"))
    var html: String?
    @OptionGroup var threads: ThreadsOption
    @Flag(help: "Also boot one unit (the first --unit, or the group's first) from the image in qemu and check it from its console.")
    var boot = false
    @Option(name: .customLong("boot-timeout"), help: ArgumentHelp(
        "With --boot: seconds the boot may take until the check has reported (default 900).", valueName: "seconds"))
    var bootTimeout: Int?
    @Flag(help: "Also ask every driverless queue's printer for its attributes over IPP from this machine (ipptool).")
    var reach = false
    @Option(name: .customLong("agent-binary"), help: ArgumentHelp(
        "With --boot: the agent to install (default: the image's own, or this imprint).", valueName: "path"))
    var agentBinary: String?
    @OptionGroup var passphrase: PassphraseOptions
    @Flag(help: "Print the report as JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if (image == nil) == (library == nil) { throw ValidationError("give an image or '--library DIR', one of them") }
        if image == "-" { throw ValidationError("preflight reads the image from a file, not standard input") }
        if !boot && (bootTimeout != nil || agentBinary != nil) {
            throw ValidationError("'\(bootTimeout != nil ? "--boot-timeout" : "--agent-binary")' goes with '--boot'")
        }
        if let bootTimeout, bootTimeout < 1 { throw ValidationError("'--boot-timeout' must be 1 or more seconds, not \(bootTimeout)") }
    }

    func run(_ context: CommandContext) throws {
        let inventory = try global.openInventory(context, readOnly: true)
        let stored = try inventory.unitsReadOneByOne(group: group)
        let groupUnits = stored.compactMap { try? $0.record.get().profile }
        var unreadable: [String: String] = [:]
        var units: [UnitProfile] = []
        let wanted = Set(unit.map { $0.lowercased() })
        for reference in unit where !stored.contains(where: { $0.hostname.lowercased() == reference.lowercased() }) {
            let found = try inventory.unit(reference).profile
            throw CommandFailure(
                status: .invalidInput, message: "unit \(found.hostname) is in \(found.group.map { "group \($0)" } ?? "no group"), not \(group)")
        }
        for (hostname, record) in stored where wanted.isEmpty || wanted.contains(hostname.lowercased()) {
            do { units.append(try record.get().profile) } catch { unreadable[hostname] = "\(error)" }
        }
        var owners: [String: [String]] = [:]
        for (_, record) in try inventory.unitsReadOneByOne() {
            guard let other = try? record.get().profile else { continue }
            for address in other.interfaces.flatMap(\.addresses) {
                owners[address.address.value, default: []].append(other.hostname.value)
            }
        }
        let path = try image ?? Library.pick(model: Self.commonModel(units), in: library ?? "").path

        // --boot restores the image of a whole disk onto a scratch disk file, as onto a unit's disk, to boot it with
        // UEFI firmware; the file systems it mounts need a private mount namespace. Any other image goes into a folder.
        let layout = try boot ? Restore.manifest(ImageInput(path: path)).disk : nil
        if layout != nil && !MountNamespace.isPrivate(environment: context.environment) { try context.enterPrivateMounts() }
        let scratch = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("imprint-preflight-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var disk: DiskDestination?
        defer { disk?.close() }
        let input = try ImageInput(path: path)
        let bar = ProgressBar("restore", counting: .compressed, total: input.size, context: context)
        let threads = self.threads.count
        let restored: ReadResult
        if let layout {
            let file = scratch + "/disk.img"
            // Sparse, of the master's size: the file takes what the restore writes.
            guard FileManager.default.createFile(atPath: file, contents: nil), truncate(file, off_t(layout.size)) == 0 else {
                throw CommandFailure(
                    status: .failure,
                    message: "cannot make the scratch disk \(file): \(String(cString: strerror(errno))); check the free space of the temporary folder (TMPDIR)")
            }
            let destination = try DiskDestination(file, image: path, efiVariables: nil) { _, _, _ in }
            disk = destination
            // No model for the restore to refuse (`force`): each unit's is checked against the image's, as for a folder.
            restored = try Restore.run(
                input, into: destination, model: nil, force: true, threads: threads, passphrase: passphrase.provider(),
                progress: { bar?.update($0) })
        } else {
            restored = try Restore.run(input, root: scratch, threads: threads, passphrase: passphrase.provider(), progress: { bar?.update($0) })
        }
        bar?.finish()
        bar?.stop()

        let imageName = (path as NSString).lastPathComponent
        let root = try disk?.root ?? TargetRoot(scratch)
        var request = PreflightRequest(
            root: root, imageName: imageName, manifest: restored.manifest, group: group,
            units: units, groupUnits: groupUnits, unreadable: unreadable, addressOwners: owners, agentVersion: imprintVersion, time: context.clock())
        request.reach = reach
        // The unit named first, or the group's first by name (the report's first row).
        if boot, let booted = unit.first ?? stored.map(\.hostname).min(by: { $0.lowercased() < $1.lowercased() }) {
            // The agent the image carries is the one its units will run; without one, the one given or this imprint.
            let carried = agentBinary == nil && root.exists(Installer.binaryPath) ? try root.resolve(Installer.binaryPath) : nil
            request.boot = PreflightBootRequest(
                unit: booted,
                agentSource: agentBinary ?? (carried != nil ? "the image's own \(Installer.binaryPath)" : "this imprint"),
                install: InstallRequest(
                    binary: try InstallCommand.load(agentBinary ?? carried),
                    inventory: try inventory.snapshot(.units([booted])).data),
                timeout: .seconds(bootTimeout ?? 900), disk: disk?.target)
        }
        let report = try Preflight.run(request)
        if let html {
            try TargetRoot("/").write(URL(fileURLWithPath: html).path, Data(report.html().utf8), metadata: FileMetadata(mode: 0o644))
        }
        if json {
            try context.printJSON(PreflightView(report))
        } else {
            context.print(Self.text(report))
        }
        if report.failed > 0 || report.units.isEmpty { throw ExitCode(ExitStatus.preflightFailed.rawValue) }
    }

    /// The model most of the units have, to pick the library's image by.
    static func commonModel(_ units: [UnitProfile]) -> String? {
        let counts = Dictionary(units.compactMap(\.model).map { ($0, 1) }, uniquingKeysWith: +)
        return counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
    }

    static func text(_ report: PreflightReport) -> String {
        let width = max(4, report.units.map(\.unit.count).max() ?? 0)
        // The BOOT column only when a unit was booted: pass, FAIL, or - for the units not booted.
        let booted = report.units.contains { $0.boot != nil }
        var lines = ["UNIT".padding(toLength: width, withPad: " ", startingAt: 0) + "  RESULT  " + (booted ? "BOOT  " : "") + "FIRST REASON"]
        for unit in report.units {
            let reason = unit.failures.first.map { "\($0.check): \($0.message)" }
                ?? "ok (\((unit.checkedBy + (unit.boot?.checked ?? [])).joined(separator: ", ")))"
            let bootColumn = !booted ? "" : unit.boot.map { $0.passed ? "pass  " : "FAIL  " } ?? "-     "
            lines.append(
                unit.unit.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + (unit.passed ? "pass  " : "FAIL  ") + "  " + bootColumn + reason)
        }
        lines.append("")
        let models = report.models.isEmpty ? "no model" : report.models.joined(separator: ", ")
        lines.append("image \(report.image) (\(models)): " + (report.imageFailures.isEmpty
            ? "ok (\(report.imageCheckedBy.joined(separator: ", ")))"
            : report.imageFailures.map { "\($0.check): \($0.message)" }.joined(separator: "; ")))
        lines.append(report.units.isEmpty
            ? "group \(report.group) has no unit to check"
            : "\(report.passed) of \(report.units.count) units of \(report.group) pass, \(report.failed) fail")
        return lines.joined(separator: "\n")
    }
}

/// `imprint preflight --json` (fields documented in README's JSON output section).
struct PreflightView: Encodable {
    struct Unit: Encodable {
        var unit: String
        @Nullable var model: String?
        var passed: Bool
        var failures: [PreflightFinding]
        var checkedBy: [String]
        @Nullable var boot: PreflightBootResult?
    }

    var image: String
    var models: [String]
    var group: String
    var passed: Int
    var failed: Int
    var imageFailures: [PreflightFinding]
    var imageCheckedBy: [String]
    var units: [Unit]

    init(_ report: PreflightReport) {
        image = report.image
        models = report.models
        group = report.group
        passed = report.passed
        failed = report.failed
        imageFailures = report.imageFailures
        imageCheckedBy = report.imageCheckedBy
        units = report.units.map {
            Unit(unit: $0.unit, model: $0.model, passed: $0.passed, failures: $0.failures, checkedBy: $0.checkedBy, boot: $0.boot)
        }
    }
}

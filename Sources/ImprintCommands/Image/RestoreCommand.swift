import ArgumentParser
import Foundation
import Glibc
import ImprintAgent
import ImprintCore
import ImprintDisk
import ImprintImage
import ImprintInventory

struct RestoreCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore an image onto a target root, then optionally personalize it.",
        discussion: """
            Reads the image (a file, or - for standard input), checks its model against this unit's hardware (the \
            DMI product name in /sys, or --facts), and writes the tree into --root. Every block and every file's \
            SHA-256 is checked while it is written; the first damage stops the restore with the file and the \
            image offset. No entry can write outside the target: '..' is refused and no folder on the way is \
            followed if it is a link.

            A target that is not empty (lost+found aside) is refused; on a terminal you are asked, naming what \
            would be lost. --force erases it without asking, and restores an image made for another model.

            --library DIR instead of an image picks the newest image in the library made for this unit's model. \
            --personalize then runs 'imprint run' on the restored root with the same facts and inventory; \
            --install-agent instead puts the agent into the root ('imprint install') with the records of the unit \
            --facts names, or else of the image's models, so the unit personalizes \
            itself at first boot.

            --disk DISK instead of --root restores an image made by 'capture --disk' onto a whole disk (a block \
            device or a disk image file): a new GPT scaled to the disk (ESP, BIOS boot and swap at their size, the \
            root taking the rest; a disk too small is refused before anything is written), new file systems with \
            new UUIDs and GUIDs, the tree restored into them, every UUID the system names (fstab, crypttab, resume, \
            GRUB, BLS entries) rewritten and checked, the identity given, and the ESP's boot loader written last. A \
            disk holding data is shown and asked about twice on a terminal; elsewhere it needs --force. --dry-run \
            prints the plan and writes nothing. On a block device of a machine booted by UEFI it also replaces the \
            firmware's boot entry of the same label (efibootmgr: the vendor's shim, else GRUB, else systemd-boot, \
            first in the boot order), unless --no-boot-entry.

            --server URL asks the site's deployment server what this unit does (its facts from /sys or --facts): \
            'nothing' exits 30 and 'needs-confirmation' 31, writing nothing; 'restore' streams the server's image \
            into --root, or onto --disk as from a file (checked as from a pipe; a broken connection resumes where \
            it broke), 'personalize' takes the root as it is (not with --disk: exit 30). Then the server's address \
            goes into /etc/imprint/server and the unit's token into /var/lib/imprint/server-token (0600), the root \
            is personalized with the server's record, and the run is reported to the server (restoring with its \
            percent, then applied, or failed with the message; a unit that failed may ask again). An image's URL \
            (http(s)://SERVER/v1/images/ID) with --admin-token-file restores that image as a file would be. \
            libcurl is loaded only then (libcurl.so.4, else libcurl-gnutls.so.4, or IMPRINT_LIBCURL); without it: exit 69.

            Until the last file is written and synced, the target holds the marker \(TargetRoot.restoreMarker). \
            A restore cut short (killed, power lost, disk full, damaged image) leaves it: any file may then be \
            incomplete, even one that looks whole. A plain restore onto such a target says so and stops; 'imprint \
            run', 'imprint install' and 'imprint capture' refuse it (exit 22). Restore again with --force.

            \(ExitStatus.helpTable)
            """)

    @Argument(help: ArgumentHelp(
        "The image file, - for standard input, or an image's URL on a deployment server (http(s)://SERVER/v1/images/ID, with --admin-token-file).",
        valueName: "image"))
    var image: String?
    @Option(help: ArgumentHelp("The folder to restore into (the unit's mounted root).", valueName: "dir")) var root: String?
    @Option(help: ArgumentHelp(
        "Restore a whole-disk image onto this disk instead (block device or disk image file): a new GPT scaled to it, new file systems, the boot loader.",
        valueName: "disk"))
    var disk: String?
    @Option(help: ArgumentHelp("Pick the image for this unit's model from this library folder.", valueName: "dir")) var library: String?
    @Option(help: ArgumentHelp(
        "Ask this deployment server what to do (its root URL, http or https): restore the image it names, or personalize; report to it.",
        valueName: "url"))
    var server: String?
    @Option(name: .customLong("ca-file"), help: ArgumentHelp(
        "With --server or an image's URL on https: trust the server's certificate by this certificate authority (PEM), not the system's store; kept in the root.",
        valueName: "file"))
    var caFile: String?
    @Option(name: .customLong("admin-token-file"), help: ArgumentHelp(
        "With an image's URL: read the server's admin token from the first line of this file.", valueName: "file"))
    var adminTokenFile: String?
    @Flag(help: "Erase a non-empty target, and restore an image made for another model.") var force = false
    @Flag(name: .customLong("dry-run"), help: "With --disk: print the partition table it would lay (as a diff of the disk's) and the ids it would rewrite; write nothing.")
    var dryRun = false
    @Flag(name: .customLong("no-boot-entry"), help: "With --disk on a machine booted by UEFI: leave the firmware's boot entries alone (the disk still boots by its fallback path).")
    var noBootEntry = false
    @Flag(help: "Run the agent on the restored root (as 'imprint run --root DIR --source restore').") var personalize = false
    @Flag(name: .customLong("install-agent"), help: "Install the agent into the restored root for first boot (as 'imprint install').")
    var installAgent = false
    @Option(name: .customLong("agent-binary"), help: ArgumentHelp(
        "With --install-agent: the executable to install (default: this imprint).", valueName: "path"))
    var agentBinary: String?
    @Option(help: ArgumentHelp(
        "Read this unit's facts from this JSON file instead of /sys ('imprint facts --json' writes one).", valueName: "file"))
    var facts: String?
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var passphrase: PassphraseOptions
    @Flag(help: "Print the restored image's manifest and totals as JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    /// `imprint restore --json`: the image as `verify --json` shows it, and where it went.
    struct View: Encodable {
        var image: String
        var root: String
        var restored: ImageView
    }

    func validate() throws {
        if [image != nil, library != nil, server != nil].filter({ $0 }).count != 1 {
            throw ValidationError("give an image, '--library DIR' or '--server URL', one of them")
        }
        try validateServer()
        if (root == nil) == (disk == nil) { throw ValidationError("give '--root DIR' (a folder) or '--disk DISK' (a whole disk), one of them") }
        if dryRun && disk == nil { throw ValidationError("'--dry-run' goes with '--disk'") }
        if noBootEntry && disk == nil { throw ValidationError("'--no-boot-entry' goes with '--disk'") }
        if dryRun && json { throw ValidationError("'--dry-run' prints its plan as text; leave out '--json'") }
        if dryRun && (personalize || installAgent) {
            throw ValidationError("'--dry-run' shows the disk's plan alone; run 'imprint run --dry-run' on the restored root for its identity")
        }
        if disk != nil && image == "-" {
            throw ValidationError("'--disk' cannot read the image from standard input, where it asks before erasing the disk; give the image's file or URL")
        }
        if json && (personalize || installAgent) {
            throw ValidationError(
                "'--json' reports the restore alone; run 'imprint run --json' or 'imprint install --json' after it")
        }
        if personalize && installAgent { throw ValidationError("give '--personalize' (now) or '--install-agent' (at first boot), not both") }
        if agentBinary != nil && !installAgent { throw ValidationError("'--agent-binary' goes with '--install-agent'") }
    }

    func run(_ context: CommandContext) throws {
        // The new disk's file systems are mounted where nothing else sees them, and vanish with this process.
        if disk != nil && !MountNamespace.isPrivate(environment: context.environment) { try context.enterPrivateMounts() }
        if let server { return try restore(fromServer: server, context: context) }
        let unitFacts = try facts.map { try FactsProbe.read(factsFile: $0) } ?? (try? FactsProbe.read(root: TargetRoot("/")))
        if let imageURL { return try restore(url: imageURL, facts: unitFacts, context: context) }
        let path = try image ?? Library.pick(model: unitFacts?.model, in: library ?? "").path
        let input = try ImageInput(path: path)
        if let disk { return try restore(path, size: input.size, onto: disk, facts: unitFacts, context: context) { engine in try engine(input) } }
        try restoreFolder(path, size: input.size, facts: unitFacts, context: context) { engine in try engine(input) }
    }

    /// Restores into `--root` (erasing what it holds once the image's manifest is accepted), then `--personalize`
    /// or `--install-agent`.
    /// - Parameters:
    ///   - size: the image's size, for the progress bar.
    ///   - reading: runs the engine it is given over the image's input.
    func restoreFolder(
        _ path: String, size: UInt64?, facts unitFacts: HardwareFacts?, context: CommandContext,
        reading: ((ImageInput) throws -> ReadResult) throws -> ReadResult
    ) throws {
        let target = try TargetRoot(root ?? "")
        let destination = try FolderDestination(target, force: force) { present in confirm(erasing: present, in: target.path, context: context) }
        try destination.confirmErasing()
        let bar = ProgressBar("restore", counting: .compressed, total: size, context: context)
        defer { bar?.stop() }
        let result = try reading { input in
            try Restore.run(
                input, into: destination, model: unitFacts?.model, force: force,
                threads: threads.count, passphrase: passphrase.provider(),
                warn: { context.warn($0) }, progress: { bar?.update($0) })
        }
        bar?.finish()
        let view = ImageView(manifest: result.manifest, summary: result.summary, imageBytes: size ?? 0)
        if json {
            try context.printJSON(View(image: path, root: target.path, restored: view))
            return
        }
        context.print(view.text(title: "restored \(path == "-" ? "standard input" : path) into \(target.path); every block and file checked"))
        try giveIdentity(target, manifest: result.manifest, facts: unitFacts, context: context)
    }

    /// `--personalize` or `--install-agent` on the restored root.
    func giveIdentity(_ target: TargetRoot, manifest: ImageManifest, facts unitFacts: HardwareFacts?, context: CommandContext) throws {
        if personalize {
            try personalize(target, facts: unitFacts, imageID: Self.imageID(manifest), context: context)
        }
        if installAgent { try installAgent(into: target, facts: facts == nil ? nil : unitFacts, models: manifest.models, context: context) }
    }

    /// Gives the restored root its unit's identity now, through the agent's one entry point.
    private func personalize(_ target: TargetRoot, facts: HardwareFacts?, imageID: String, context: CommandContext) throws {
        guard let facts else {
            throw CommandFailure(
                status: .missingInput,
                message: "restored, but not personalized: this machine's hardware facts cannot be read; give the unit's "
                    + "with '--facts FILE' ('imprint facts --json' writes one on the unit), or run 'imprint run --root \(target.path) --facts FILE'")
        }
        let settings = RunSettings(imageID: imageID, source: "restore", time: context.clock(), agentVersion: imprintVersion)
        let inventory = try global.openInventory(context)
        let done = try Agent.personalize(facts, settings: settings, directory: inventory, root: target) {
            context.errorOutput("imprint: another run holds the lock of \(target.path); waiting\n")
        }
        try RunCommand.report(done, dryRun: false, json: false, context: context)
    }

    /// Puts the agent into the restored root with a copy of the inventory that holds the unit the facts name, or
    /// else the units of the image's models.
    private func installAgent(into target: TargetRoot, facts: HardwareFacts?, models: [String], context: CommandContext) throws {
        let executable = try InstallCommand.load(agentBinary)
        let inventory = try global.openInventory(context, readOnly: true)
        let scope: SnapshotScope
        if let facts {
            scope = try .unit(of: facts, in: inventory)
        } else if !models.isEmpty {
            scope = .models(models)
        } else {
            throw CommandFailure(
                status: .invalidInput,
                message: "restored, but the agent was not installed: the image names no model and no '--facts' were "
                    + "given, so which units may this root be? run 'imprint install --root \(target.path) --unit NAME' "
                    + "(or --group, --model)")
        }
        try InstallCommand.install(
            executable, into: target, from: inventory, scope: scope, dryRun: false, force: false, json: false, context: context)
    }

    /// The image's identity for the identity log: its models and creation time.
    static func imageID(_ manifest: ImageManifest) -> String {
        let stamp = ISO8601DateFormatter().string(from: manifest.created)
        return "\(manifest.models.first ?? "image")@\(stamp)"
    }

    /// On a terminal, asks before erasing; elsewhere never (the caller refuses).
    func confirm(erasing present: [String], in path: String, context: CommandContext) -> Bool {
        guard image != "-", isatty(STDIN_FILENO) == 1, isatty(STDERR_FILENO) == 1, context.environment["TERM"] != nil else { return false }
        let shown = present.prefix(8).joined(separator: ", ") + (present.count > 8 ? ", ..." : "")
        context.errorOutput("\(path) holds \(present.count) \(present.count == 1 ? "entry" : "entries") (\(shown)); restoring erases them all. Erase? [y/N] ")
        guard let answer = readLine() else { return false }
        return ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
    }
}

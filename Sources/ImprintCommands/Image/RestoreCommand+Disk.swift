import Foundation
import Glibc
import ImprintCore
import ImprintDisk
import ImprintImage

extension RestoreCommand {
    /// Restores the whole-disk image at `path` onto `disk`: checks the image's layout against the disk, asks (twice)
    /// before erasing a disk that holds data, lays a new GPT and new file systems, restores the tree, rewrites the
    /// ids the system names, gives it its identity and writes the ESP last.
    func restore(_ path: String, onto disk: String, facts unitFacts: HardwareFacts?, context: CommandContext) throws {
        let input = try ImageInput(path: path)
        let folder = try DiskSource.makeFolder()
        var target: DiskTarget?
        defer {
            target?.close()
            rmdir(folder)
        }
        let bar = ProgressBar("restore", counting: .compressed, total: input.size, context: context)
        defer { bar?.stop() }
        let result: ReadResult
        do {
            result = try Restore.run(
                input, root: folder, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount,
                passphrase: passphrase.provider(), approve: { manifest in
                    target = try prepare(disk, for: manifest, path: path, model: unitFacts?.model, at: folder, context: context)
                }, progress: { bar?.update($0) })
        } catch let plan as DryRunPlan {
            bar?.stop()
            return context.print(plan.text)
        }
        bar?.finish()
        guard let target else { return }
        let rewrites = try target.rewriteReferences()
        let initramfs = try target.regenerateInitramfs(after: rewrites)
        let fallback = try target.addFallbackLoader()
        let view = ImageView(manifest: result.manifest, summary: result.summary, imageBytes: input.size ?? 0)
        let entry = noBootEntry || !BootEntry.applies(to: disk, efiVariables: Self.efiVariables) ? nil : target.plannedBootEntry()
        if json {
            try context.printJSON(DiskView(
                image: path, disk: disk, restored: view, laid: target.laid, rewrites: rewrites,
                bootFallback: fallback.map { "/\($0.to) from /\($0.from)" },
                bootEntry: entry.map { "\($0.label): \($0.loader) on partition \($0.partition)" },
                initramfsRegenerated: initramfs))
            try target.finish()
            if let entry { _ = try entry.install() }
            return
        }
        var lines = [view.text(title: "restored \(path) onto \(disk); every block and file checked")]
        for partition in target.laid.partitions { lines.append("  laid \(partition.number)".padding(toLength: 16, withPad: " ", startingAt: 0) + ImageView.text(partition)) }
        for rewrite in rewrites { lines.append("  ids           \(rewrite.path): \(rewrite.count) rewritten to the new disk's") }
        if initramfs { lines.append("  initramfs     made again by the system's update-initramfs: it names the new ids too") }
        for (from, to) in fallback { lines.append("  boot          /\(to) from /\(from): the path a unit with no boot entry starts") }
        if let entry { lines.append("  boot entry    \(entry.label): \(entry.loader) on partition \(entry.partition), first in the firmware's boot order") }
        context.print(lines.joined(separator: "\n"))
        try giveIdentity(try TargetRoot(folder), manifest: result.manifest, facts: unitFacts, context: context)
        // The ESP last: until it is written the disk does not boot, so a restore cut short is never taken for done.
        try target.finish()
        // The firmware's entry after the ESP: an entry never points at a loader that is not there yet.
        if let entry { _ = try entry.install() }
    }

    /// Where a live system booted by UEFI shows its firmware variables.
    static let efiVariables = "/sys/firmware/efi/efivars"

    /// Checks the image against the disk and this unit, asks before erasing data, then lays the disk and mounts it
    /// under `folder`. Nothing is written to the disk before every check has passed.
    func prepare(
        _ disk: String, for manifest: ImageManifest, path: String, model: String?, at folder: String, context: CommandContext
    ) throws -> DiskTarget {
        guard let layout = manifest.disk else {
            throw CommandFailure(
                status: .invalidInput,
                message: "\(quoted(path)) is an image of a folder, not of a disk; restore it into a mounted root with '--root DIR'")
        }
        if !manifest.fits(model: model) {
            let refusal = ImageError.wrongModel(imageModels: manifest.models, unitModel: model)
            guard force else { throw refusal }
            context.warn("restoring anyway (--force): \(refusal)")
        }
        let laid = try DiskTarget.plan(layout, onto: disk) { UUID().uuidString }
        let mounted = DiskUse.mounts(of: disk).map(\.mountPoint)
        if !mounted.isEmpty { throw DiskError.inUse(disk: disk, mountPoints: mounted) }
        if layout.boot.contains("grub-bios") && !layout.boot.contains(where: { $0 != "grub-bios" }) {
            throw CommandFailure(
                status: .invalidInput,
                message: "\(quoted(path)) is of a master that boots by BIOS (GRUB in a BIOS boot partition); Imprint lays "
                    + "disks that boot by UEFI so far: reinstall the master's boot loader as grub-efi, capture it again, "
                    + "or restore its tree with '--root DIR' and install a boot loader yourself")
        }
        let present = DiskSource.contents(of: disk)
        if dryRun { throw DryRunPlan(disk: disk, present: present, master: layout, laid: laid) }
        if !present.isEmpty && !force && !confirmErasing(disk, holding: present, context: context) {
            throw ImageError.targetNotEmpty(path: disk, entries: present)
        }
        return try DiskTarget.lay(laid, master: layout, onto: disk, at: folder)
    }

    /// On a terminal, shows what the disk holds and asks twice (seed 000: "do you need the data on this computer?");
    /// elsewhere never (the caller refuses without --force).
    func confirmErasing(_ disk: String, holding present: [String], context: CommandContext) -> Bool {
        guard isatty(STDIN_FILENO) == 1, isatty(STDERR_FILENO) == 1, context.environment["TERM"] != nil else { return false }
        context.errorOutput("\(disk) holds data:\n" + present.map { "  \($0)\n" }.joined())
        context.errorOutput("Do you need the data on this computer? Restoring erases all of it. Erase \(disk)? [y/N] ")
        guard let first = readLine(), ["y", "yes"].contains(first.trimmingCharacters(in: .whitespaces).lowercased()) else { return false }
        let name = (disk as NSString).lastPathComponent
        context.errorOutput("Asking again, since nothing brings it back: type the disk's name (\(name)) to erase it: ")
        return readLine()?.trimmingCharacters(in: .whitespaces) == name
    }
}

/// `imprint restore --disk --json`.
struct DiskView: Encodable {
    var image: String
    var disk: String
    /// The image as `verify --json` shows it.
    var restored: ImageView
    /// The layout laid on the disk: its new sizes and ids.
    var laid: DiskLayout
    /// The files whose disk ids were rewritten, and how many in each.
    var rewrites: [DiskTarget.Rewrite]
    /// The fallback boot loader's copies on the ESP (`/EFI/BOOT/BOOTX64.EFI from /EFI/debian/shimx64.efi`).
    var bootFallback: [String]
    /// The firmware boot entry it made on a live UEFI machine (`debian: \EFI\debian\shimx64.efi on partition 1`),
    /// null for a disk image file, without UEFI, or with --no-boot-entry.
    @Nullable var bootEntry: String?
    /// Whether the restored system's initramfs was made again (a rewritten resume device or crypttab).
    var initramfsRegenerated: Bool
}

/// What `restore --disk --dry-run` found once every check had passed: thrown out of the restore before it writes.
struct DryRunPlan: Error {
    var disk: String
    var present: [String]
    var master: DiskLayout
    var laid: DiskLayout

    var text: String {
        var lines = ["\(disk): would lay a new GPT and restore onto it (dry run, nothing written)"]
        lines += present.isEmpty ? ["  the disk is blank"] : ["  erasing what it holds:"] + present.map { "    \($0)" }
        let old = (try? DiskTool.output(of: DiskTool.dumpScript(disk))).map { Data($0.utf8) }
        lines.append(UnifiedDiff.render(path: disk, old: old, new: Data(PartitionTable.script(laid, sectorSize: laid.sectorSize).utf8)))
        for partition in laid.partitions { lines.append("  laid \(partition.number)".padding(toLength: 16, withPad: " ", startingAt: 0) + ImageView.text(partition)) }
        lines.append("  after the restore, these ids become the new disk's wherever the system names them "
            + "(\(DiskReferences.files.joined(separator: ", "))):")
        for (old, new) in zip(master.partitions, laid.partitions) {
            if let from = old.fileSystem?.uuid, let to = new.fileSystem?.uuid { lines.append("    UUID \(from) -> \(to) (\(old.mountPoint ?? old.fileSystem?.type ?? "?"))") }
            if let from = old.uuid, let to = new.uuid { lines.append("    PARTUUID \(from.lowercased()) -> \(to.lowercased())") }
        }
        return lines.joined(separator: "\n")
    }
}

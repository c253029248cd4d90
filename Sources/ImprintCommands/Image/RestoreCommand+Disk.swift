import Foundation
import Glibc
import ImprintCore
import ImprintDisk
import ImprintImage

extension RestoreCommand {
    /// Restores the whole-disk image at `path` onto `disk`: checks the image's layout against the disk, asks (twice)
    /// before erasing a disk that holds data, lays a new GPT and new file systems, restores the tree, rewrites the
    /// ids the system names, gives it its identity and writes the ESP last.
    /// - Parameters:
    ///   - size: the image's size, for the progress bar.
    ///   - reading: runs the engine it is given over the image's input.
    func restore(
        _ path: String, size: UInt64?, onto disk: String, facts unitFacts: HardwareFacts?, context: CommandContext,
        reading: ((ImageInput) throws -> ReadResult) throws -> ReadResult
    ) throws {
        let destination = try diskDestination(disk, image: path, context: context)
        defer { destination.close() }
        let bar = ProgressBar("restore", counting: .compressed, total: size, context: context)
        defer { bar?.stop() }
        let result: ReadResult
        do {
            result = try reading { input in
                try Restore.run(
                    input, into: destination, model: unitFacts?.model, force: force,
                    threads: threads.count, passphrase: passphrase.provider(),
                    warn: { context.warn($0) }, progress: { bar?.update($0) })
            }
        } catch let plan as DryRunPlan {
            bar?.stop()
            return context.print(plan.text)
        }
        bar?.finish()
        let view = ImageView(manifest: result.manifest, summary: result.summary, imageBytes: size ?? 0)
        if json {
            try context.printJSON(DiskView(image: path, restored: view, work: try destination.view()))
            return try destination.finish()
        }
        context.print(([view.text(title: "restored \(path) onto \(disk); every block and file checked")] + destination.lines()).joined(separator: "\n"))
        try giveIdentity(destination.root, manifest: result.manifest, facts: unitFacts, context: context)
        try destination.finish()
    }

    /// Where a live system booted by UEFI shows its firmware variables.
    static let efiVariables = "/sys/firmware/efi/efivars"

    /// The disk to restore onto: laid once the image's layout has passed every check, after `--dry-run` has printed
    /// its plan (and stopped) or the technician has agreed to erase what the disk holds (or `--force`).
    func diskDestination(_ disk: String, image: String, context: CommandContext) throws -> DiskDestination {
        try DiskDestination(disk, image: image, efiVariables: noBootEntry ? nil : Self.efiVariables) { master, laid, present in
            if dryRun { throw DryRunPlan(disk: disk, present: present, master: master, laid: laid) }
            if !present.isEmpty && !force && !confirmErasing(disk, holding: present, context: context) {
                throw ImageError.targetNotEmpty(path: disk, entries: present)
            }
        }
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

extension DiskDestination {
    /// What was laid and rewritten, one line each, under the restore's summary.
    func lines() -> [String] {
        var lines: [String] = []
        for partition in target?.laid.partitions ?? [] {
            lines.append("  laid \(partition.number)".padding(toLength: 16, withPad: " ", startingAt: 0) + ImageView.text(partition))
        }
        for rewrite in rewrites { lines.append("  ids           \(rewrite.path): \(rewrite.count) rewritten to the new disk's") }
        if initramfsRegenerated { lines.append("  initramfs     made again by the system's update-initramfs: it names the new ids too") }
        for (from, to) in fallback { lines.append("  boot          /\(to) from /\(from): the path a unit with no boot entry starts") }
        if let bootEntry {
            lines.append("  boot entry    \(bootEntry.label): \(bootEntry.loader) on partition \(bootEntry.partition), first in the firmware's boot order")
        }
        return lines
    }

    func view() throws -> DiskWork {
        guard let target else { throw CommandFailure(status: .failure, message: "the disk \(disk) was not laid") }
        return DiskWork(
            disk: disk, laid: target.laid, rewrites: rewrites, bootFallback: fallback.map { "/\($0.to) from /\($0.from)" },
            bootEntry: bootEntry.map { "\($0.label): \($0.loader) on partition \($0.partition)" }, initramfsRegenerated: initramfsRegenerated)
    }
}

/// `imprint restore --disk --json`.
struct DiskView: Encodable {
    var image: String
    /// The image as `verify --json` shows it.
    var restored: ImageView
    var work: DiskWork

    enum CodingKeys: String, CodingKey { case image, restored }

    /// The disk's fields beside the image's, as README documents them.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(image, forKey: .image)
        try container.encode(restored, forKey: .restored)
        try work.encode(to: encoder)
    }
}

/// What a restore did to a disk, in `restore --disk --json` and `restore --server --disk --json`.
struct DiskWork: Encodable {
    var disk: String
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

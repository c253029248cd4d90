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
        let result = try Restore.run(
            input, root: folder, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount,
            passphrase: passphrase.provider(), approve: { manifest in
                target = try prepare(disk, for: manifest, path: path, model: unitFacts?.model, at: folder, context: context)
            }, progress: { bar?.update($0) })
        bar?.finish()
        guard let target else { return }
        let rewrites = try target.rewriteReferences()
        let fallback = try target.addFallbackLoader()
        let view = ImageView(manifest: result.manifest, summary: result.summary, imageBytes: input.size ?? 0)
        var lines = [view.text(title: "restored \(path) onto \(disk); every block and file checked")]
        for partition in target.laid.partitions { lines.append("  laid \(partition.number)".padding(toLength: 16, withPad: " ", startingAt: 0) + ImageView.text(partition)) }
        for rewrite in rewrites { lines.append("  ids           \(rewrite.path): \(rewrite.count) rewritten to the new disk's") }
        for (from, to) in fallback { lines.append("  boot          /\(to) from /\(from): the path a unit with no boot entry starts") }
        context.print(lines.joined(separator: "\n"))
        try giveIdentity(try TargetRoot(folder), manifest: result.manifest, facts: unitFacts, context: context)
        // The ESP last: until it is written the disk does not boot, so a restore cut short is never taken for done.
        try target.finish()
    }

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
        let present = DiskSource.contents(of: disk)
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

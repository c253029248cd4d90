import ArgumentParser
import Foundation
import Glibc
import ImprintCore
import ImprintDisk
import ImprintImage

struct CaptureCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Capture a root file system into an image.",
        discussion: """
            Writes the tree under --root as a POSIX pax tar stream cut into independently compressed blocks, each \
            a complete gzip member, so 'tar -tvzf IMAGE' and 'tar -xzf IMAGE' read it without Imprint, while \
            Imprint compresses on every core. With '--codec zstd' each block is a zstd frame ('tar --zstd -xf'). Owners (numbers and names), modes with setuid/setgid/sticky, \
            nanosecond times, links, hard links, devices, FIFOs, extended attributes (ACLs, capabilities, SELinux) \
            and holes of sparse files are kept; sockets are skipped and counted. With --encrypt every data block \
            is sealed with AES-256-GCM under a key made from the passphrase by scrypt (then only Imprint reads the \
            image; the manifest with its models stays readable). Every file's SHA-256 and every \
            block's checksum go into the image (see FORMAT.md).

            The image is written to IMAGE.partial and renamed when complete. '-o -' streams to standard output.

            --disk DISK captures a whole disk instead (a block device or a disk image file with a GPT): each ext2/3/4 \
            file system mounted read-only, and the ESP copied out with mtools, where the disk's own fstab puts them, \
            in a private mount namespace; the manifest records the partition table, the file systems and the boot \
            loader found. A disk mounted writable is refused unless --quiesced.

            --generalize leaves out what must not be cloned, without changing the master, by running the default \
            generalize operations: the machine-id (kept as 'uninitialized'), other machine ids and seeds, SSH host \
            keys and users' .ssh folders, network leases, secrets and card-bound NetworkManager profiles, Kerberos, \
            SSSD and Samba secrets, account-file backups, cron and mail spools, crash dumps, login records, logs, \
            shell histories, package caches, /tmp and /var/tmp contents, LVM's devices file, cloud-init's state and \
            Imprint's own. '--list-operations' prints every operation, a '*' marking the defaults. \
            '--operations LIST' chooses them as virt-sysprep does (and implies --generalize): comma-separated names, \
            'defaults' and 'all' for those sets, '-NAME' to remove one, '+NAME' or 'NAME' to add one, read left to \
            right from none; for example '--operations defaults,-ssh-userdir,+user-caches'. The manifest names the \
            operations that ran; 'imprint inspect' shows them.

            \(ExitStatus.helpTable)
            """)

    @Option(help: ArgumentHelp("The root of the system to capture.", valueName: "dir")) var root: String = "/"
    @Option(help: ArgumentHelp(
        "Capture a whole disk instead: a block device (/dev/nvme0n1) or a disk image file; its GPT, file systems and boot setup go into the image.",
        valueName: "disk"))
    var disk: String?
    @Flag(help: "With --disk: capture although its file systems are mounted writable (you have stopped what writes to them).")
    var quiesced = false
    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The image file, or - for standard output.", valueName: "image"))
    var output: String?
    @Option(name: .customLong("model"), help: ArgumentHelp(
        "A hardware model (DMI product name) the image is for; repeat for several (default: the root's own).", valueName: "name"))
    var models: [String] = []
    @Option(help: ArgumentHelp(
        "How blocks are compressed: gzip (tar -z reads the image) or zstd (tar --zstd reads it).", valueName: "gzip|zstd"))
    var codec: String = "gzip"
    @Option(help: "The compression level: gzip 1-12 (default 6, libdeflate's levels), zstd 1-19 (default 3).") var level: Int?
    @OptionGroup var threads: ThreadsOption
    @Flag(help: "Leave out what must not be cloned: run the default generalize operations (see --list-operations).")
    var generalize = false
    @Option(name: .customLong("operations"), parsing: .unconditionalSingleValue, help: ArgumentHelp(
        "Generalize with these operations: 'defaults,-ssh-userdir,+user-caches' (names, defaults, all; - removes, + adds).",
        valueName: "list"))
    var operationLists: [String] = []
    @Flag(name: .customLong("list-operations"), help: "Print the generalize operations, '*' marking the defaults, and exit.")
    var listOperations = false
    @Option(name: .customLong("exclude"), help: ArgumentHelp(
        "Leave out paths matching this pattern (with a slash: from the root, '/var/cache/*'; without: any name, '*.o').",
        valueName: "pattern"))
    var excludes: [String] = []
    @Flag(name: .customLong("one-file-system"), help: "Do not descend into other file systems mounted under the root.")
    var oneFileSystem = false
    @Flag(help: "Encrypt the data blocks (AES-256-GCM, key from the passphrase by scrypt); tar can no longer read the image.")
    var encrypt = false
    @OptionGroup var passphrase: PassphraseOptions
    @Flag(help: "Print the result as JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if listOperations { return }
        guard output != nil else { throw ValidationError("'--output' is missing: name the image file, or - for standard output") }
        _ = try chosenOperations()
        if passphrase.passphraseFile != nil && !encrypt { throw ValidationError("'--passphrase-file' goes with '--encrypt'") }
        guard let codec = ImageCodec(rawValue: codec) else { throw ValidationError("'--codec' must be gzip or zstd, not '\(self.codec)'") }
        if let level, !codec.levels.contains(level) {
            throw ValidationError("'--level' for \(codec.rawValue) must be \(codec.levels.lowerBound) (fastest) to \(codec.levels.upperBound) (smallest), not \(level)")
        }
        if disk != nil && oneFileSystem { throw ValidationError("'--one-file-system' goes with '--root'; '--disk' captures every file system of the disk") }
        if quiesced && disk == nil { throw ValidationError("'--quiesced' goes with '--disk'") }
        for model in models where model.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("'--model' must not be empty")
        }
    }

    func run(_ context: CommandContext) throws {
        if listOperations { return try printOperations(context) }
        let output = self.output ?? "-"
        // The disk's file systems are mounted where nothing else sees them, and vanish with this process.
        if disk != nil && !MountNamespace.isPrivate(environment: context.environment) { try context.enterPrivateMounts() }
        let source = try disk.map { try DiskSource.open($0, quiesced: quiesced) }
        defer { source?.close() }
        let target = try TargetRoot(source?.root ?? root)
        let models = self.models.isEmpty ? [try Self.model(of: target, disk: disk)] : self.models
        let secret = encrypt ? try passphrase.read(confirming: true) : nil
        let toStandardOutput = output == "-"
        if toStandardOutput && isatty(STDOUT_FILENO) == 1 {
            throw CommandFailure(status: .invalidInput, message: "refusing to write an image to a terminal; redirect standard output or use '-o FILE'")
        }
        let partial = output + ".partial"
        let descriptor = toStandardOutput ? STDOUT_FILENO : open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ImageError.io(path: partial, operation: "create", errno: errno) }
        var renamed = false
        defer {
            if !toStandardOutput {
                close(descriptor)
                if !renamed { unlink(partial) }
            }
        }
        var request = CaptureRequest(
            root: target.path, models: models, codec: ImageCodec(rawValue: codec) ?? .gzip, level: level, threads: threads.count,
            excludes: excludes, oneFileSystem: oneFileSystem, tool: "imprint \(imprintVersion)", time: context.clock())
        request.operations = try chosenOperations()
        request.passphrase = secret
        if let disk, let source { request.disk = (disk, source.layout) }
        var info = stat()
        if fstat(descriptor, &info) == 0 && info.st_mode & S_IFMT == S_IFREG {
            request.skip = (UInt64(info.st_dev), UInt64(info.st_ino))
        }
        // The total is what this capture will read, counted first by names and sizes (only when a bar is shown).
        let bar = ProgressBar("capture", counting: .data, total: nil, context: context)
        defer { bar?.stop() }
        if let bar {
            let size = Capture.measure(request) { bar.status("counting what to read: \($0.files) files, \(megabytes($0.dataBytes)) data") }
            bar.begin(total: size.dataBytes)
        }
        let result = try Capture.run(request, to: descriptor, name: toStandardOutput ? "standard output" : output) { bar?.update($0) }
        bar?.finish()
        if !toStandardOutput {
            guard fsync(descriptor) == 0, rename(partial, output) == 0 else {
                throw ImageError.io(path: output, operation: "finish", errno: errno)
            }
            renamed = true
        }
        try report(result, title: "captured \(disk ?? target.path) into \(toStandardOutput ? "standard output" : output)", toStandardError: toStandardOutput, context)
    }

    /// The hardware model of the system under `root` (DMI); for a disk, of this machine when the disk is one of
    /// its own (a block device).
    static func model(of root: TargetRoot, disk: String?) throws -> String {
        let probed: TargetRoot?
        if let disk {
            // A disk image file names no hardware; a disk of this machine is this machine's.
            probed = DiskUse.isBlockDevice(disk) ? try TargetRoot("/") : nil
        } else {
            probed = root
        }
        guard let model = probed.flatMap({ try? FactsProbe.read(root: $0) })?.model, !model.isEmpty else {
            let fix = "name it with '--model NAME'"
            throw CommandFailure(
                status: .invalidInput,
                message: disk.map { "the disk image file \(quoted($0)) does not say which hardware it is for; \(fix)" }
                    ?? "no hardware model under \(quoted(root.path))/sys/class/dmi/id/product_name; \(fix)")
        }
        return model
    }

    /// Prints the image made, as text or JSON; to standard error when the image went to standard output.
    func report(_ result: CaptureResult, title: String, toStandardError: Bool, _ context: CommandContext) throws {
        let report = toStandardError ? { (text: String) in context.errorOutput(text + "\n") } : { context.print($0) }
        let view = ImageView(manifest: result.manifest, summary: result.summary, imageBytes: result.imageBytes)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            report(String(decoding: try encoder.encode(view), as: UTF8.self))
        } else {
            report(view.text(title: title))
        }
    }
}

/// An image as capture, verify and inspect print it.
struct ImageView: Encodable {
    var manifest: ImageManifest
    var summary: ImageSummary
    var imageBytes: UInt64
    var ratio: Double { summary.tarBytes == 0 ? 0 : Double(imageBytes) / Double(summary.tarBytes) }

    enum CodingKeys: String, CodingKey { case manifest, summary, imageBytes, ratio }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(manifest, forKey: .manifest)
        try container.encode(summary, forKey: .summary)
        try container.encode(imageBytes, forKey: .imageBytes)
        try container.encode((ratio * 1000).rounded() / 1000, forKey: .ratio)
    }

    func text(title: String) -> String {
        var lines = [title]
        func add(_ label: String, _ value: String) { lines.append("  " + label.padding(toLength: 14, withPad: " ", startingAt: 0) + value) }
        add("models", manifest.models.joined(separator: ", "))
        add("created", ISO8601DateFormatter().string(from: manifest.created) + " by \(manifest.tool)")
        add("codec", "\(manifest.codec) level \(manifest.level), \(summary.blocks) blocks of \(manifest.blockSize / 1024) KiB")
        add("entries", "\(summary.entries): \(summary.files) files, \(summary.folders) folders, \(summary.symlinks) links, "
            + "\(summary.hardLinks) hard links, \(summary.devices) devices, \(summary.fifos) FIFOs, \(summary.sparseFiles) sparse")
        add("size", "\(megabytes(summary.dataBytes)) of data, \(megabytes(summary.tarBytes)) as tar, \(megabytes(imageBytes)) compressed "
            + String(format: "(%.1f%%)", ratio * 100))
        if let disk = manifest.disk {
            let boot = disk.boot.isEmpty ? "no boot loader found" : "boots by " + disk.boot.joined(separator: ", ")
            add("disk", "\(disk.label), \(disk.partitions.count) partitions, \(mebibytes(disk.size)) on the master; \(boot)")
            for partition in disk.partitions { add("partition \(partition.number)", Self.text(partition)) }
        }
        if summary.socketsSkipped > 0 { add("skipped", "\(summary.socketsSkipped) sockets") }
        if summary.excluded > 0 { add("excluded", "\(summary.excluded) entries (\(manifest.excluded.joined(separator: ", ")))") }
        if !manifest.generalized.isEmpty {
            add("operations", manifest.generalized.joined(separator: ", "))
            let counts = summary.leftOut.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            add("generalized", counts.isEmpty ? "nothing to leave out" : counts.joined(separator: "; "))
        }
        if let vanished = summary.vanished, !vanished.isEmpty {
            add("vanished", "\(vanished.count) entries removed while the capture ran, not imaged: " + vanished.prefix(5).joined(separator: ", "))
        }
        if !summary.changedWhileRead.isEmpty {
            add("changed", "\(summary.changedWhileRead.count) files changed while read: " + summary.changedWhileRead.prefix(5).joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }

    /// One partition of a disk image: size, what it is, its file system and where the system mounts it.
    static func text(_ partition: PartitionLayout) -> String {
        var words = [mebibytes(partition.size), partition.role == .other ? partition.type : partition.role.rawValue]
        if let name = partition.name, !name.isEmpty { words.append(quoted(name)) }
        if let fileSystem = partition.fileSystem {
            words.append([fileSystem.type, fileSystem.uuid, fileSystem.label.map(quoted)].compactMap { $0 }.joined(separator: " "))
            if let used = fileSystem.usedBytes { words.append("\(mebibytes(used)) used") }
        }
        words.append(partition.mountPoint.map { "mounted at \($0)" } ?? "not mounted")
        if partition.grows { words.append("grows") }
        return words.joined(separator: ", ")
    }
}

/// Bytes in binary units with one decimal: `512.0 MiB`, `30.0 GiB`.
func mebibytes(_ bytes: Int64) -> String {
    let gib = Double(bytes) / Double(1 << 30)
    return gib >= 1 ? String(format: "%.1f GiB", gib) : String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
}

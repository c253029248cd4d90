import Foundation
import Glibc
import ImprintCore
import ImprintImage

/// A whole disk to restore an image onto (a block device or a disk image file): laid anew once the image's layout has
/// passed every check, its file systems mounted in a folder of its own; after the restore, the ids the system names
/// are rewritten, and the ESP and the firmware's boot entry are written last (`finish`). `restore --disk` restores a
/// unit's disk through it, and `preflight --boot` a scratch disk file it then boots.
///
/// Like `DiskTarget`, it mounts in this process's mount namespace, which must be a private one (`MountNamespace`).
public final class DiskDestination: RestoreDestination {
    public let disk: String
    public let root: TargetRoot
    public let present: [String]
    /// The image's path or URL, for messages.
    private let image: String
    private let efiVariables: String?
    private let approve: (_ master: DiskLayout, _ laid: DiskLayout, _ present: [String]) throws -> Void
    /// The disk as laid, once `prepare` has laid it.
    public private(set) var target: DiskTarget?
    /// The files whose disk ids were rewritten, once restored.
    public private(set) var rewrites: [DiskTarget.Rewrite] = []
    /// Whether the restored system's initramfs was made again (it holds a rewritten file).
    public private(set) var initramfsRegenerated = false
    /// The fallback loader's copies on the ESP, relative to it.
    public private(set) var fallback: [(from: String, to: String)] = []
    /// The firmware boot entry `finish` makes, nil when it makes none.
    public private(set) var bootEntry: BootEntry?

    /// Reads what the disk holds and makes the folder its file systems will be mounted in; `close` removes it.
    /// - Parameters:
    ///   - image: the image's path or URL, for messages.
    ///   - efiVariables: where this machine's firmware shows its variables (`/sys/firmware/efi/efivars`): a block
    ///     device restored on a machine booted by UEFI gets a boot entry (`BootEntry.applies`); nil makes none.
    ///   - approve: called once the image's layout fits the disk and before anything is written, with the master's
    ///     layout, the one the disk gets and what the disk holds; it throws to stop (a dry run, a technician who
    ///     does not agree to erase the disk).
    public init(
        _ disk: String, image: String, efiVariables: String?,
        approve: @escaping (_ master: DiskLayout, _ laid: DiskLayout, _ present: [String]) throws -> Void
    ) throws {
        self.disk = disk
        self.image = image
        self.efiVariables = efiVariables
        self.approve = approve
        present = DiskSource.contents(of: disk)
        root = try TargetRoot(try DiskSource.makeFolder())
    }

    /// A disk is laid anew: there is no system on it to personalize as it is.
    public var personalizesInPlace: Bool { false }

    public var identityGroup: String? { DiskSource.identity(on: disk)?.group }

    /// Asked in `prepare` (`approve`), once the disk is known to be large enough for the image: never in vain.
    public func confirmErasing() {}

    /// Checks the image's layout against the disk (a disk image, large enough, not mounted, a master that boots by
    /// UEFI), asks `approve`, then lays the disk and mounts it under `root`. Nothing is written to the disk before
    /// every check has passed.
    /// - Important: erases the disk.
    public func prepare(for manifest: ImageManifest) throws {
        guard let layout = manifest.disk else {
            throw DiskError.unsupportedImage(
                image: image, reason: "is an image of a folder, not of a disk; restore it into a mounted root with '--root DIR'")
        }
        let laid = try DiskTarget.plan(layout, onto: disk) { UUID().uuidString }
        let mounted = DiskUse.mounts(of: disk).map(\.mountPoint)
        if !mounted.isEmpty { throw DiskError.inUse(disk: disk, mountPoints: mounted) }
        if layout.boot.contains("grub-bios") && !layout.boot.contains(where: { $0 != "grub-bios" }) {
            throw DiskError.unsupportedImage(
                image: image,
                reason: "is of a master that boots by BIOS (GRUB in a BIOS boot partition); Imprint lays disks that boot by "
                    + "UEFI so far: reinstall the master's boot loader as grub-efi, capture it again, or restore its tree "
                    + "with '--root DIR' and install a boot loader yourself")
        }
        try approve(layout, laid, present)
        target = try DiskTarget.lay(laid, master: layout, onto: disk, at: root.path)
    }

    /// Rewrites the ids the restored system names, makes its initramfs again when they reach into it, and gives the
    /// ESP the fallback loader.
    public func restored() throws {
        guard let target else { return }
        rewrites = try target.rewriteReferences()
        initramfsRegenerated = try target.regenerateInitramfs(after: rewrites)
        fallback = try target.addFallbackLoader()
        let wanted = efiVariables.map { BootEntry.applies(to: disk, efiVariables: $0) } ?? false
        bootEntry = wanted ? target.plannedBootEntry() : nil
    }

    /// The ESP last: until it is written the disk does not boot, so a restore cut short is never taken for done.
    /// The firmware's entry after it: an entry never points at a loader that is not there yet. Unmounts the disk.
    public func finish() throws {
        try target?.finish()
        if let bootEntry { _ = try bootEntry.install() }
    }

    /// Unmounts the disk and removes the folder.
    public func close() {
        target?.close()
        rmdir(root.path)
    }
}

import Foundation
import ImprintCore

/// Where a restore puts an image's tree, and what it does before and after: a folder (`FolderDestination`), or a
/// whole disk the command lays anew. The caller calls `confirmErasing` before it opens the image (a download
/// starts only once the technician agreed); `Restore.run(_:into:...)` calls `prepare` once the image's manifest is
/// read and fits the unit, writes the tree into `root`, then calls `restored`; the caller personalizes `root` and
/// calls `finish`.
public protocol RestoreDestination: AnyObject {
    /// The root the image's tree goes into, and the agent personalizes.
    var root: TargetRoot { get }
    /// What the destination holds now, as a technician is shown it; empty when nothing would be lost.
    var present: [String] { get }
    /// The group of the identity Imprint last gave the system the destination holds (its identity log), nil when
    /// none: a deployment server asks before erasing another group's unit.
    var identityGroup: String? { get }
    /// Whether the root can be personalized as it is, without a restore (false for a disk that is laid anew).
    var personalizesInPlace: Bool { get }
    /// Before the image is read: asks before erasing what the destination holds; throws to refuse.
    func confirmErasing() throws
    /// Once the image's manifest is read and fits the unit, the last moment before anything is erased or written.
    func prepare(for manifest: ImageManifest) throws
    /// After every file is written and checked, before the personalization.
    func restored() throws
    /// After the personalization.
    func finish() throws
}

/// A folder to restore into: the unit's mounted root. What it holds is erased only once the image is known to be
/// readable and for this unit.
public final class FolderDestination: RestoreDestination {
    public let root: TargetRoot
    public let present: [String]
    private let force: Bool
    private let confirm: ([String]) -> Bool

    /// - Parameters:
    ///   - force: erase what the folder holds without asking.
    ///   - confirm: asked, with what the folder holds, before it is erased (without `force`); false refuses.
    public init(_ root: TargetRoot, force: Bool, confirm: @escaping ([String]) -> Bool) throws {
        self.root = root
        self.force = force
        self.confirm = confirm
        present = try Restore.contents(of: root.path)
    }

    public var personalizesInPlace: Bool { true }

    public var identityGroup: String? {
        guard let log = try? root.readTrimmedText(IdentityRecord.logPath) else { return nil }
        return IdentityRecord.last(ofLog: log)?.group
    }

    /// Refuses a folder holding the remains of a restore cut short (unless `force`), or one the technician did not
    /// agree to erase.
    public func confirmErasing() throws {
        guard !present.isEmpty, !force else { return }
        try root.checkRestoreFinished()
        guard confirm(present) else { throw ImageError.targetNotEmpty(path: root.path, entries: present) }
    }

    /// Erases what the folder holds: the image is readable and for this unit.
    public func prepare(for manifest: ImageManifest) throws {
        if !present.isEmpty { try Restore.erase(root.path) }
    }

    public func restored() {}
    public func finish() {}
}

extension Restore {
    /// Restores the image from `input` into `destination` (which was asked `confirmErasing` already): refuses an
    /// image whose models do not name `model` (unless `force`, with a warning), lets the destination prepare once
    /// the manifest has passed, writes the tree into its root and tells it the tree is there.
    /// - Parameter warn: a warning for the technician (an image of another model restored under `force`).
    /// - Important: erases and writes the destination.
    public static func run(
        _ input: ImageInput, into destination: any RestoreDestination, model: String?, force: Bool,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount, passphrase: (() throws -> String)? = nil,
        warn: (String) -> Void = { _ in }, progress: ((UInt64) -> Void)? = nil
    ) throws -> ReadResult {
        let result = try run(input, root: destination.root.path, threads: threads, passphrase: passphrase, approve: { manifest in
            if !manifest.fits(model: model) {
                let refusal = ImageError.wrongModel(imageModels: manifest.models, unitModel: model)
                guard force else { throw refusal }
                warn("restoring anyway (--force): \(refusal)")
            }
            try destination.prepare(for: manifest)
        }, progress: progress)
        try destination.restored()
        return result
    }
}

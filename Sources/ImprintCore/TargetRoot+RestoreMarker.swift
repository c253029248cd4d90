import Foundation
import Glibc

extension TargetRoot {
    /// The file a restore creates at the top of its target before it writes anything, and removes after its last
    /// write (everything synced to disk first). Found there, a restore was cut short (killed, power lost, disk full,
    /// damaged image): any file in the root, even one that looks whole, may be incomplete.
    public static let restoreMarker = ".imprint-restore-incomplete"

    /// What the marker says to an admin who finds it.
    public static let restoreMarkerText = """
        A restore into this folder began and has not finished: its files are incomplete, even those that look whole.
        Restore the image again with 'imprint restore IMAGE --root DIR --force'; 'imprint run', 'imprint install'
        and 'imprint capture' refuse this root until then.

        """

    /// Whether a restore into this root began and did not finish.
    public var hasInterruptedRestore: Bool {
        var info = stat()
        return lstat(path == "/" ? "/" + Self.restoreMarker : path + "/" + Self.restoreMarker, &info) == 0
    }

    /// Refuses a root that holds an interrupted restore, before anything personalizes or installs into it.
    public func checkRestoreFinished() throws(CoreError) {
        if hasInterruptedRestore { throw .interruptedRestore(root: path) }
    }
}

import Foundation

/// Whether this process has a mount namespace of its own, so mounts it makes are seen by nothing else and vanish
/// with it (`unshare --mount --propagation private` gives one).
public enum MountNamespace {
    /// Compares this process's mount namespace with init's; when init's cannot be read, says no.
    public static func isPrivate() -> Bool {
        guard let own = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt"),
            let initial = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/1/ns/mnt")
        else { return false }
        return own != initial
    }

    /// The argument vector that runs this same command again in a private mount namespace: `unshare --mount
    /// --propagation private` and this executable with `arguments`.
    public static func reexec(_ arguments: [String], executable: String = "/proc/self/exe") -> [String] {
        ["/usr/bin/unshare", "--mount", "--propagation", "private", "--", executable] + arguments
    }
}

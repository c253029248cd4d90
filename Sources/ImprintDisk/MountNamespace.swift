import Foundation

/// Whether this process has a mount namespace of its own, so mounts it makes are seen by nothing else and vanish
/// with it. Imprint gets one by running itself again under `unshare --mount --propagation private`, telling the new
/// process which namespace it came from: a process in another one than that has its own.
public enum MountNamespace {
    /// The environment variable that carries the namespace a re-run came from.
    public static let variable = "IMPRINT_MOUNTS_FROM"

    /// This process's mount namespace (`mnt:[4026531832]`).
    public static func current() -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt")
    }

    /// Whether this process runs in a namespace other than the one of the process that re-ran it.
    public static func isPrivate(environment: [String: String]) -> Bool {
        guard let from = environment[variable], let current = current() else { return false }
        return from != current
    }

    /// The argument vector that runs `executable` with `arguments` again in a private mount namespace.
    public static func reexec(_ arguments: [String], executable: String) -> [String] {
        ["/usr/bin/unshare", "--mount", "--propagation", "private", "--", executable] + arguments
    }

    /// The environment for that re-run: this one, and the namespace it comes from.
    public static func reexecEnvironment(_ environment: [String: String]) -> [String: String] {
        var environment = environment
        environment[variable] = current() ?? ""
        return environment
    }
}

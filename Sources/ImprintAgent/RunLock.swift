import Foundation
import Glibc
import ImprintCore

/// A lock on /var/lib/imprint/lock in the root, so two runs never interleave: exclusive for a run that writes,
/// shared for a dry run (which reads, and must not read a run half-applied).
final class RunLock {
    static let path = "/var/lib/imprint/lock"

    /// nil for a dry run in a root that has never had a run: nothing to wait for, and nothing may be created.
    private let descriptor: Int32?

    /// Takes the lock, waiting up to `wait` seconds for a run that holds it.
    /// - Parameters:
    ///   - shared: take a shared lock on the file if it exists, and create nothing (a dry run).
    ///   - waiting: called once when the lock is busy, to tell the user why nothing happens.
    init(root: TargetRoot, wait: Double, shared: Bool = false, waiting: () -> Void) throws {
        let path = Self.path
        // Opened with O_CREAT, never written by rename: every process must lock the same inode.
        let opened: Int32
        if shared {
            let host = try root.resolve(path)
            opened = open(host, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            if opened < 0 {
                guard errno == ENOENT || errno == ENOTDIR else {
                    throw CoreError.io(path: path, operation: "open the lock", errno: errno)
                }
                descriptor = nil
                return
            }
        } else {
            opened = try root.openCreating(path, mode: 0o600)
        }
        descriptor = opened
        let deadline = Date().addingTimeInterval(wait)
        var told = false
        while flock(opened, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                close(opened)
                throw CoreError.io(path: path, operation: "lock", errno: errno)
            }
            if Date() >= deadline {
                close(opened)
                throw AgentError.busy(lock: root.path == "/" ? path : root.path + path, waited: wait)
            }
            if !told {
                waiting()
                told = true
            }
            usleep(50_000)
        }
    }

    deinit {
        guard let descriptor else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

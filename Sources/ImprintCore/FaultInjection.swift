import Foundation
import Glibc

/// A crash on purpose, for the tests that prove a run or a restore killed at any file operation is finished, undone
/// or flagged by the next: with `IMPRINT_TEST_KILL_AT_OPERATION=N` in its environment, the process sends itself
/// SIGKILL just before its N-th file change under a root. Unset (always, outside those tests), it costs one
/// comparison. `package`, not public: the image engine counts its writes too, nothing outside Imprint sees it.
package enum FaultInjection {
    nonisolated(unsafe) private static var operations = 0
    private static let killAt: Int? = ProcessInfo.processInfo.environment["IMPRINT_TEST_KILL_AT_OPERATION"].flatMap(Int.init)

    package static func beforeFileOperation() {
        guard let killAt else { return }
        operations += 1
        if operations >= killAt { kill(getpid(), SIGKILL) }
    }
}

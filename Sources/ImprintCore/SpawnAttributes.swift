import CLinux
import Glibc

/// The `posix_spawn` attributes of a child that starts with no signal blocked and every catchable signal at its
/// default action, whatever this process set: a runtime blocks SIGTERM on its threads and SIGPIPE while it writes to
/// a pipe, and a child inherits both through `exec`.
/// - Parameters:
///   - newSession: true to start the child in a session of its own (for a child given a terminal of its own).
///   - body: gets the attributes to pass to `posix_spawn`; they are destroyed when it returns.
public func withCleanSignals<Result>(newSession: Bool = false, _ body: (inout posix_spawnattr_t) throws -> Result) rethrows -> Result {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in Int32(1)..<32 where signal != SIGKILL && signal != SIGSTOP { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    // glibc's POSIX_SPAWN_SETSID (0x80), which Swift does not import (it is behind _GNU_SOURCE).
    let setSession: Int32 = newSession ? 0x80 : 0
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | setSession))
    return try body(&attributes)
}

import Foundation
import ImprintCore

/// What a program printed on its terminal, and how it ended.
public struct TerminalResult: Sendable {
    public var status: Int32
    /// Everything written to the terminal, the program's echo of the answers included.
    public var transcript: String
}

/// Runs a program with a pseudo-terminal as its standard input, output and error (a session of its own, so
/// getpass reads it too), the way a technician runs it at a console, and types each answer once the program
/// has printed its prompt. Answers are written only after the prompt, since a program may flush what was typed
/// ahead (getpass does).
/// - Parameters:
///   - answers: the prompts to wait for, in order, each with the line to type.
///   - standardOutput: a file to take standard output instead of the terminal (as `imprint capture -o - > FILE`).
public func runOnTerminal(
    _ executable: String, _ arguments: [String], environment: [String: String], answers: [(prompt: String, line: String)],
    standardOutput: String? = nil
) throws -> TerminalResult {
    var master: Int32 = -1
    var slave: Int32 = -1
    guard openpty(&master, &slave, nil, nil, nil) == 0 else { throw TestSupportError("openpty failed: errno \(errno)") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for descriptor in Int32(0)...2 { posix_spawn_file_actions_adddup2(&actions, slave, descriptor) }
    if let standardOutput { posix_spawn_file_actions_addopen(&actions, 1, standardOutput, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
    posix_spawn_file_actions_addclose(&actions, master)
    posix_spawn_file_actions_addclose(&actions, slave)
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var child: pid_t = 0
    let spawned = withCleanSignals(newSession: true) { attributes in posix_spawn(&child, executable, &actions, &attributes, argv, envp) }
    close(slave)
    defer { close(master) }
    guard spawned == 0 else { throw TestSupportError("cannot start \(executable): errno \(spawned)") }

    var transcript = Data()
    var pending = answers[...]
    var answeredUpTo = 0
    var buffer = [UInt8](repeating: 0, count: 4096)
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline {
        var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 200) >= 0 else { break }
        if poller.revents & Int16(POLLIN) != 0 {
            let count = read(master, &buffer, buffer.count)
            if count <= 0 { break }  // EIO: the program closed the terminal
            transcript.append(contentsOf: buffer[0..<count])
        } else if poller.revents & Int16(POLLHUP | POLLERR) != 0 {
            break
        }
        if let next = pending.first,
            let found = transcript[answeredUpTo...].range(of: Data(next.prompt.utf8))
        {
            answeredUpTo = found.upperBound
            _ = (next.line + "\n").withCString { write(master, $0, strlen($0)) }
            pending.removeFirst()
        }
    }
    var status: Int32 = 0
    waitpid(child, &status, 0)
    let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return TerminalResult(status: exit, transcript: String(decoding: transcript, as: UTF8.self))
}

import CLinux
import Glibc

/// A program to run and what to give it, as a value: callers and tests can check the argument vector without running
/// it. `run()` starts it with `posix_spawn`, feeds its standard input and reads its standard output and standard
/// error at the same time, so a program that fills one pipe while Imprint waits on the other never blocks.
public struct ChildProcess: Equatable, Sendable, CustomStringConvertible {
    /// The program's path; it is not looked up on PATH.
    public var executable: String
    public var arguments: [String]
    /// The whole environment the program gets; nil gives it this process's.
    public var environment: [String: String]?
    /// The folder the program starts in; nil for this process's.
    public var workingDirectory: String?
    /// The bytes on the program's standard input, which then ends; nil connects it to /dev/null.
    public var input: [UInt8]?
    /// How long the program may run; when that has passed it is killed (SIGKILL) and `run()` throws
    /// `CoreError.timedOut`. nil waits as long as it takes.
    public var timeout: Duration?

    public init(
        _ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
        workingDirectory: String? = nil, input: [UInt8]? = nil, timeout: Duration? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.input = input
        self.timeout = timeout
    }

    /// The command line as a shell would take it, for messages.
    public var description: String {
        ([executable] + arguments).map(ExternalCommand.shellQuoted).joined(separator: " ")
    }

    /// How a program ended.
    public enum Termination: Equatable, Sendable {
        case exited(Int32)
        case signaled(Int32)
    }

    /// What a finished program printed, and how it ended.
    public struct Result: Equatable, Sendable {
        public var termination: Termination
        public var output: [UInt8]
        public var error: [UInt8]

        public init(termination: Termination, output: [UInt8], error: [UInt8]) {
            self.termination = termination
            self.output = output
            self.error = error
        }

        /// The exit status, or the signal's number when a signal ended the program (as Foundation's `Process`
        /// reports it, so a program killed by SIGKILL has status 9).
        public var status: Int32 {
            switch termination {
            case .exited(let code), .signaled(let code): return code
            }
        }

        /// Standard output as text (bytes that are not UTF-8 become U+FFFD).
        public var outputText: String { String(decoding: output, as: UTF8.self) }
        /// Standard error as text.
        public var errorText: String { String(decoding: error, as: UTF8.self) }
    }

    /// Runs the program and waits until it has ended and closed its standard output and standard error.
    /// - Returns: what it printed and how it ended, whatever its exit status.
    /// - Throws: `CoreError.io` when it cannot be started (errno ENOENT when `executable` does not exist) or its
    ///   pipes cannot be read; `CoreError.timedOut` when it ran past `timeout` (it has been killed then).
    public func run() throws(CoreError) -> Result {
        var pipes = try Pipes(hasInput: input != nil)
        defer { pipes.closeAll() }
        let pid = try spawn(&pipes)
        let deadline = timeout.map { ContinuousClock.now + $0 }
        var exchange = Exchange(pipes: pipes, input: input ?? [])
        let finished = exchange.run(deadline: deadline)
        pipes = exchange.pipes
        guard finished, let termination = try wait(for: pid, until: deadline) else {
            kill(pid, SIGKILL)
            _ = try? wait(for: pid, until: nil)
            if let failure = exchange.failure { throw .io(path: description, operation: failure.operation, errno: failure.code) }
            throw .timedOut(command: description, after: timeout ?? .zero)
        }
        return Result(termination: termination, output: exchange.output, error: exchange.error)
    }

    /// Starts the program with the child's ends of `pipes` as its standard input, output and error, and closes
    /// those ends here.
    private func spawn(_ pipes: inout Pipes) throws(CoreError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipes.childInput, 0)
        posix_spawn_file_actions_adddup2(&actions, pipes.childOutput, 1)
        posix_spawn_file_actions_adddup2(&actions, pipes.childError, 2)
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        if let workingDirectory {
            posix_spawn_file_actions_addchdir_np(&actions, workingDirectory)
        }

        let argv = [executable] + arguments
        let envp = environment.map { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } }
        var pid = pid_t()
        // The program starts with no signal blocked and every handler at its default, whatever this process set
        // (the runner blocks SIGPIPE on its own thread while it writes the input).
        let code = withCleanSignals { attributes in
            withCStrings(argv) { argv in
                if let envp {
                    return withCStrings(envp) { envp in posix_spawn(&pid, executable, &actions, &attributes, argv, envp) }
                }
                return posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
            }
        }
        pipes.closeChildEnds()
        guard code == 0 else { throw .io(path: executable, operation: "start", errno: code) }
        return pid
    }

    /// Reaps `pid`, and tells how it ended; nil when it still runs at `deadline` (a program that closed its output
    /// early and runs on).
    private func wait(for pid: pid_t, until deadline: ContinuousClock.Instant?) throws(CoreError) -> Termination? {
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, deadline == nil ? 0 : WNOHANG)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR { throw .io(path: description, operation: "wait for", errno: errno) }
            if let deadline {
                if ContinuousClock.now >= deadline { return nil }
                var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)
                nanosleep(&pause, nil)
            }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which are macros Swift cannot call.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }
}

/// The three pipes to a child: this process's ends stay open (and close on exec, so a program another thread
/// starts at the same moment does not inherit them and hold them open), the child's are closed once it started.
private struct Pipes {
    var childInput: Int32 = -1
    var childOutput: Int32 = -1
    var childError: Int32 = -1
    var input: Int32 = -1
    var output: Int32 = -1
    var error: Int32 = -1

    init(hasInput: Bool) throws(CoreError) {
        do throws(CoreError) {
            if hasInput {
                (childInput, input) = try Self.pipe()
            } else {
                childInput = open("/dev/null", O_RDONLY | O_CLOEXEC)
                guard childInput >= 0 else { throw CoreError.io(path: "/dev/null", operation: "open", errno: errno) }
            }
            (output, childOutput) = try Self.pipe()
            (error, childError) = try Self.pipe()
        } catch {
            closeAll()
            throw error
        }
        for descriptor in [input, output, error] where descriptor >= 0 {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
    }

    /// A new pipe's reading and writing ends.
    private static func pipe() throws(CoreError) -> (Int32, Int32) {
        var ends: [Int32] = [-1, -1]
        guard pipe2(&ends, O_CLOEXEC) == 0 else { throw .io(path: "a pipe to a child process", operation: "create", errno: errno) }
        return (ends[0], ends[1])
    }

    mutating func closeChildEnds() {
        for descriptor in [childInput, childOutput, childError] where descriptor >= 0 { close(descriptor) }
        (childInput, childOutput, childError) = (-1, -1, -1)
    }

    mutating func closeAll() {
        closeChildEnds()
        for descriptor in [input, output, error] where descriptor >= 0 { close(descriptor) }
        (input, output, error) = (-1, -1, -1)
    }
}

/// Writes the input and reads both outputs, whichever is ready, until both outputs end or the deadline passes.
private struct Exchange {
    var pipes: Pipes
    let input: [UInt8]
    var written = 0
    var output: [UInt8] = []
    var error: [UInt8] = []
    var failure: (operation: String, code: Int32)?
    private var buffer = [UInt8](repeating: 0, count: 65536)

    init(pipes: Pipes, input: [UInt8]) {
        self.pipes = pipes
        self.input = input
    }

    /// - Returns: false when the deadline passed, or reading failed, before both outputs ended.
    mutating func run(deadline: ContinuousClock.Instant?) -> Bool {
        if pipes.input >= 0 && input.isEmpty { closeInput() }
        // A child that exits without reading all its input makes the next write fail with EPIPE, and raise
        // SIGPIPE, which would end this process: block it on this thread, and take back the one it raised.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        defer {
            var pending = sigset_t()
            if sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1 && sigismember(&previous, SIGPIPE) == 0 {
                var now = timespec()
                _ = sigtimedwait(&pipeSignal, nil, &now)
            }
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }

        while pipes.output >= 0 || pipes.error >= 0 {
            var watched: [pollfd] = []
            if pipes.input >= 0 { watched.append(pollfd(fd: pipes.input, events: Int16(POLLOUT), revents: 0)) }
            if pipes.output >= 0 { watched.append(pollfd(fd: pipes.output, events: Int16(POLLIN), revents: 0)) }
            if pipes.error >= 0 { watched.append(pollfd(fd: pipes.error, events: Int16(POLLIN), revents: 0)) }
            var wait: Int32 = -1
            if let deadline {
                let left = ContinuousClock.now.duration(to: deadline)
                if left <= .zero { return false }
                let (seconds, attoseconds) = left.components
                wait = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            }
            let ready = poll(&watched, nfds_t(watched.count), wait)
            if ready < 0 {
                if errno == EINTR { continue }
                failure = ("wait for the output of", errno)
                return false
            }
            for entry in watched where entry.revents != 0 {
                if entry.fd == pipes.input {
                    writeInput()
                } else if !read(entry.fd) {
                    return false
                }
            }
        }
        if pipes.input >= 0 { closeInput() }
        return true
    }

    private mutating func writeInput() {
        let count = input[written...].withUnsafeBytes { Glibc.write(pipes.input, $0.baseAddress, $0.count) }
        if count > 0 {
            written += count
            if written == input.count { closeInput() }
        } else if count < 0 && errno != EAGAIN && errno != EINTR {
            // EPIPE: the program stopped reading; what it printed still counts.
            closeInput()
        }
    }

    private mutating func closeInput() {
        close(pipes.input)
        pipes.input = -1
    }

    /// Reads what is there on `descriptor`; closes it at its end. - Returns: false when reading failed.
    private mutating func read(_ descriptor: Int32) -> Bool {
        let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        if count > 0 {
            if descriptor == pipes.output {
                output.append(contentsOf: buffer[..<count])
            } else {
                error.append(contentsOf: buffer[..<count])
            }
        } else if count == 0 {
            close(descriptor)
            if descriptor == pipes.output { pipes.output = -1 } else { pipes.error = -1 }
        } else if errno != EAGAIN && errno != EINTR {
            failure = ("read the output of", errno)
            return false
        }
        return true
    }
}

/// Calls `body` with `strings` as a NULL-terminated array of C strings, which live until it returns.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return body(copies + [nil])
}

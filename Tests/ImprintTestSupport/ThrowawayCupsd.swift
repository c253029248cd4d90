import Foundation

/// The real CUPS scheduler, run for one test: `cupsd -f` on 127.0.0.1 at a free port, with its own ServerRoot,
/// spool, cache, state and log folders in a temporary folder, so it never sees or changes the host's printers.
public final class ThrowawayCupsd: @unchecked Sendable {
    /// What `lpstat -p -d` reports.
    public struct Queues: Equatable, Sendable {
        public var names: [String]
        public var defaultPrinter: String?

        public init(names: [String], defaultPrinter: String?) {
            self.names = names
            self.defaultPrinter = defaultPrinter
        }
    }

    public let folder: TemporaryDirectory
    /// `127.0.0.1:PORT`, for lpstat's and lpadmin's `-h`.
    public private(set) var server = ""
    private var pid: Int32?

    public var serverRoot: String { folder.file("etc") }

    /// Prepares a ServerRoot holding a copy of `etcCups`'s printers.conf and ppd/ (a root's /etc/cups), or an
    /// empty one; nothing runs until `start()`.
    public init(copying etcCups: String? = nil) throws {
        folder = try TemporaryDirectory("imprint-cupsd")
        let manager = FileManager.default
        for name in ["etc/ppd", "spool/tmp", "cache", "state", "log", "data/banners", "data/mime"] {
            try manager.createDirectory(atPath: folder.file(name), withIntermediateDirectories: true)
        }
        // cupsd reads its MIME types and conversions from DataDir: here CUPS's types only, not the conversions,
        // which name filters (rastertopwg, gstoraster...) of packages a minimal install lacks and no test prints
        // with; and an empty banners folder.
        for entry in ["mime.types"] {
            try manager.createSymbolicLink(atPath: folder.file("data/mime/\(entry)"), withDestinationPath: "/usr/share/cups/mime/\(entry)")
        }
        if let etcCups {
            for name in ["printers.conf", "classes.conf"] where manager.fileExists(atPath: etcCups + "/" + name) {
                try copy(etcCups + "/" + name, to: folder.file("etc/\(name)"))
            }
            for ppd in (try? manager.contentsOfDirectory(atPath: etcCups + "/ppd")) ?? [] {
                try copy(etcCups + "/ppd/" + ppd, to: folder.file("etc/ppd/\(ppd)"))
            }
        }
        try folder.write("etc/cups-files.conf", """
            ServerRoot \(folder.file("etc"))
            DataDir \(folder.file("data"))
            RequestRoot \(folder.file("spool"))
            TempDir \(folder.file("spool/tmp"))
            CacheDir \(folder.file("cache"))
            StateDir \(folder.file("state"))
            AccessLog \(folder.file("log/access_log"))
            ErrorLog \(folder.file("log/error_log"))
            PageLog \(folder.file("log/page_log"))

            """)
    }

    /// `cupsd -t`'s error output for this ServerRoot (cupsd exits 0 even on errors, so the text is the verdict).
    public func check() throws -> String {
        try writeConf(port: 9)
        return try runProcess("/usr/sbin/cupsd", ["-t", "-c", folder.file("etc/cupsd.conf"), "-s", folder.file("etc/cups-files.conf")]).error
    }

    /// Starts `cupsd -f` on a free loopback port and waits until it answers.
    public func start() throws {
        for _ in 0..<8 {
            let port = Int.random(in: 20_000..<60_000)
            try writeConf(port: port)
            pid = try spawn()
            server = "127.0.0.1:\(port)"
            for _ in 0..<200 where isRunning {
                if try lpstat(["-r"]).output.contains("scheduler is running") { return }
                usleep(50_000)
            }
            stop()
        }
        throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "cupsd did not start: \(log())"])
    }

    private func spawn() throws -> pid_t {
        try spawnDaemon([
            "/usr/sbin/cupsd", "-f", "-c", folder.file("etc/cupsd.conf"), "-s", folder.file("etc/cups-files.conf"),
        ])
    }

    /// Whether the cupsd this value started still runs (an exited one is reaped here).
    private var isRunning: Bool { isRunningChild(pid) }

    /// Stops the cupsd this value started (by its pid) and waits until it is gone.
    public func stop() {
        guard let pid else { return }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<200 where waitpid(pid, &status, WNOHANG) == 0 { usleep(20_000) }
        if waitpid(pid, &status, WNOHANG) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        self.pid = nil
    }

    deinit { stop() }

    /// The queues and default printer as `lpstat -h SERVER -p -d` lists them.
    public func queues() throws -> Queues {
        let listed = try lpstat(["-p", "-d"]).output
        var names: [String] = []
        var defaultPrinter: String?
        for line in listed.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.first == "printer", words.count > 1 { names.append(String(words[1])) }
            if line.hasPrefix("system default destination: ") {
                defaultPrinter = String(line.dropFirst("system default destination: ".count))
            }
        }
        return Queues(names: names.sorted(), defaultPrinter: defaultPrinter)
    }

    /// Runs lpstat against this cupsd, with a HOME of its own so no user's lpoptions count.
    public func lpstat(_ arguments: [String]) throws -> ProcessResult {
        try runProcess("/usr/bin/lpstat", ["-h", server] + arguments, environment: environment)
    }

    /// The environment for CUPS clients talking to this cupsd.
    public var environment: [String: String] {
        ["HOME": folder.path, "CUPS_SERVER": server, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
    }

    /// cupsd's error log, for messages when a check fails.
    public func log() -> String {
        (try? String(contentsOfFile: folder.file("log/error_log"), encoding: .utf8)) ?? ""
    }

    private func writeConf(port: Int) throws {
        try folder.write("etc/cupsd.conf", """
            Listen 127.0.0.1:\(port)
            LogLevel warn
            Browsing Off
            DefaultAuthType None
            WebInterface No
            <Location />
              Order allow,deny
              Allow all
            </Location>
            <Policy default>
              JobPrivateAccess default
              JobPrivateValues default
              SubscriptionPrivateAccess default
              SubscriptionPrivateValues default
              <Limit All>
                Order deny,allow
              </Limit>
            </Policy>

            """)
    }

    private func copy(_ source: String, to target: String) throws {
        let result = try runProcess("/bin/cp", ["-p", source, target])
        if result.status != 0 { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: result.error]) }
    }
}

/// Starts a daemon for a test as this process's own child, not through Foundation's Process: its monitor blocks on a
/// child that runs on, and the test process's blocked signals (SIGTERM among them) would pass on to the daemon. A
/// shell first closes every descriptor above 2, or the daemon would keep the pipes of programs other tests run
/// meanwhile. Output goes to /dev/null; the caller stops it by its pid.
public func spawnDaemon(_ command: [String]) throws -> pid_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let arguments = [
        "/bin/bash", "-c", #"for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; exec "$@""#,
        (command[0] as NSString).lastPathComponent,
    ] + command
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var child: pid_t = 0
    let status = posix_spawn(&child, "/bin/bash", &actions, &attributes, &argv, environ)
    guard status == 0 else {
        throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "cannot start \(command[0]): errno \(status)"])
    }
    return child
}

/// Whether the child `pid` (started by this process) still runs; an exited one is reaped here.
public func isRunningChild(_ pid: pid_t?) -> Bool {
    guard let pid else { return false }
    var status: Int32 = 0
    return waitpid(pid, &status, WNOHANG) == 0
}

import Foundation
import Glibc
import ImprintCore

/// The real CUPS scheduler, run for one check: `cupsd -f` on 127.0.0.1 at a free port, with its own ServerRoot,
/// spool, cache, state and log folders in a temporary folder, so it never sees or changes the host's printers.
/// Preflight loads a unit's printers.conf with it; the tests use it to check what the printers step wrote.
public final class ScratchCupsd: @unchecked Sendable {
    /// What `lpstat -p -d` reports.
    public struct Queues: Equatable, Sendable {
        public var names: [String]
        public var defaultPrinter: String?

        public init(names: [String], defaultPrinter: String?) {
            self.names = names
            self.defaultPrinter = defaultPrinter
        }

        /// The queues (sorted) and default printer in what `lpstat -p -d` printed.
        public init(lpstat listed: String) {
            var names: [String] = []
            var defaultPrinter: String?
            for line in listed.split(separator: "\n") {
                let words = line.split(separator: " ")
                if words.first == "printer", words.count > 1 { names.append(String(words[1])) }
                if line.hasPrefix("system default destination: ") {
                    defaultPrinter = String(line.dropFirst("system default destination: ".count))
                }
            }
            self.init(names: names.sorted(), defaultPrinter: defaultPrinter)
        }
    }

    /// The temporary folder holding the ServerRoot and everything cupsd writes; removed when the value is released.
    public let folder: String
    /// `127.0.0.1:PORT`, for lpstat's and lpadmin's `-h`.
    public private(set) var server = ""
    private var pid: Int32?

    public var serverRoot: String { file("etc") }

    /// Prepares a ServerRoot holding a copy of `etcCups`'s printers.conf and ppd/ (a root's /etc/cups), or an
    /// empty one; nothing runs until `start()`.
    public init(copying etcCups: String? = nil) throws {
        folder = try makeTemporaryFolder("imprint-cupsd")
        let manager = FileManager.default
        for name in ["etc/ppd", "spool/tmp", "cache", "state", "log", "data/banners", "data/mime"] {
            try manager.createDirectory(atPath: file(name), withIntermediateDirectories: true)
        }
        // cupsd reads its MIME types and conversions from DataDir: here CUPS's types only, not the conversions,
        // which name filters (rastertopwg, gstoraster...) of packages a minimal install lacks and no check prints
        // with; and an empty banners folder.
        for entry in ["mime.types"] {
            try manager.createSymbolicLink(atPath: file("data/mime/\(entry)"), withDestinationPath: "/usr/share/cups/mime/\(entry)")
        }
        if let etcCups {
            for name in ["printers.conf", "classes.conf"] where manager.fileExists(atPath: etcCups + "/" + name) {
                try copy(etcCups + "/" + name, to: file("etc/\(name)"))
            }
            for ppd in (try? manager.contentsOfDirectory(atPath: etcCups + "/ppd")) ?? [] {
                try copy(etcCups + "/ppd/" + ppd, to: file("etc/ppd/\(ppd)"))
            }
        }
        try write("etc/cups-files.conf", """
            ServerRoot \(file("etc"))
            DataDir \(file("data"))
            RequestRoot \(file("spool"))
            TempDir \(file("spool/tmp"))
            CacheDir \(file("cache"))
            StateDir \(file("state"))
            AccessLog \(file("log/access_log"))
            ErrorLog \(file("log/error_log"))
            PageLog \(file("log/page_log"))

            """)
    }

    /// `name` inside this cupsd's folder.
    public func file(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }

    /// Writes `text` to `name` inside this cupsd's folder (its ServerRoot is `etc/`).
    public func write(_ name: String, _ text: String) throws {
        try write(name, Data(text.utf8))
    }

    /// Writes `data` to `name` inside this cupsd's folder, making its folders.
    public func write(_ name: String, _ data: Data) throws {
        let target = file(name)
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: target))
    }

    /// `cupsd -t`'s error output for this ServerRoot (cupsd exits 0 even on errors, so the text is the verdict).
    public func check() throws -> String {
        try writeConf(port: 9)
        return try ChildProcess(
            "/usr/sbin/cupsd", ["-t", "-c", file("etc/cupsd.conf"), "-s", file("etc/cups-files.conf")]
        ).run().errorText
    }

    /// Starts `cupsd -f` on a free loopback port and waits until it answers.
    public func start() throws {
        for _ in 0..<8 {
            let port = Int.random(in: 20_000..<60_000)
            try writeConf(port: port)
            pid = try spawnDaemon([
                "/usr/sbin/cupsd", "-f", "-c", file("etc/cupsd.conf"), "-s", file("etc/cups-files.conf"),
            ])
            server = "127.0.0.1:\(port)"
            for _ in 0..<200 where isRunning {
                if try lpstat(["-r"]).outputText.contains("scheduler is running") { return }
                usleep(50_000)
            }
            stop()
        }
        throw CoreError.io(path: "/usr/sbin/cupsd", operation: "start cupsd (\(log()))", errno: ECHILD)
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

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The queues and default printer as `lpstat -h SERVER -p -d` lists them.
    public func queues() throws -> Queues {
        Queues(lpstat: try lpstat(["-p", "-d"]).outputText)
    }

    /// Runs lpstat against this cupsd, with a HOME of its own so no user's lpoptions count.
    public func lpstat(_ arguments: [String]) throws -> ChildProcess.Result {
        try ChildProcess("/usr/bin/lpstat", ["-h", server] + arguments, environment: environment).run()
    }

    /// The environment for CUPS clients talking to this cupsd.
    public var environment: [String: String] {
        ["HOME": folder, "CUPS_SERVER": server, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
    }

    /// cupsd's error log, for messages when a check fails.
    public func log() -> String {
        (try? String(contentsOfFile: file("log/error_log"), encoding: .utf8)) ?? ""
    }

    private func writeConf(port: Int) throws {
        try write("etc/cupsd.conf", """
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
        let result = try ChildProcess("/bin/cp", ["-p", source, target]).run()
        if result.status != 0 { throw CoreError.io(path: target, operation: "copy \(source) to (\(result.errorText))", errno: EIO) }
    }
}

/// A new folder under the system's temporary folder, for the caller to remove.
func makeTemporaryFolder(_ label: String) throws -> String {
    let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
    return base.path
}

/// Starts a daemon as this process's own child, not through Foundation's Process: its monitor blocks on a child
/// that runs on, and the calling process's blocked signals (SIGTERM among them) would pass on to the daemon. A shell
/// first closes every descriptor above 2, or the daemon would keep the pipes of programs run meanwhile. Output goes
/// to /dev/null; the caller stops it by its pid.
public func spawnDaemon(_ command: [String]) throws -> pid_t {
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
    let status = withCleanSignals { attributes in posix_spawn(&child, "/bin/bash", &actions, &attributes, &argv, environ) }
    guard status == 0 else {
        throw CoreError.io(path: command[0], operation: "start", errno: status)
    }
    return child
}

/// Whether the child `pid` (started by this process) still runs; an exited one is reaped here.
public func isRunningChild(_ pid: pid_t?) -> Bool {
    guard let pid else { return false }
    var status: Int32 = 0
    return waitpid(pid, &status, WNOHANG) == 0
}

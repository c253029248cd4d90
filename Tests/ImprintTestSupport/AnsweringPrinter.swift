import Foundation

/// A network printer that answers, for the tests of driverless (IPP Everywhere) queues: CUPS's own `ippeveprinter`
/// on a free loopback port. It needs the Avahi daemon, which needs a system bus, so all three run in private mount
/// and PID namespaces (`unshare`) with their own /run: nothing reaches the host's /run, Avahi publishes nothing and
/// listens on loopback only, and killing the namespace's first process ends every one of them.
public final class AnsweringPrinter: @unchecked Sendable {
    public let folder: TemporaryDirectory
    /// `ipp://127.0.0.1:PORT/ipp/print`
    public private(set) var uri = ""
    private var pid: pid_t?

    /// Starts the printer and waits until it answers.
    public init() throws {
        folder = try TemporaryDirectory("imprint-ippeveprinter")
        try folder.write("avahi-daemon.conf", """
            [server]
            allow-interfaces=lo
            use-ipv6=no
            [publish]
            disable-publishing=yes

            """)
        try FileManager.default.createDirectory(atPath: folder.file("spool"), withIntermediateDirectories: true)
        for _ in 0..<5 {
            let port = Int.random(in: 20_000..<60_000)
            let script = """
                set -e
                mount -t tmpfs tmpfs /run
                mkdir -p /run/dbus /run/avahi-daemon
                dbus-daemon --system --nofork --nopidfile &
                for i in $(seq 100); do [ -S /run/dbus/system_bus_socket ] && break; sleep 0.05; done
                avahi-daemon -f '\(folder.file("avahi-daemon.conf"))' --no-drop-root --no-chroot --no-rlimits &
                for i in $(seq 100); do [ -e /run/avahi-daemon/pid ] && break; sleep 0.05; done
                exec ippeveprinter -p \(port) -d '\(folder.file("spool"))' -M Imprint -m 'Test Printer' \
                    -f application/pdf,image/pwg-raster,image/jpeg 'Imprint test printer'
                """
            pid = try spawnDaemon([
                "/usr/bin/unshare", "--mount", "--pid", "--fork", "--kill-child", "--propagation", "private",
                "/bin/bash", "-c", script,
            ])
            uri = "ipp://127.0.0.1:\(port)/ipp/print"
            for _ in 0..<100 where isRunning {
                let probe = try runProcess("/usr/bin/ipptool", ["-q", "-T", "2", uri, "get-printer-attributes.test"])
                if probe.status == 0 { return }
                usleep(100_000)
            }
            stop()
        }
        throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "ippeveprinter did not start (needs ippeveprinter, avahi-daemon, dbus-daemon)"])
    }

    private var isRunning: Bool { isRunningChild(pid) }

    /// Ends the namespace: unshare's child dies with it (`--kill-child`), and with that first process every other.
    public func stop() {
        guard let pid else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        self.pid = nil
    }

    deinit { stop() }
}

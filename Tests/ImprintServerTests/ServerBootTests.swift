import Foundation
import ImprintTestSupport
import ImprintWire
import Testing

/// A unit installed with `--server`, booted for real in qemu: its first-boot agent's report reaches the server
/// after the network is up, and one made while the server was down arrives at the next boot.
@Suite(.serialized) struct ServerBootTests {
    static let demoSetup: [[String]] = ["printers", "groups", "units"].map { ["inventory", "import", fixturePath("demo/\($0).csv")] }

    /// The one-time password a pre-created directory account (`adcli preset-computer --one-time-password`) would
    /// take.
    static let oneTimePassword = "OTP-7f3a9c21"

    /// The unit's one-time password and the room's first-boot hook, as a `realm join --one-time-password` would take
    /// its credential: it prints the value it got (the identity line must mask it) and notes on the unit whether it
    /// was the right one, compared in ROT13 so that the hook's own command line does not hold the password.
    static let enrolmentSetup: [[String]] = [
        ["inventory", "field", "add", "join_otp", "--secret"],
        ["inventory", "set", "RM204-07", "--field", "join_otp=\(oneTimePassword)"],
        ["inventory", "hook", "add", "enrol", "--group", "RM204", "--first-boot", "--timeout", "60", "--command",
         #"echo "joining with $IMPRINT_FIELD_JOIN_OTP"; [ "$(echo "$IMPRINT_FIELD_JOIN_OTP" | tr A-Za-z N-ZA-Mn-za-m)" = "\#(rot13(oneTimePassword))" ] && echo "$IMPRINT_HOSTNAME joined" >> /var/lib/hook-runs"#],
    ]

    static func rot13(_ text: String) -> String {
        String(text.unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "A"..."Z": return Character(UnicodeScalar((scalar.value - 65 + 13) % 26 + 65)!)
            case "a"..."z": return Character(UnicodeScalar((scalar.value - 97 + 13) % 26 + 97)!)
            default: return Character(scalar)
            }
        })
    }

    /// Reports to the serial console once the report service has run, then powers off.
    static let checkService = serialCheckService(
        "Boot check for the test: report and power off", after: "imprint-agent.service imprint-report.service imprint-hooks.service multi-user.target", script: """
        echo "CHECK hostname=$(hostname)"; echo "CHECK agent=$(systemctl is-active imprint-agent.service)"; \
        echo "CHECK hooks=$(systemctl is-active imprint-hooks.service)"; echo "CHECK hook-runs=$(cat /var/lib/hook-runs 2>/dev/null | wc -l)"; \
        echo "CHECK report-status=$(systemctl show -p ExecMainStatus --value imprint-report.service)"; \
        echo "CHECK queued=$(ls /var/lib/imprint/reports | grep -c json)"; echo "CHECK done"
        """)

    /// Boot 1 with the server stopped: the agent personalizes from the unit's copy and the report waits (the report
    /// service exits 69, the queue holds it); the first-boot hook does not run, since only the server hands out its
    /// credential, which the unit's copy of the inventory does not hold. Boot 2 with the server up and a window open:
    /// the unit gets its token and every run, the first boot's applied before the second's unchanged, reaches the
    /// unit's history in order; the hook runs once with the server's one-time password, masked in what the server
    /// keeps of its output, and the password is nowhere on the unit's disk.
    @Test func firstBootReportsReachTheServer() throws {
        let folder = try TemporaryDirectory()
        let server = try RunningServer(setup: Self.demoSetup + Self.enrolmentSetup)
        let inventory = folder.file("unit-inventory.db")
        for command in [["inventory", "init"]] + Self.demoSetup + Self.enrolmentSetup {
            let made = try runProcess(RunningServer.imprint, command + ["--inventory", inventory])
            try #require(made.status == 0, "\(made.error)")
        }
        let root = try folder.copyDebianRoot()
        // The guest reaches the host's loopback at the slirp network's host address, the unit's own gateway.
        let install = try runProcess(try staticImprintBinary(), [
            "install", "--root", root, "--inventory", inventory, "--unit", "RM204-07", "--server", "http://10.20.4.1:\(server.port)",
        ])
        try #require(install.status == 0, "\(install.error)")
        try addBootCheck(Self.checkService, toRoot: root)
        let disk = folder.file("disk.img")
        let mkfs = try runProcess("/sbin/mkfs.ext4", ["-q", "-F", "-d", root, disk, "3G"])
        try #require(mkfs.status == 0, "\(mkfs.error)")
        // The guest reaches the host's loopback at the user-mode network's host address, set to the unit's gateway.
        func bootOnce(_ name: String) throws -> String {
            let booted = try bootDirectKernel(
                root: root, disk: disk, console: folder.file("\(name).log"),
                network: "user,model=virtio-net-pci,mac=3c:52:82:20:04:07,net=10.20.4.0/24,host=10.20.4.1,dhcpstart=10.20.4.200")
            #expect(booted.status == 0, "qemu: \(booted.error)")
            return booted.console
        }

        server.stop()
        let first = try bootOnce("first-boot")
        #expect(first.contains("CHECK hostname=RM204-07"), "\(first.suffix(3000))")
        #expect(first.contains("CHECK agent=active"))
        #expect(first.contains("CHECK report-status=69"), "\(first.suffix(3000))")
        // The agent's run and the printers service's (the demo's printers never answer, so it applies at each boot).
        #expect(first.contains("CHECK queued=2"))
        #expect(first.contains("CHECK done"))
        #expect(first.contains("CHECK hooks=failed"), "no server, no hook: \(first.suffix(3000))")
        #expect(first.contains("CHECK hook-runs=0"))

        try server.start()
        try openWindow(server, group: "RM204", actions: ["personalize"])
        let second = try bootOnce("second-boot")
        // Revision 3: the demo's, then the one-time password, then the room's hook.
        #expect(second.contains("RM204-07 (revision 3): nothing to do, this revision was applied"), "\(second.suffix(3000))")
        #expect(second.contains("CHECK report-status=0"), "\(second.suffix(3000))")
        #expect(second.contains("CHECK queued=0"))
        #expect(second.contains("the server gave RM204-07 its token"), "\(second.suffix(3000))")
        #expect(second.contains("sent 4 reports of RM204-07"), "\(second.suffix(3000))")
        #expect(second.contains("CHECK hooks=active"), "\(second.suffix(3000))")
        #expect(second.contains("CHECK hook-runs=1"), "the failed hooks run of boot 1 ran again, once, with the server's credential")
        #expect(second.contains("hooks       enrol exited 0"))
        #expect(!second.contains(Self.oneTimePassword), "the credential is printed nowhere")

        let history = try runProcess(RunningServer.imprint, ["inventory", "history", "RM204-07", "--json", "--inventory", server.inventory])
        let applied = try #require(history.output.range(of: "\"applied\""), "\(history.output)")
        let unchanged = try #require(history.output.range(of: "\"unchanged\""), "\(history.output)")
        #expect(applied.lowerBound < unchanged.lowerBound)
        #expect(history.output.contains("server 127.0.0.1"))
        #expect(history.output.contains("joining with ********"), "\(history.output)")
        #expect(!history.output.contains(Self.oneTimePassword))
        // Not in the unit's copy of the inventory, nor anywhere else on its disk after both boots.
        let onDisk = try runProcess("/bin/grep", ["-a", "-q", "-F", Self.oneTimePassword, disk])
        #expect(onDisk.status == 1, "the one-time password is on the unit's disk")
        let fleet = try JSONDecoder.server.decode([FleetRow].self, from: try server.admin("GET", ServerAPI.fleetPath + "?group=RM204").body)
        #expect(fleet.first { $0.unit == "RM204-07" }?.state == .personalized)
    }
}

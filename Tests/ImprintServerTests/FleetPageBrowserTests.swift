import Foundation
import Glibc
import ImprintCore
import ImprintTestSupport
import ImprintWire
import Testing

/// The fleet page driven for real: Debian's headless Chromium, loopback only, steered over the DevTools protocol by
/// Tests/Browser/fleet_page.py (Debian's python3-websocket), while this test plays the units.
@Suite(.serialized) struct FleetPageBrowserTests {
    static let chromium = "/usr/bin/chromium"
    static let python = "/usr/bin/python3"
    static let driver = packageRoot.appendingPathComponent("Tests/Browser/fleet_page.py").path

    static let room: [[String]] = [
        ["inventory", "group", "add", "lab", "--naming-pattern", "LAB-{##}"],
        ["inventory", "add", "LAB-01", "--group", "lab", "--model", "OptiPlex 7090", "--serial", "5CG1001", "--mac", "52:54:00:00:00:01"],
        ["inventory", "add", "LAB-02", "--group", "lab", "--model", "OptiPlex 7090", "--serial", "5CG1002", "--mac", "52:54:00:00:00:02"],
        ["inventory", "add", "LAB-03", "--group", "lab", "--model", "OptiPlex <7090>", "--serial", "5CG1003", "--mac", "52:54:00:00:00:03"],
        ["inventory", "add", "LAB-04", "--group", "lab", "--model", "ThinkCentre M70q", "--serial", "MJ0X1004", "--mac", "52:54:00:00:00:04"],
    ]

    /// A browser logs in, opens a window, and watches a unit go from armed to personalized as its signed report
    /// arrives, by the page's own refresh; the DOM shows states as words and a failed unit's HTML error as text.
    @Test func aUnitGoesFromArmedToPersonalizedOnThePage() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.chromium), "Debian's chromium is needed: .ci/setup test")
        let server = try RunningServer(setup: Self.room)
        let folder = try TemporaryDirectory("imprint-fleet-page")
        let browser = try HeadlessChromium(profile: folder.file("profile"))
        defer { browser.stop() }

        let loggedIn = try drive(browser, "login", server.url, server.adminTokenFile)
        #expect((loggedIn["url"] as? String)?.hasSuffix("/fleet") == true)

        let opened = try drive(browser, "open-window", server.url, "lab", "personalize", "45")
        #expect((opened["notice"] as? String)?.hasPrefix("Window open for room lab until") == true)
        #expect(opened["refreshes"] as? Bool == true)
        #expect(opened["scripts"] as? Int == 0)
        #expect(state(of: "LAB-01", in: opened) == "idle")

        // LAB-01 identifies inside the window and gets its token; the page, refreshing itself, shows it armed.
        let first = try identify(server, serial: "5CG1001")
        let armed = try drive(browser, "wait-state", "LAB-01", "armed", "60")
        #expect(row("LAB-01", in: armed)?["stateText"] as? String == "armed")

        // LAB-03 fails with an error holding markup; LAB-02 is part-way through a restore.
        let third = try identify(server, serial: "5CG1003")
        try report(server, unit: "LAB-03", token: third, UnitReport(
            event: .failed, message: "<b>/dev/sda</b>: no space left on device", time: Date()))
        let second = try identify(server, serial: "5CG1002")
        try report(server, unit: "LAB-02", token: second, UnitReport(event: .restoring, percent: 42, time: Date()))

        try report(server, unit: "LAB-01", token: first, UnitReport(event: .applied, identity: identity("LAB-01"), time: Date()))
        let done = try drive(browser, "wait-state", "LAB-01", "personalized", "60")
        #expect(row("LAB-01", in: done)?["stateText"] as? String == "✓ personalized")
        #expect((row("LAB-01", in: done)?["lastReport"] as? String)?.contains("applied") == true)
        #expect(row("LAB-02", in: done)?["stateText"] as? String == "restoring 42 %")
        let failed = try #require(row("LAB-03", in: done))
        #expect(failed["stateText"] as? String == "✗ failed")
        #expect(failed["error"] as? String == "<b>/dev/sda</b>: no space left on device")
        #expect(failed["errorElements"] as? Int == 0)
        #expect(failed["model"] as? String == "OptiPlex <7090>")
        #expect(row("LAB-04", in: done)?["buttons"] as? [String] == ["Protect"])

        let desktop = folder.file("fleet-page.png")
        let phone = folder.file("fleet-page-phone.png")
        _ = try drive(browser, "screenshot", desktop, "1366")
        _ = try drive(browser, "screenshot", phone, "390", "mobile")
        let png = try Data(contentsOf: URL(fileURLWithPath: desktop))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        // For a person to look at after the run; the test's own copies stay in its temporary folder.
        try? FileManager.default.removeItem(atPath: "/tmp/fleet-page.png")
        try? FileManager.default.removeItem(atPath: "/tmp/fleet-page-phone.png")
        try? FileManager.default.copyItem(atPath: desktop, toPath: "/tmp/fleet-page.png")
        try? FileManager.default.copyItem(atPath: phone, toPath: "/tmp/fleet-page-phone.png")

        let log = try JSONDecoder.server.decode([AuditEntry].self, from: try server.admin("GET", ServerAPI.auditPath).body)
        #expect(log.contains { $0.event == "window opened" && $0.actor == "page session from 127.0.0.1" })
    }

    // MARK: - Helpers

    /// Runs one step of the driver; returns what the page shows afterwards.
    func drive(_ browser: HeadlessChromium, _ arguments: String...) throws -> [String: Any] {
        let result = try runProcess(Self.python, [Self.driver, "--devtools", "\(browser.port)"] + arguments, timeout: .seconds(120))
        guard result.status == 0 else {
            throw TestSupportError("fleet_page.py \(arguments.first ?? "") failed: \(result.error) \(result.output)")
        }
        let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8))
        return try #require(object as? [String: Any])
    }

    func row(_ unit: String, in page: [String: Any]) -> [String: Any]? {
        (page["rows"] as? [[String: Any]])?.first { $0["unit"] as? String == unit }
    }

    func state(of unit: String, in page: [String: Any]) -> String? { row(unit, in: page)?["state"] as? String }

    /// The unit asks what to do; returns the token the window armed it with.
    func identify(_ server: RunningServer, serial: String) throws -> String {
        let answer = try httpRequest(
            "POST", server.url + ServerAPI.identifyPath, body: Data(HardwareFactsJSON(serial: serial).utf8))
        try #require(answer.status == 200, "identify refused: \(answer.status) \(answer.text)")
        let decoded = try JSONDecoder.server.decode(IdentifyAnswer.self, from: answer.body)
        return try #require(decoded.token, "no token: \(decoded.reason ?? "")")
    }

    /// Posts a report signed with the unit's token over a fresh nonce.
    func report(_ server: RunningServer, unit: String, token: String, _ report: UnitReport) throws {
        let nonceAnswer = try httpRequest("POST", server.url + ServerAPI.noncePath)
        let nonce = try JSONDecoder.server.decode(NonceAnswer.self, from: nonceAnswer.body).nonce
        let path = ServerAPI.reportPath(unit: unit)
        let body = try JSONEncoder.server.encode(report)
        let signature = RequestSignature.sign(token: token, unit: unit, method: "POST", path: path, nonce: nonce, body: body)
        let answer = try httpRequest(
            "POST", server.url + path,
            headers: [
                RequestSignature.unitHeader: signature.unit, RequestSignature.nonceHeader: signature.nonce,
                RequestSignature.signatureHeader: signature.signature,
            ],
            body: body)
        try #require(answer.status == 204, "report refused: \(answer.status) \(answer.text)")
    }

    func identity(_ unit: String) -> IdentityRecord {
        IdentityRecord(
            unit: unit, fqdn: unit.lowercased() + ".lab.example", revision: 1, matched: ["serial"], steps: ["hostname", "machine-id"],
            machineID: nil, hostKeys: [], addresses: [], image: "bookworm-lab-2026.img", enrolledInto: nil, inventoryCopy: nil,
            agentVersion: "test", run: "run-1", time: Date(), result: "applied")
    }
}

/// Debian's Chromium, headless, its DevTools on a free loopback port and its profile in the test's folder.
final class HeadlessChromium {
    let port: Int
    private var pid: pid_t?

    init(profile: String) throws {
        port = try freeLoopbackPort()
        pid = try spawnDaemon([
            FleetPageBrowserTests.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-extensions", "--disable-background-networking", "--disable-sync", "--hide-scrollbars",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=\(port)", "--user-data-dir=\(profile)",
            "--window-size=1366,900", "about:blank",
        ])
    }

    func stop() {
        guard let pid else { return }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<100 {
            if waitpid(pid, &status, WNOHANG) != 0 { self.pid = nil; return }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        self.pid = nil
    }

    deinit { stop() }
}

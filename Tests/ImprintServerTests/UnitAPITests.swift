import Foundation
import ImprintCore
import ImprintTestSupport
import ImprintWire
import Testing

@Suite(.serialized) struct UnitAPITests {
    /// A passphrase file for the Wi-Fi secret the record of LAB-SEAT1 holds.
    static let secrets: TemporaryDirectory = {
        let folder = try! TemporaryDirectory("imprint-secrets")
        _ = try! folder.write("wifi.pass", "correct horse battery\n")
        return folder
    }()

    static let lab: [[String]] = [
        ["inventory", "group", "add", "lab", "--naming-pattern", "LAB-{##}"],
        ["inventory", "group", "add", "office", "--naming-pattern", "OFF-{##}"],
        ["inventory", "add", "LAB-SEAT1", "--group", "lab", "--serial", "SEAT1SERIAL", "--mac", "52:54:00:00:00:01",
         "--wifi-ssid", "school", "--wifi-passphrase-file", secrets.file("wifi.pass")],
        ["inventory", "add", "LAB-SEAT2", "--group", "lab", "--serial", "SEAT2SERIAL", "--mac", "52:54:00:00:00:02"],
        ["inventory", "add", "OFF-01", "--group", "office", "--serial", "OFFICESERIAL"],
    ]

    /// Outside a window a known unit gets `nothing` and none of its record, secrets included.
    @Test func outsideAWindowAUnitGetsNothing() throws {
        let server = try RunningServer(setup: Self.lab)
        let (http, answer) = try identify(server, serial: "SEAT1SERIAL")
        #expect(http.status == 200)
        #expect(answer?.action == .nothing)
        #expect(answer?.profile == nil && answer?.token == nil && answer?.unit == nil)
        #expect(!http.text.contains("correct horse"))
        // A window for another group changes nothing for this one.
        try openWindow(server, group: "office", actions: ["personalize"])
        #expect(try identify(server, serial: "SEAT1SERIAL").1?.action == .nothing)
        #expect(try identify(server, serial: "OFFICESERIAL").1?.action == .personalize)
    }

    /// Inside a window a unit is armed once: the first ask gets the token and the record; a second, unsigned claim
    /// is a conflict in the audit log; the unit signing with its token hears its answer again without a new token.
    @Test func aUnitIsArmedOnce() throws {
        let server = try RunningServer(setup: Self.lab)
        try openWindow(server, group: "lab", actions: ["personalize"])
        let (first, armed) = try identify(server, serial: "SEAT1SERIAL", mac: "52:54:00:00:00:01")
        #expect(first.status == 200)
        let token = try #require(armed?.token)
        #expect(armed?.action == .personalize && armed?.unit == "LAB-SEAT1")
        #expect(armed?.profile?.interfaces.first?.wifi?.passphrase == "correct horse battery")

        let (_, claim) = try identify(server, serial: "SEAT1SERIAL")
        #expect(claim?.action == .nothing && claim?.token == nil && claim?.profile == nil)
        #expect(claim?.reason?.contains("unit LAB-SEAT1 is already armed in this window") == true, "\(String(describing: claim?.reason))")
        let audit = try server.admin("GET", ServerAPI.auditPath).text
        #expect(audit.contains("a second machine claimed this unit"))

        let body = Data(HardwareFactsJSON(serial: "SEAT1SERIAL").utf8)
        let (again, answer) = try identify(server, body: body, headers: try signed(server, token: token, unit: "LAB-SEAT1", path: ServerAPI.identifyPath, body: body))
        #expect(again.status == 200)
        #expect(answer?.action == .personalize && answer?.token == nil && answer?.profile?.hostname.value == "LAB-SEAT1")

        // Neither the unit's token, nor the admin's, nor the record's Wi-Fi passphrase is in the server's log.
        server.stop()
        let log = try String(contentsOfFile: server.log, encoding: .utf8)
        #expect(log.contains("listening on"))
        for secret in [token, server.adminToken, "correct horse battery"] { #expect(!log.contains(secret)) }
    }

    /// A unit that reports `failed` (signed with its token) is armed anew, with a new token, when it asks again in the
    /// same window; a progress report or an unsigned `failed` does not end its arming.
    @Test func aFailedUnitAsksAgain() throws {
        let server = try RunningServer(setup: Self.lab)
        try openWindow(server, group: "lab", actions: ["personalize"])
        let token = try #require(try identify(server, serial: "SEAT1SERIAL").1?.token)
        let path = ServerAPI.reportPath(unit: "LAB-SEAT1")
        let progress = Data(#"{"event":"restoring","percent":40,"time":"2026-12-01T10:00:00Z"}"#.utf8)
        #expect(try httpRequest("POST", server.url + path, headers: try signed(server, token: token, unit: "LAB-SEAT1", path: path, body: progress), body: progress).status == 204)
        #expect(try identify(server, serial: "SEAT1SERIAL").1?.action == .nothing)

        let failed = Data(#"{"event":"failed","message":"the disk is too small","time":"2026-12-01T10:01:00Z"}"#.utf8)
        #expect(try httpRequest("POST", server.url + path, body: failed).status == 401)
        #expect(try identify(server, serial: "SEAT1SERIAL").1?.action == .nothing)
        #expect(try httpRequest("POST", server.url + path, headers: try signed(server, token: token, unit: "LAB-SEAT1", path: path, body: failed), body: failed).status == 204)

        let (_, again) = try identify(server, serial: "SEAT1SERIAL")
        #expect(again?.action == .personalize && again?.unit == "LAB-SEAT1")
        let second = try #require(again?.token)
        #expect(second != token)
        #expect(try identify(server, serial: "SEAT1SERIAL").1?.action == .nothing)
        let audit = try JSONDecoder.server.decode([AuditEntry].self, from: try server.admin("GET", ServerAPI.auditPath).body)
        #expect(audit.filter { $0.event == "armed" && $0.unit == "LAB-SEAT1" }.count == 2)
    }

    /// Facts naming another unit's MAC (with a serial of their own) are a conflict: no token for either unit.
    @Test func factsNamingAnotherUnitGetNoToken() throws {
        let server = try RunningServer(setup: Self.lab)
        try openWindow(server, group: "lab", actions: ["restore", "personalize"])
        let (_, answer) = try identify(server, serial: "SEAT2SERIAL", mac: "52:54:00:00:00:01")
        #expect(answer?.action == .nothing && answer?.token == nil && answer?.profile == nil)
        #expect(answer?.reason?.contains("LAB-SEAT1") == true && answer?.reason?.contains("LAB-SEAT2") == true)
    }

    /// Reports: a good one lands in the unit's history; a wrong signature, a replayed nonce, a report on another unit,
    /// an unsigned one, an oversized or malformed body are refused with 4xx and nothing is written.
    @Test func reportsAreSignedByTheUnitItself() throws {
        let server = try RunningServer(setup: Self.lab)
        try openWindow(server, group: "lab", actions: ["personalize"])
        let token = try #require(try identify(server, serial: "SEAT1SERIAL").1?.token)
        let path = ServerAPI.reportPath(unit: "LAB-SEAT1")
        let report = Data(#"{"event":"failed","message":"printer step: lpadmin failed","time":"2026-12-01T10:00:00Z"}"#.utf8)

        let good = try signed(server, token: token, unit: "LAB-SEAT1", path: path, body: report)
        #expect(try httpRequest("POST", server.url + path, headers: good, body: report).status == 204)
        #expect(try httpRequest("POST", server.url + path, headers: good, body: report).status == 401)  // replayed nonce

        var wrong = try signed(server, token: token, unit: "LAB-SEAT1", path: path, body: report)
        wrong[RequestSignature.signatureHeader] = String(repeating: "0", count: 64)
        #expect(try httpRequest("POST", server.url + path, headers: wrong, body: report).status == 401)

        let otherPath = ServerAPI.reportPath(unit: "LAB-SEAT2")
        let asOther = try signed(server, token: token, unit: "LAB-SEAT1", path: otherPath, body: report)
        #expect(try httpRequest("POST", server.url + otherPath, headers: asOther, body: report).status == 403)
        let forged = try signed(server, token: token, unit: "LAB-SEAT2", path: otherPath, body: report)
        #expect(try httpRequest("POST", server.url + otherPath, headers: forged, body: report).status == 401)

        #expect(try httpRequest("POST", server.url + path, body: report).status == 401)
        let huge = Data(repeating: UInt8(ascii: " "), count: ServerAPI.maximumBodyBytes + 1)
        #expect(try httpRequest("POST", server.url + path, headers: try signed(server, token: token, unit: "LAB-SEAT1", path: path, body: huge), body: huge).status == 413)
        let malformed = Data(#"{"event":"exploded"}"#.utf8)
        #expect(try httpRequest("POST", server.url + path, headers: try signed(server, token: token, unit: "LAB-SEAT1", path: path, body: malformed), body: malformed).status == 400)

        let history = try runProcess(RunningServer.imprint, ["inventory", "history", "LAB-SEAT1", "--json", "--inventory", server.inventory])
        #expect(history.status == 0)
        #expect(history.output.components(separatedBy: "\"failed\"").count - 1 == 1)
        let seat2 = try runProcess(RunningServer.imprint, ["inventory", "history", "LAB-SEAT2", "--json", "--inventory", server.inventory])
        #expect(!seat2.output.contains("failed"))
        let fleet = try server.admin("GET", ServerAPI.fleetPath + "?group=lab")
        let rows = try JSONDecoder.server.decode([FleetRow].self, from: fleet.body)
        #expect(rows.first { $0.unit == "LAB-SEAT1" }?.state == .failed)
        #expect(rows.first { $0.unit == "LAB-SEAT1" }?.error == "printer step: lpadmin failed")
        #expect(rows.first { $0.unit == "LAB-SEAT2" }?.state == .idle)
    }

    /// Admin calls without the admin token, or with a wrong one, are refused and change nothing; bad window
    /// requests name the bad value.
    @Test func adminCallsNeedTheAdminToken() throws {
        let server = try RunningServer(setup: Self.lab)
        let window = Data(#"{"group":"lab","actions":["restore"],"minutes":30}"#.utf8)
        #expect(try httpRequest("POST", server.url + ServerAPI.windowsPath, body: window).status == 401)
        #expect(try httpRequest("POST", server.url + ServerAPI.windowsPath, headers: ["Authorization": "Bearer nope"], body: window).status == 401)
        #expect(try httpRequest("GET", server.url + ServerAPI.fleetPath).status == 401)
        #expect(try httpRequest("POST", server.url + ServerAPI.unitActionPath(unit: "LAB-SEAT1", action: .arm)).status == 401)
        #expect(try server.admin("GET", ServerAPI.windowsPath).text == "[]")

        let tooLong = try server.admin("POST", ServerAPI.windowsPath, json: #"{"group":"lab","actions":["restore"],"minutes":100000}"#)
        #expect(tooLong.status == 400 && tooLong.text.contains("100000"))
        let noGroup = try server.admin("POST", ServerAPI.windowsPath, json: #"{"group":"attic","actions":["restore"],"minutes":30}"#)
        #expect(noGroup.status == 404 && noGroup.text.contains("attic"))
        let enrolUncapped = try server.admin("POST", ServerAPI.windowsPath, json: #"{"group":"lab","actions":["enrol"],"minutes":30}"#)
        #expect(enrolUncapped.status == 400 && enrolUncapped.text.contains("maximumNewUnits"))
        let badJSON = try server.admin("POST", ServerAPI.windowsPath, json: #"{"group":"lab","#)
        #expect(badJSON.status == 400)
        #expect(try server.admin("GET", ServerAPI.windowsPath).text == "[]")
    }

    /// Repeated failed authentications from one address are cut off before the token is even checked.
    @Test func failedAuthenticationsAreRateLimited() throws {
        let server = try RunningServer(setup: Self.lab)
        var statuses: [Int] = []
        for _ in 0..<25 {
            statuses.append(try httpRequest("GET", server.url + ServerAPI.fleetPath, headers: ["Authorization": "Bearer guess"]).status)
        }
        #expect(statuses.prefix(20).allSatisfy { $0 == 401 })
        #expect(statuses.suffix(5).allSatisfy { $0 == 429 })
        #expect(try server.admin("GET", ServerAPI.fleetPath).status == 429)
    }

    /// A protected unit, or one whose disk holds another group's identity, gets `needs-confirmation` and no token
    /// until the admin approves it in the window.
    @Test func protectedUnitsNeedConfirmation() throws {
        let server = try RunningServer(setup: Self.lab)
        try openWindow(server, group: "lab", actions: ["restore"])
        #expect(try server.admin("POST", ServerAPI.unitActionPath(unit: "LAB-SEAT1", action: .protect)).status == 204)
        let (_, protected) = try identify(server, serial: "SEAT1SERIAL")
        #expect(protected?.action == .needsConfirmation && protected?.token == nil && protected?.profile == nil)
        let foreign = Data(#"{"facts":{"serial":"SEAT2SERIAL","interfaces":[]},"diskGroup":"office","diskHoldsData":true}"#.utf8)
        #expect(try identify(server, body: foreign).1?.action == .needsConfirmation)

        #expect(try server.admin("POST", ServerAPI.unitActionPath(unit: "LAB-SEAT1", action: .approve)).status == 204)
        // No image serves the unit yet: approved, it now hears why it cannot restore instead of a question.
        let (_, approved) = try identify(server, serial: "SEAT1SERIAL")
        #expect(approved?.action == .nothing && approved?.reason?.contains("no image") == true)
    }

    /// Unknown units enrol only inside a window that enrols, up to its maximum; the same machine asking twice keeps
    /// its name.
    @Test func enrolmentIsBoundedByTheWindow() throws {
        let server = try RunningServer(setup: Self.lab)
        #expect(try identify(server, serial: "NEW00001").1?.unit == nil)
        #expect(try server.admin(
            "POST", ServerAPI.windowsPath, json: #"{"group":"lab","actions":["enrol"],"minutes":30,"maximumNewUnits":2}"#).status == 201)
        let first = try identify(server, serial: "NEW00001").1
        #expect(first?.unit == "LAB-01" && first?.enrolledInto == "lab" && first?.action == .nothing)
        #expect(try identify(server, serial: "NEW00001").1?.unit == "LAB-01")
        #expect(try identify(server, serial: "NEW00002").1?.unit == "LAB-02")
        let (full, _) = try identify(server, serial: "NEW00003")
        #expect(full.status == 409 && full.text.contains("2 new units"))
        let listed = try runProcess(RunningServer.imprint, ["inventory", "list", "--inventory", server.inventory])
        #expect(listed.output.contains("LAB-02") && !listed.output.contains("LAB-03"))
    }
}

extension UnitAPITests {
    /// `--enrolments-per-minute 3`: the fourth unknown machine from one address in a minute is answered 429 and not
    /// enrolled; a known unit asking from the same address is not held back.
    @Test func enrolmentsAreRateLimited() throws {
        let server = try RunningServer(setup: Self.lab, extraArguments: ["--enrolments-per-minute", "3"])
        #expect(try server.admin(
            "POST", ServerAPI.windowsPath, json: #"{"group":"lab","actions":["enrol","personalize"],"minutes":30,"maximumNewUnits":10}"#).status == 201)
        let names = try (1...3).map { try identify(server, serial: "NEW0000\($0)").1?.unit }
        #expect(names == ["LAB-01", "LAB-02", "LAB-03"])
        let (limited, _) = try identify(server, serial: "NEW00004")
        #expect(limited.status == 429 && limited.text.contains("too many enrolments"), "\(limited.text)")
        #expect(try identify(server, serial: "SEAT2SERIAL").1?.unit == "LAB-SEAT2")
        let listed = try runProcess(RunningServer.imprint, ["inventory", "list", "--inventory", server.inventory])
        #expect(listed.output.contains("LAB-03") && !listed.output.contains("LAB-04"))
    }
}

// MARK: - Helpers

func identify(_ server: RunningServer, serial: String, mac: String? = nil) throws -> (HTTPAnswer, IdentifyAnswer?) {
    try identify(server, body: Data(HardwareFactsJSON(serial: serial, mac: mac).utf8))
}

func identify(_ server: RunningServer, body: Data, headers: [String: String] = [:]) throws -> (HTTPAnswer, IdentifyAnswer?) {
    let answer = try httpRequest("POST", server.url + ServerAPI.identifyPath, headers: headers, body: body)
    return (answer, answer.status == 200 ? try JSONDecoder.server.decode(IdentifyAnswer.self, from: answer.body) : nil)
}

func openWindow(_ server: RunningServer, group: String, actions: [String], minutes: Int = 30) throws {
    let list = actions.map { "\"\($0)\"" }.joined(separator: ",")
    let answer = try server.admin("POST", ServerAPI.windowsPath, json: #"{"group":"\#(group)","actions":[\#(list)],"minutes":\#(minutes)}"#)
    guard answer.status == 201 else { throw TestSupportError("opening the window failed: \(answer.status) \(answer.text)") }
}

/// The three signature headers for a request, with a fresh nonce.
func signed(_ server: RunningServer, token: String, unit: String, method: String = "POST", path: String, body: Data) throws -> [String: String] {
    let nonce = try JSONDecoder.server.decode(NonceAnswer.self, from: try httpRequest("POST", server.url + ServerAPI.noncePath).body).nonce
    let signature = RequestSignature.sign(token: token, unit: unit, method: method, path: path, nonce: nonce, body: body)
    return [
        RequestSignature.unitHeader: signature.unit, RequestSignature.nonceHeader: signature.nonce,
        RequestSignature.signatureHeader: signature.signature,
    ]
}

/// A facts body with a serial and one card.
func HardwareFactsJSON(serial: String, mac: String? = nil) -> String {
    let interfaces = mac.map { #"[{"name":"enp1s0","mac":"\#($0)","wireless":false,"removable":false}]"# } ?? "[]"
    return #"{"facts":{"serial":"\#(serial)","interfaces":\#(interfaces)},"diskHoldsData":false}"#
}

import Foundation
import ImprintTestSupport
import ImprintWire
import Testing

@Suite(.serialized) struct FleetPageTests {
    static let lab: [[String]] = [
        ["inventory", "group", "add", "lab", "--naming-pattern", "LAB-{##}"],
        ["inventory", "add", "LAB-01", "--group", "lab", "--serial", "SEAT1SERIAL", "--mac", "52:54:00:00:00:01"],
    ]

    /// Logs a page client in with the admin token; returns it holding its session cookie, and the room's page.
    func logIn(_ server: RunningServer) throws -> (PageClient, PageClient.Answer) {
        let client = PageClient(port: server.port)
        let form = try client.get("/login")
        let csrf = try #require(PageClient.hiddenField("csrf", in: form.body))
        let login = try client.post("/login", [("csrf", csrf), ("token", server.adminToken)])
        try #require(login.status == 303)
        return (client, try client.get("/fleet?group=lab"))
    }

    func openWindows(_ server: RunningServer) throws -> [DeploymentWindow] {
        let answer = try server.admin("GET", ServerAPI.windowsPath)
        try #require(answer.status == 200)
        return try JSONDecoder.server.decode([DeploymentWindow].self, from: answer.body)
    }

    func audit(_ server: RunningServer) throws -> [AuditEntry] {
        try JSONDecoder.server.decode([AuditEntry].self, from: try server.admin("GET", ServerAPI.auditPath).body)
    }

    /// Without a session cookie the page redirects to the login form, and a form posted anyway is refused (401).
    @Test func thePageNeedsALogin() throws {
        let server = try RunningServer(setup: Self.lab)
        let client = PageClient(port: server.port)
        let page = try client.get("/fleet?group=lab")
        #expect(page.status == 303)
        #expect(page.header("Location") == "/login")
        let posted = try client.post("/fleet/window", [("group", "lab"), ("actions", "personalize"), ("minutes", "30"), ("maximumNewUnits", "0")])
        #expect(posted.status == 401)
        #expect(try openWindows(server).isEmpty)
    }

    /// A wrong admin token is refused with 401, sets no session cookie, and the token typed never comes back in the page.
    @Test func aWrongTokenIsRefused() throws {
        let server = try RunningServer(setup: Self.lab)
        let client = PageClient(port: server.port)
        let form = try client.get("/login")
        let csrf = try #require(PageClient.hiddenField("csrf", in: form.body))
        let login = try client.post("/login", [("csrf", csrf), ("token", "not-the-token-\(server.adminToken.prefix(4))")])
        #expect(login.status == 401)
        #expect(login.setCookie(named: "imprint-session") == nil)
        #expect(!login.body.contains("not-the-token"))
        #expect(client.cookies["imprint-session"] == nil)
        #expect(try client.get("/fleet").status == 303)
    }

    /// The login form's own CSRF token is needed: a login posted without it is a 403 and starts no session.
    @Test func aLoginWithoutItsFormIsRefused() throws {
        let server = try RunningServer(setup: Self.lab)
        let client = PageClient(port: server.port)
        let login = try client.post("/login", [("token", server.adminToken)])
        #expect(login.status == 403)
        #expect(login.setCookie(named: "imprint-session") == nil)
    }

    /// Logs in sending `headers` with both requests; returns the session cookie's Set-Cookie line.
    func sessionCookie(_ server: RunningServer, headers: [String: String] = [:]) throws -> String? {
        let client = PageClient(port: server.port)
        let form = try client.get("/login", headers: headers)
        let csrf = try #require(PageClient.hiddenField("csrf", in: form.body))
        return try client.post("/login", [("csrf", csrf), ("token", server.adminToken)], headers: headers).setCookie(named: "imprint-session")
    }

    /// The session cookie is HttpOnly, SameSite=Strict and Path=/; Secure only when the trusted proxy on loopback
    /// says the browser came through TLS (X-Forwarded-Proto from an untrusted client is ignored); the admin token
    /// appears in no page.
    @Test func theSessionCookieIsLockedDown() throws {
        let server = try RunningServer(setup: Self.lab)
        let (_, page) = try logIn(server)
        #expect(!page.body.contains(server.adminToken))
        let cookie = try #require(try sessionCookie(server))
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
        #expect(!cookie.contains("Secure"))
        #expect(try sessionCookie(server, headers: ["X-Forwarded-Proto": "https"])?.contains("Secure") == false)

        let proxied = try RunningServer(setup: Self.lab, extraArguments: ["--trust-proxy"])
        let tls = try #require(try sessionCookie(proxied, headers: ["X-Forwarded-Proto": "https", "X-Real-IP": "10.1.2.3"]))
        #expect(tls.contains("Secure") && tls.contains("HttpOnly"))
    }

    /// Every page carries the security headers: a policy allowing no script, no framing, no referrer, no caching.
    @Test func pagesCarryTheSecurityHeaders() throws {
        let server = try RunningServer(setup: Self.lab)
        let (client, page) = try logIn(server)
        for answer in [page, try client.get("/login"), try client.get("/fleet"), try PageClient(port: server.port).get("/fleet")] {
            let policy = try #require(answer.header("Content-Security-Policy"))
            #expect(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'") && !policy.contains("script-src"))
            #expect(answer.header("X-Frame-Options") == "DENY")
            #expect(answer.header("Referrer-Policy") == "no-referrer")
            #expect(answer.header("Cache-Control") == "no-store")
        }
        #expect(!page.body.contains("<script"))
    }

    /// A POST without the CSRF token, or with a wrong one, is a 403 and opens no window.
    @Test func aPostWithoutTheCSRFTokenChangesNothing() throws {
        let server = try RunningServer(setup: Self.lab)
        let (client, page) = try logIn(server)
        let csrf = try #require(PageClient.hiddenField("csrf", in: page.body))
        let fields = [("group", "lab"), ("actions", "personalize"), ("minutes", "30"), ("maximumNewUnits", "0")]
        #expect(try client.post("/fleet/window", fields).status == 403)
        #expect(try client.post("/fleet/window", [("csrf", String(csrf.reversed()))] + fields).status == 403)
        #expect(try client.post("/fleet/unit", [("csrf", "x"), ("group", "lab"), ("unit", "LAB-01"), ("action", "protect")]).status == 403)
        #expect(try client.post("/logout", [("csrf", "")]).status == 403)
        #expect(try openWindows(server).isEmpty)
        #expect(try audit(server).map(\.event) == ["page login"])
        #expect(try client.get("/fleet").status == 200)
    }

    /// A POST with the session's CSRF token opens the window through the deployment: the admin API lists it, the
    /// audit log names the page session, and the room's page then refreshes itself.
    @Test func theRightCSRFTokenOpensTheWindow() throws {
        let server = try RunningServer(setup: Self.lab)
        let (client, page) = try logIn(server)
        #expect(!page.body.contains("http-equiv=\"refresh\""))
        let csrf = try #require(PageClient.hiddenField("csrf", in: page.body))
        let opened = try client.post(
            "/fleet/window",
            [("csrf", csrf), ("group", "lab"), ("actions", "personalize"), ("actions", "enrol"), ("image", ""), ("minutes", "30"),
             ("maximumNewUnits", "5")])
        #expect(opened.status == 303)
        #expect(opened.header("Location") == "/fleet?group=lab")
        let window = try #require(try openWindows(server).first)
        #expect(window.group == "lab" && window.actions == [.enrol, .personalize] && window.maximumNewUnits == 5)
        let entry = try #require(try audit(server).first)
        #expect(entry.event == "window opened" && entry.actor == "page session from 127.0.0.1")

        let after = try client.get("/fleet?group=lab")
        #expect(after.body.contains("Window open for room lab"))
        #expect(after.body.contains("<meta http-equiv=\"refresh\" content=\"5\">"))
        let close = try client.post("/fleet/window/close", [("csrf", csrf), ("group", "lab")])
        #expect(close.status == 303)
        #expect(try openWindows(server).isEmpty)
    }

    /// A unit action from the page goes through the deployment: protecting a unit shows in the admin API's fleet and
    /// in the audit log under the page session.
    @Test func aUnitActionLandsInTheAuditLog() throws {
        let server = try RunningServer(setup: Self.lab)
        let (client, page) = try logIn(server)
        let csrf = try #require(PageClient.hiddenField("csrf", in: page.body))
        let done = try client.post("/fleet/unit", [("csrf", csrf), ("group", "lab"), ("unit", "LAB-01"), ("action", "protect")])
        #expect(done.status == 303)
        let fleet = try JSONDecoder.server.decode([FleetRow].self, from: try server.admin("GET", ServerAPI.fleetPath).body)
        #expect(fleet.first?.protected == true)
        let entry = try #require(try audit(server).first)
        #expect(entry.event == "protect" && entry.unit == "LAB-01" && entry.actor == "page session from 127.0.0.1")
        #expect(try client.get("/fleet?group=lab").body.contains("Unprotect"))
    }

    /// A unit in no group is on the rooms page as "Units in no room" (and only when there is one), with a page of its
    /// own that says how to put it in a room; an action from that page comes back to it.
    @Test func unitsInNoRoomAreShown() throws {
        let labOnly = try RunningServer(setup: Self.lab)
        #expect(!(try logIn(labOnly).0.get("/fleet").body.contains("Units in no room")))

        let server = try RunningServer(setup: Self.lab + [["inventory", "add", "LOOSE-01", "--serial", "LOOSESERIAL"]])
        let (client, _) = try logIn(server)
        let rooms = try client.get("/fleet")
        #expect(rooms.body.contains("<a class=\"room-name\" href=\"/fleet?ungrouped=1\">Units in no room</a>"), "\(rooms.body)")
        #expect(rooms.body.contains("Put each in a room to deploy"))
        let page = try client.get("/fleet?ungrouped=1")
        #expect(page.status == 200 && page.body.contains("data-unit=\"LOOSE-01\"") && !page.body.contains("data-unit=\"LAB-01\""))
        #expect(page.body.contains("<code>imprint inventory set UNIT --group ROOM</code>") && !page.body.contains("window-form") && !page.body.contains("name=\"minutes\""))
        let csrf = try #require(PageClient.hiddenField("csrf", in: page.body))
        let done = try client.post("/fleet/unit", [("csrf", csrf), ("group", ""), ("unit", "LOOSE-01"), ("action", "protect"), ("ungrouped", "1")])
        #expect(done.status == 303 && done.header("Location") == "/fleet?ungrouped=1")
        #expect(try client.get("/fleet?ungrouped=1").body.contains("Unprotect"))
    }

    /// Text holding HTML (a model name here) is shown escaped, never as markup.
    @Test func namesWithHTMLAreEscaped() throws {
        let server = try RunningServer(setup: Self.lab + [
            ["inventory", "add", "LAB-02", "--group", "lab", "--serial", "SEAT2SERIAL", "--model", "<script>alert('x')</script>&\"Opti\""],
        ])
        let (_, page) = try logIn(server)
        #expect(page.status == 200)
        #expect(!page.body.contains("<script>"))
        #expect(page.body.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;Opti&quot;"))
    }

    /// Logging out ends the session: the cookie no longer opens the page.
    @Test func loggingOutEndsTheSession() throws {
        let server = try RunningServer(setup: Self.lab)
        let (client, page) = try logIn(server)
        let session = try #require(client.cookies["imprint-session"])
        let csrf = try #require(PageClient.hiddenField("csrf", in: page.body))
        let out = try client.post("/logout", [("csrf", csrf)])
        #expect(out.status == 303 && out.header("Location") == "/login")
        let stale = PageClient(port: server.port)
        let answer = try stale.get("/fleet", headers: ["Cookie": "imprint-session=\(session)"])
        #expect(answer.status == 303 && answer.header("Location") == "/login")
    }

    /// Failed logins count against the failed-authentication limit: past it even the right token is refused (429).
    @Test func failedLoginsAreRateLimited() throws {
        let server = try RunningServer(setup: Self.lab)
        let client = PageClient(port: server.port)
        let csrf = try #require(PageClient.hiddenField("csrf", in: try client.get("/login").body))
        for _ in 0..<20 { _ = try client.post("/login", [("csrf", csrf), ("token", "wrong")]) }
        let refused = try client.post("/login", [("csrf", csrf), ("token", server.adminToken)])
        #expect(refused.status == 429)
        #expect(refused.setCookie(named: "imprint-session") == nil)
        #expect(try server.admin("GET", ServerAPI.windowsPath).status == 429)
    }

    /// Every login on the page, and every refused one, is a line of the audit log naming the address.
    @Test func loginsAreAudited() throws {
        let server = try RunningServer(setup: Self.lab)
        let client = PageClient(port: server.port)
        let csrf = try #require(PageClient.hiddenField("csrf", in: try client.get("/login").body))
        #expect(try client.post("/login", [("csrf", csrf), ("token", "wrong")]).status == 401)
        _ = try logIn(server)
        let log = try JSONDecoder.server.decode([AuditEntry].self, from: try server.admin("GET", ServerAPI.auditPath).body)
        #expect(log.filter { $0.event == "page login refused" && $0.actor == "page from 127.0.0.1" }.count == 1)
        #expect(log.filter { $0.event == "page login" && $0.actor == "page from 127.0.0.1" }.count == 1)
    }
}

extension FleetPageTests {
    /// A protected unit asking in a restore window waits as "needs approval"; approving it on the page stops the question.
    @Test func aPendingUnitIsApprovedFromThePage() throws {
        let server = try RunningServer(setup: Self.lab)
        let (client, page) = try logIn(server)
        let csrf = try #require(PageClient.hiddenField("csrf", in: page.body))
        _ = try client.post("/fleet/unit", [("csrf", csrf), ("group", "lab"), ("unit", "LAB-01"), ("action", "protect")])
        _ = try client.post(
            "/fleet/window", [("csrf", csrf), ("group", "lab"), ("actions", "restore"), ("minutes", "30"), ("maximumNewUnits", "0")])
        let asked = try httpRequest("POST", server.url + ServerAPI.identifyPath, body: Data(HardwareFactsJSON(serial: "SEAT1SERIAL").utf8))
        #expect(try JSONDecoder.server.decode(IdentifyAnswer.self, from: asked.body).action == .needsConfirmation)
        let waiting = try client.get("/fleet?group=lab")
        #expect(waiting.body.contains("needs approval") && waiting.body.contains("Approve restore"))

        let approved = try client.post("/fleet/unit", [("csrf", csrf), ("group", "lab"), ("unit", "LAB-01"), ("action", "approve")])
        #expect(approved.status == 303)
        #expect(try audit(server).first?.event == "approve")
        let again = try httpRequest("POST", server.url + ServerAPI.identifyPath, body: Data(HardwareFactsJSON(serial: "SEAT1SERIAL").utf8))
        let answer = try JSONDecoder.server.decode(IdentifyAnswer.self, from: again.body)
        #expect(answer.action != .needsConfirmation)
    }
}

import Foundation
import Hummingbird
import ImprintCore
import ImprintTemplates
import ImprintWire
import NIOCore

/// The fleet page: server-rendered HTML a technician reads from across a computer room, usable without JavaScript.
///
/// A browser logs in with the admin token and gets a session cookie; every form carries the session's CSRF token and
/// every POST is refused (403, nothing changed) without it. Every action calls the same `Deployment` function as the
/// admin API, so it lands in the same audit log, with the actor "page session from ADDRESS".
struct PageRoutes {
    let deployment: Deployment
    let sessions: PageSessions
    /// The built-in templates, parsed once; a broken one (a test catches it first) makes every page a 500.
    let pages: Result<PageTemplates, any Error>

    /// How often a room's page reloads itself while a window is open for the room.
    static let refreshSeconds = 5

    func add(to router: Router<ServerContext>) {
        router.get("/") { _, _ in Self.redirect("/fleet") }
        router.get("/fleet/fleet.css") { _, _ in
            var headers = Self.securityHeaders
            headers[.contentType] = "text/css; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: PageTemplates.stylesheet)))
        }
        router.get("/login") { request, context in try await page { try await loginPage(request, context) } }
        router.post("/login") { request, context in try await page { try await logIn(request, context) } }
        router.post("/logout") { request, context in
            try await page {
                var request = request
                let (cookie, _, _) = try await authorizedForm(&request)
                await sessions.end(cookie: cookie)
                var response = Self.redirect("/login")
                response.setCookie(expiredCookie(PageSessions.cookieName, request, context))
                return response
            }
        }
        router.get("/fleet") { request, context in
            try await page {
                guard case let (cookie, session)? = await currentSession(request) else { return Self.redirect("/login") }
                if let group = request.uri.queryParameters["group"].map(String.init) {
                    return try await groupPage(group, cookie: cookie, session: session)
                }
                if request.uri.queryParameters["ungrouped"] != nil {
                    return try await ungroupedPage(cookie: cookie, session: session)
                }
                return try await roomsPage(cookie: cookie, session: session)
            }
        }
        router.get("/fleet/window") { request, context in
            try await page {
                guard case let (_, session)? = await currentSession(request) else { return Self.redirect("/login") }
                return try await windowPage(request.uri.queryParameters["group"].map(String.init) ?? "", session: session)
            }
        }
        router.post("/fleet/window") { request, context in
            try await page {
                var request = request
                let (cookie, _, form) = try await authorizedForm(&request)
                let group = try form.required("group")
                let notice: PageSessions.Notice
                if let minutes = Int(form["minutes"] ?? ""), let maximum = Int(form["maximumNewUnits"].flatMap { $0.isEmpty ? nil : $0 } ?? "0") {
                    let image = form["image"].flatMap { $0.isEmpty ? nil : $0 }
                    let actions = form.all("actions").compactMap(WindowAction.init(rawValue:))
                    notice = await attempt {
                        let window = try await deployment.openWindow(
                            WindowRequest(group: group, actions: actions, image: image, minutes: minutes, maximumNewUnits: maximum),
                            by: actor(request, context))
                        return "Window open for room \(window.group) until \(view().time(window.expires, seconds: false))."
                    }
                } else {
                    notice = .init(kind: .error, text: "Minutes and new units must be whole numbers; the window was not opened.")
                }
                await sessions.setNotice(notice, cookie: cookie)
                return Self.redirect(FleetPageView.groupLink(group))
            }
        }
        router.post("/fleet/window/close") { request, context in
            try await page {
                var request = request
                let (cookie, _, form) = try await authorizedForm(&request)
                let group = try form.required("group")
                let notice = await attempt {
                    try await deployment.closeWindow(group: group, by: actor(request, context))
                        ? "Window for room \(group) closed: its units get nothing until one opens again."
                        : "No window was open for room \(group)."
                }
                await sessions.setNotice(notice, cookie: cookie)
                return Self.redirect(FleetPageView.groupLink(group))
            }
        }
        router.post("/fleet/unit") { request, context in
            try await page {
                var request = request
                let (cookie, _, form) = try await authorizedForm(&request)
                let unit = try form.required("unit")
                let name = try form.required("action")
                guard let action = ServerAPI.UnitAction(rawValue: name) else {
                    throw PageRefusal(.badRequest, "There is no unit action \(quoted(name)).")
                }
                let notice = await attempt {
                    try await deployment.act(action, unit: unit, by: actor(request, context))
                    switch action {
                    case .arm: return "\(unit) gets a new token the next time it asks inside a window."
                    case .protect: return "\(unit) is protected: it asks before a restore over its data."
                    case .unprotect: return "\(unit) is no longer protected."
                    case .approve: return "\(unit) may restore over its data in this window."
                    }
                }
                await sessions.setNotice(notice, cookie: cookie)
                if form["ungrouped"] != nil { return Self.redirect(FleetPageView.ungroupedLink) }
                return Self.redirect(form["group"].map(FleetPageView.groupLink) ?? "/fleet")
            }
        }
    }

    // MARK: - Pages

    func loginPage(_ request: Request, _ context: ServerContext) async throws -> Response {
        if await currentSession(request) != nil { return Self.redirect("/fleet") }
        let given = request.cookies[PageSessions.loginCookieName]?.value
        let loginCookie = given.flatMap { Self.isToken($0) ? $0 : nil } ?? RequestSignature.randomToken()
        var response = try html("login", ["title": "Log in", "loginCSRF": sessions.loginCSRF(forCookie: loginCookie)])
        if given != loginCookie {
            response.setCookie(cookie(PageSessions.loginCookieName, loginCookie, maxAge: 3600, request, context))
        }
        return response
    }

    /// Checks the login form's CSRF token and the admin token; a wrong token counts against the address's
    /// failed-authentication limit, as a wrong bearer token does.
    func logIn(_ request: Request, _ context: ServerContext) async throws -> Response {
        var request = request
        let form = PageForm(try await request.limitedBody())
        guard let loginCookie = request.cookies[PageSessions.loginCookieName]?.value, let given = form["csrf"],
            sameSecret(given, sessions.loginCSRF(forCookie: loginCookie))
        else {
            throw PageRefusal(
                .forbidden, "This login form is out of date or did not come from this server; nothing was done.",
                link: "/login", linkText: "Load the login page again")
        }
        let values: [String: Any] = ["title": "Log in", "loginCSRF": given]
        let token = (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let isAdmin: Bool
        do {
            isAdmin = try await deployment.isAdmin(token: token, address: client(request, context))
        } catch {
            return try html("login", values.merging(["notice": Self.notice(.error, error.message)]) { $1 }, status: .tooManyRequests)
        }
        try await deployment.noteLogin(from: client(request, context), accepted: isAdmin)
        guard isAdmin else {
            context.logger.notice("fleet page: a failed login from \(client(request, context))")
            return try html(
                "login",
                values.merging(["notice": Self.notice(.error, "That is not the admin token. Copy it from the token file on the server.")]) { $1 },
                status: .unauthorized)
        }
        context.logger.info("fleet page: a login from \(client(request, context))")
        let session = await sessions.start()
        var response = Self.redirect("/fleet")
        response.setCookie(cookie(PageSessions.cookieName, session, maxAge: Int(PageSessions.lifetime), request, context))
        response.setCookie(expiredCookie(PageSessions.loginCookieName, request, context))
        return response
    }

    func roomsPage(cookie: String, session: PageSessions.Session) async throws -> Response {
        let windows = try await deployment.windows()
        let rooms = view().rooms(
            groups: try await deployment.groups(), fleet: try await deployment.fleet(group: nil), windows: windows)
        var values = common(session, title: "Rooms", refresh: !windows.isEmpty)
        values["rooms"] = rooms
        if let notice = await sessions.takeNotice(cookie: cookie) { values["notice"] = Self.notice(notice.kind, notice.text) }
        return try html("fleet", values)
    }

    func groupPage(_ group: String, cookie: String, session: PageSessions.Session) async throws -> Response {
        let view = view()
        let rows = try await deployment.fleet(group: group)
        let window = view.window(for: group, in: try await deployment.windows())
        // The store finds a group whatever the case of its name; show the name as the inventory spells it.
        let known = try await deployment.groups().first { $0.lowercased() == group.lowercased() }
        let name = known ?? window?.group ?? group
        var values = common(session, title: "Room \(name)", refresh: window != nil)
        values["heading"] = "Room \(name)"
        values["ungrouped"] = false
        values["group"] = name
        values["window"] = window.map(view.window) ?? false
        values["changeLink"] = "/fleet/window?group=" + FleetPageView.encoded(name)
        values["units"] = rows.map(view.unit)
        values["unitCount"] = FleetPageView.units(rows.count)
        values["form"] = view.windowForm(current: nil, images: try deployment.images.list())
        if let notice = await sessions.takeNotice(cookie: cookie) { values["notice"] = Self.notice(notice.kind, notice.text) }
        return try html("group", values)
    }

    /// The units in no group: listed with their state and actions, and how to put them in a room (a window opens
    /// for a group, so until then the server gives them nothing).
    func ungroupedPage(cookie: String, session: PageSessions.Session) async throws -> Response {
        let view = view()
        let rows = try await deployment.fleet(group: nil).filter { $0.group == nil }
        var values = common(session, title: FleetPageView.ungroupedName, refresh: false)
        values["heading"] = FleetPageView.ungroupedName
        values["ungrouped"] = true
        values["group"] = ""
        values["window"] = false
        values["units"] = rows.map(view.unit)
        values["unitCount"] = FleetPageView.units(rows.count)
        if let notice = await sessions.takeNotice(cookie: cookie) { values["notice"] = Self.notice(notice.kind, notice.text) }
        return try html("group", values)
    }

    /// The open-window form on a page of its own, which does not refresh while the admin fills it in.
    func windowPage(_ group: String, session: PageSessions.Session) async throws -> Response {
        let view = view()
        guard let name = try await deployment.groups().first(where: { $0.lowercased() == group.lowercased() }) else { throw PageRefusal(.notFound, "There is no room \(quoted(group)).", link: "/fleet", linkText: "All rooms") }
        var values = common(session, title: "Window for room \(name)", refresh: false)
        values["group"] = name
        values["groupLink"] = FleetPageView.groupLink(name)
        values["form"] = view.windowForm(
            current: view.window(for: name, in: try await deployment.windows()), images: try deployment.images.list())
        return try html("window", values)
    }

    // MARK: - Sessions and forms

    /// The session the request's cookie names, if it is live.
    func currentSession(_ request: Request) async -> (String, PageSessions.Session)? {
        guard let cookie = request.cookies[PageSessions.cookieName]?.value, let session = await sessions.session(cookie: cookie)
        else { return nil }
        return (cookie, session)
    }

    /// A POST's form, refused unless it comes from a live session and carries that session's CSRF token.
    func authorizedForm(_ request: inout Request) async throws -> (String, PageSessions.Session, PageForm) {
        guard case let (cookie, session)? = await currentSession(request) else {
            throw PageRefusal(.unauthorized, "Log in first; nothing was done.", link: "/login", linkText: "Log in")
        }
        let form = PageForm(try await request.limitedBody())
        guard let given = form["csrf"], sameSecret(given, session.csrf) else {
            throw PageRefusal(
                .forbidden, "This form is out of date or did not come from the fleet page; nothing was done.",
                link: "/fleet", linkText: "Back to the fleet page")
        }
        return (cookie, session, form)
    }

    /// Runs an action, turning its outcome into the notice the next page shows.
    func attempt(_ body: () async throws -> String) async -> PageSessions.Notice {
        do {
            return .init(kind: .done, text: try await body())
        } catch let error as ServerError {
            return .init(kind: .error, text: error.message)
        } catch {
            return .init(kind: .error, text: "the server failed; its log says why")
        }
    }

    /// Who acts, for the audit log: the page and the client's address (X-Real-IP from a trusted proxy).
    func actor(_ request: Request, _ context: ServerContext) -> String { "page session from \(client(request, context))" }

    func client(_ request: Request, _ context: ServerContext) -> String {
        request.clientAddress(context, trustsProxy: deployment.trustsProxy)
    }

    func view() -> FleetPageView { FleetPageView(now: Date(), timeZone: .current) }

    func common(_ session: PageSessions.Session, title: String, refresh: Bool) -> [String: Any] {
        ["title": title, "csrf": session.csrf, "refresh": refresh, "refreshSeconds": Self.refreshSeconds]
    }

    static func notice(_ kind: PageSessions.Notice.Kind, _ text: String) -> [String: Any] {
        ["kind": kind.rawValue, "text": text]
    }

    /// A random value as `RequestSignature.randomToken` makes them, so a cookie cannot smuggle anything else in.
    static func isToken(_ value: String) -> Bool {
        value.count == 43 && value.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "-" || $0 == "_" }
    }

    // MARK: - Responses

    /// Runs a page handler; a refusal or a server error becomes an HTML page with its status.
    func page(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let refusal as PageRefusal {
            return try problem(refusal)
        } catch let error as ServerError {
            let status = HTTPResponse.Status(code: error.status.rawValue)
            return try problem(PageRefusal(status, error.message, link: "/fleet", linkText: "Back to the fleet page"))
        }
    }

    func problem(_ refusal: PageRefusal) throws -> Response {
        try html(
            "problem",
            ["title": refusal.status.reasonPhrase, "heading": refusal.status.reasonPhrase, "message": refusal.message,
             "link": refusal.link, "linkText": refusal.linkText],
            status: refusal.status)
    }

    func html(_ name: String, _ values: [String: Any], status: HTTPResponse.Status = .ok) throws -> Response {
        var headers = Self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: try pages.get().render(name, values))))
    }

    static func redirect(_ location: String) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    /// Sent with every page: no script at all, no framing (clickjacking), no referrer, nothing cached.
    static let securityHeaders: HTTPFields = {
        var headers = HTTPFields()
        headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[.init("X-Frame-Options")!] = "DENY"
        headers[.init("Referrer-Policy")!] = "no-referrer"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.cacheControl] = "no-store"
        return headers
    }()

    /// A cookie only this server's pages see: HttpOnly, SameSite=Strict, Path=/, and Secure when the browser reached
    /// the server through TLS.
    func cookie(_ name: String, _ value: String, maxAge: Int, _ request: Request, _ context: ServerContext) -> Cookie {
        Cookie(
            name: name, value: value, maxAge: maxAge, path: "/", secure: cameThroughTLS(request, context),
            httpOnly: true, sameSite: .strict)
    }

    func expiredCookie(_ name: String, _ request: Request, _ context: ServerContext) -> Cookie {
        cookie(name, "", maxAge: 0, request, context)
    }

    /// Whether the browser's connection was TLS. The server speaks plain HTTP itself, so only the proxy it was told
    /// to trust (`--trust-proxy`: nginx on loopback, which ends TLS) is believed when it says so in X-Forwarded-Proto.
    func cameThroughTLS(_ request: Request, _ context: ServerContext) -> Bool {
        guard deployment.trustsProxy, context.peer == "127.0.0.1" || context.peer == "::1" else { return false }
        return request.headers[.init("X-Forwarded-Proto")!]?.lowercased() == "https"
    }
}

/// A request the page refuses, shown as a page with the status, what happened and where to go.
struct PageRefusal: Error {
    var status: HTTPResponse.Status
    var message: String
    var link = "/fleet"
    var linkText = "Back to the fleet page"

    init(_ status: HTTPResponse.Status, _ message: String, link: String = "/fleet", linkText: String = "Back to the fleet page") {
        self.status = status
        self.message = message
        self.link = link
        self.linkText = linkText
    }
}

/// An `application/x-www-form-urlencoded` body: fields in order, a name may repeat (checkboxes).
struct PageForm {
    var fields: [(name: String, value: String)]

    init(_ body: Data) {
        fields = String(decoding: body, as: UTF8.self).split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring?) -> String {
                guard let text else { return "" }
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(parts.first), decode(parts.count > 1 ? parts[1] : nil))
        }
    }

    /// The first value of a field.
    subscript(_ name: String) -> String? { fields.first { $0.name == name }?.value }

    func all(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }

    func required(_ name: String) throws -> String {
        guard let value = self[name], !value.isEmpty else {
            throw PageRefusal(.badRequest, "The form has no \(quoted(name)); nothing was done.")
        }
        return value
    }
}

import Crypto
import Foundation
import ImprintWire

/// The fleet page's logins, kept in memory: a server restart logs everyone out, and nothing about a session is ever
/// written to the inventory or a log.
///
/// A session is a random cookie value (the store keys it by its SHA-256, so the map holds nothing a browser could
/// present) with its own CSRF token, which every form of the page carries and every POST must send back.
actor PageSessions {
    /// A logged-in browser.
    struct Session: Sendable {
        /// The token the page's forms carry; a POST without it changes nothing.
        let csrf: String
        let created: Date
        var lastSeen: Date
        /// What the last action did, shown once on the next page.
        var notice: Notice?
    }

    /// A line shown once at the top of the next page, after an action redirected there.
    struct Notice: Sendable, Equatable {
        enum Kind: String, Sendable { case done, error }
        var kind: Kind
        var text: String
    }

    static let cookieName = "imprint-session"
    /// The cookie the login form's CSRF token is bound to, before any session exists.
    static let loginCookieName = "imprint-login"
    /// A session unused this long ends: an open window's page refreshes itself, so a wall display stays logged in.
    static let idleLifetime: TimeInterval = 60 * 60
    /// No session outlives this, used or not.
    static let lifetime: TimeInterval = 12 * 60 * 60
    /// More sessions than this and the least recently used end, so logging in again and again cannot fill the memory.
    static let capacity = 1_000

    private let clock: @Sendable () -> Date
    private var sessions: [Data: Session] = [:]
    /// Signs the login form's token with the login cookie: a random key per server start, never stored.
    private nonisolated let loginKey = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }

    init(clock: @escaping @Sendable () -> Date = Date.init) {
        self.clock = clock
    }

    /// Starts a session; returns the cookie value for the browser.
    func start() -> String {
        let now = clock()
        dropExpired(now: now)
        if sessions.count >= Self.capacity, let oldest = sessions.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key {
            sessions[oldest] = nil
        }
        let cookie = RequestSignature.randomToken()
        sessions[Self.key(cookie)] = Session(csrf: RequestSignature.randomToken(), created: now, lastSeen: now)
        return cookie
    }

    /// The live session the cookie names, counted as used now; nil when there is none or it expired.
    func session(cookie: String) -> Session? {
        let now = clock()
        let key = Self.key(cookie)
        guard var session = sessions[key] else { return nil }
        guard Self.isLive(session, now: now) else {
            sessions[key] = nil
            return nil
        }
        session.lastSeen = now
        sessions[key] = session
        return session
    }

    /// Ends the session (logging out); nothing happens when there is none.
    func end(cookie: String) {
        sessions[Self.key(cookie)] = nil
    }

    func setNotice(_ notice: Notice, cookie: String) {
        sessions[Self.key(cookie)]?.notice = notice
    }

    /// The notice to show, once.
    func takeNotice(cookie: String) -> Notice? {
        let key = Self.key(cookie)
        defer { sessions[key]?.notice = nil }
        return sessions[key]?.notice
    }

    /// The login form's CSRF token for a login cookie: a MAC, so the server keeps nothing per visitor before login.
    nonisolated func loginCSRF(forCookie cookie: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(cookie.utf8), using: SymmetricKey(data: loginKey)).map { String(format: "%02x", $0) }.joined()
    }

    private static func isLive(_ session: Session, now: Date) -> Bool {
        now.timeIntervalSince(session.lastSeen) < idleLifetime && now.timeIntervalSince(session.created) < lifetime
    }

    private func dropExpired(now: Date) {
        sessions = sessions.filter { Self.isLive($0.value, now: now) }
    }

    private static func key(_ cookie: String) -> Data { Data(SHA256.hash(data: Data(cookie.utf8))) }
}

/// Whether two secrets are equal, in a time that does not depend on where they first differ.
func sameSecret(_ a: String, _ b: String) -> Bool {
    let left = Array(a.utf8), right = Array(b.utf8)
    guard left.count == right.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(left, right) { difference |= x ^ y }
    return difference == 0
}

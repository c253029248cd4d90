import CCurl
import Foundation
import ImprintCore
import ImprintWire

/// A unit's name and the token a deployment window gave it, which it signs its requests with.
public struct UnitCredential: Codable, Equatable, Sendable {
    public var unit: String
    public var token: String

    public init(unit: String, token: String) {
        self.unit = unit
        self.token = token
    }
}

/// How often a failed request is tried again, and how long to wait between tries.
public struct RetryPolicy: Sendable {
    /// Tries in a row that may fail (a download counts only tries that got no byte further).
    public var attempts: Int
    /// The wait after the first failure, doubled after each next one up to `longestDelay` (seconds).
    public var firstDelay: Double
    public var longestDelay: Double

    public init(attempts: Int = 6, firstDelay: Double = 1, longestDelay: Double = 30) {
        self.attempts = max(1, attempts)
        self.firstDelay = firstDelay
        self.longestDelay = longestDelay
    }

    /// The wait after the `failures`-th failure in a row.
    public func delay(after failures: Int) -> Double {
        min(longestDelay, firstDelay * pow(2, Double(max(0, failures - 1))))
    }
}

/// The client of a deployment server's API (README, "The deployment server"): nonces, identify, reports, images
/// that resume, and the admin calls, over libcurl opened at run time.
///
/// A client holding a unit's credential signs its requests with it (each with a fresh nonce); one holding the admin
/// token sends it as a bearer.
public final class ServerClient: Sendable {
    /// The server's root, such as `https://imprint.example.org:8443`, without a trailing slash.
    public let server: String
    public let credential: UnitCredential?
    let adminToken: String?
    public let timeouts: Timeouts
    public let retries: RetryPolicy
    /// The PEM file of authorities the server's certificate is checked against, nil for the system's store.
    public let authority: String?
    let curl: CurlLibrary

    /// The largest answer body an API call reads (a fleet of 10,000 units is about 3 MB).
    static let maximumAnswerBytes = 32 << 20

    /// - Parameters:
    ///   - server: the server's root URL, http or https.
    ///   - library: the libcurl to open (default `libcurl.so.4`, else `libcurl-gnutls.so.4`).
    ///   - authority: a PEM file of the authorities an https server's certificate may be signed by (a site's own
    ///     CA), instead of the system's store.
    /// - Throws: `RemoteError.invalidURL`, or `.libraryMissing` when libcurl cannot be opened.
    public init(
        server: String, credential: UnitCredential? = nil, adminToken: String? = nil, library: String? = nil,
        authority: String? = nil, timeouts: Timeouts = Timeouts(), retries: RetryPolicy = RetryPolicy()
    ) throws(RemoteError) {
        self.server = try Self.root(of: server)
        self.credential = credential
        self.adminToken = adminToken
        self.authority = authority
        self.timeouts = timeouts
        self.retries = retries
        self.curl = try CurlLibrary.open(library)
    }

    private init(copying client: ServerClient, credential: UnitCredential?, retries: RetryPolicy) {
        server = client.server
        self.credential = credential
        adminToken = client.adminToken
        authority = client.authority
        timeouts = client.timeouts
        self.retries = retries
        curl = client.curl
    }

    /// This client, signing as the unit `credential` names.
    public func signing(as credential: UnitCredential) -> ServerClient {
        ServerClient(copying: self, credential: credential, retries: retries)
    }

    /// This client, trying each request as `retries` says.
    public func retrying(_ retries: RetryPolicy) -> ServerClient {
        ServerClient(copying: self, credential: credential, retries: retries)
    }

    /// The name of the libcurl this client opened.
    public var library: String { curl.name }

    // MARK: - The unit API

    /// A fresh single-use nonce to sign the next request with.
    public func nonce() throws(RemoteError) -> String {
        try call("POST", ServerAPI.noncePath, as: NonceAnswer.self, signed: false).nonce
    }

    /// Sends the unit's facts; the answer says what to do. Signed when the client holds a unit's credential (asking
    /// again in a window that armed it before).
    public func identify(_ request: IdentifyRequest) throws(RemoteError) -> IdentifyAnswer {
        // Sent once when it may have reached the server: a second try would ask for a second token, which the
        // server refuses as a conflict.
        try call("POST", ServerAPI.identifyPath, body: encode(request), as: IdentifyAnswer.self, signed: credential != nil, resend: false)
    }

    /// Reports on the unit the client signs as.
    public func report(_ report: UnitReport) throws(RemoteError) {
        guard let credential else {
            throw .credential(path: "(none)", reason: "a report must be signed with the unit's token, and this client holds none")
        }
        _ = try exchange("POST", ServerAPI.reportPath(unit: Self.pathComponent(credential.unit)), body: encode(report), signed: true, resend: false)
    }

    // MARK: - The admin API (bearer token)

    /// Opens (or replaces) a group's deployment window.
    public func openWindow(_ request: WindowRequest) throws(RemoteError) -> DeploymentWindow {
        try call("POST", ServerAPI.windowsPath, body: encode(request), as: DeploymentWindow.self, signed: false)
    }

    /// The windows open now.
    public func windows() throws(RemoteError) -> [DeploymentWindow] {
        try call("GET", ServerAPI.windowsPath, as: [DeploymentWindow].self, signed: false)
    }

    /// Closes a group's window.
    public func closeWindow(group: String) throws(RemoteError) {
        _ = try exchange("DELETE", ServerAPI.windowPath(group: Self.pathComponent(group)), signed: false)
    }

    /// Takes an admin action on a unit (arm it again, protect, approve).
    public func act(_ action: ServerAPI.UnitAction, unit: String) throws(RemoteError) {
        _ = try exchange("POST", ServerAPI.unitActionPath(unit: Self.pathComponent(unit), action: action), signed: false)
    }

    /// The fleet: every unit of `group` (all when nil) with its state.
    public func fleet(group: String? = nil) throws(RemoteError) -> [FleetRow] {
        let query = group.map { "?group=" + Self.queryValue($0) } ?? ""
        return try call("GET", ServerAPI.fleetPath + query, as: [FleetRow].self, signed: false)
    }

    /// The images of the server's library.
    public func images() throws(RemoteError) -> [ImageReference] {
        try call("GET", ServerAPI.imagesPath, as: [ImageReference].self, signed: false)
    }

    // MARK: - Requests

    /// Sends a request and decodes its JSON answer.
    func call<Answer: Decodable>(
        _ method: String, _ path: String, body: Data = Data(), as type: Answer.Type, signed: Bool, resend: Bool = true
    ) throws(RemoteError) -> Answer {
        let answer = try exchange(method, path, body: body, signed: signed, resend: resend)
        do {
            return try JSONDecoder.server.decode(Answer.self, from: answer)
        } catch {
            throw .unexpectedAnswer(url: server + path, reason: "the body is not a \(Answer.self): \(error)")
        }
    }

    /// Sends a request and returns the body of a 2xx answer; an error status is thrown with the server's message.
    /// - Parameters:
    ///   - resend: whether a request that may have reached the server can be sent again (a 503, a broken answer);
    ///     one that surely never left is always tried again, within `retries`.
    func exchange(
        _ method: String, _ path: String, body: Data = Data(), signed: Bool, resend: Bool = true
    ) throws(RemoteError) -> Data {
        var failures = 0
        while true {
            var answer = Data()
            let request = try prepared(method, path, body: body, signed: signed)
            let outcome = HTTPExchange(curl: curl, timeouts: timeouts, authority: authority).perform(request) { piece in
                guard answer.count + piece.count <= Self.maximumAnswerBytes else {
                    throw RemoteError.unexpectedAnswer(url: request.url, reason: "the answer is larger than \(Self.maximumAnswerBytes) bytes")
                }
                answer.append(contentsOf: piece)
            }
            if let error = outcome.callbackError { throw error as? RemoteError ?? .unexpectedAnswer(url: request.url, reason: "\(error)") }
            if outcome.untrusted { throw .untrusted(url: request.url, reason: outcome.message, authority: authority) }
            let retriable: Bool
            if outcome.code == CURLE_OK, let head = outcome.head {
                if (200..<300).contains(head.status) { return answer }
                guard head.status == 503 && resend else {
                    throw .refused(url: request.url, status: head.status, message: Self.problem(in: answer, status: head.status))
                }
                retriable = true
            } else {
                retriable = outcome.neverSent || resend
            }
            failures += 1
            guard retriable, failures < retries.attempts else {
                if let head = outcome.head, outcome.code == CURLE_OK {
                    throw .refused(url: request.url, status: head.status, message: Self.problem(in: answer, status: head.status))
                }
                throw .unreachable(url: request.url, reason: outcome.message)
            }
            Thread.sleep(forTimeInterval: retries.delay(after: failures))
        }
    }

    /// The request with its credentials: a unit's signature over a fresh nonce, or the admin's bearer token.
    func prepared(_ method: String, _ path: String, body: Data, signed: Bool) throws(RemoteError) -> HTTPRequest {
        var request = HTTPRequest(method: method, url: server + path, body: body)
        if !body.isEmpty { request.headers.append((name: "Content-Type", value: "application/json")) }
        if signed, let credential {
            let nonce = try nonce()
            let signature = RequestSignature.sign(
                token: credential.token, unit: credential.unit, method: method, path: path, nonce: nonce, body: body)
            request.headers += [
                (name: RequestSignature.unitHeader, value: signature.unit),
                (name: RequestSignature.nonceHeader, value: signature.nonce),
                (name: RequestSignature.signatureHeader, value: signature.signature),
            ]
        } else if let adminToken {
            request.headers.append((name: "Authorization", value: "Bearer \(adminToken)"))
        }
        return request
    }

    private func encode(_ value: some Encodable) throws(RemoteError) -> Data {
        do {
            return try JSONEncoder.server.encode(value)
        } catch {
            throw .unexpectedAnswer(url: server, reason: "the request body cannot be encoded: \(error)")
        }
    }

    /// The server's own message in an error answer (`{"error": "..."}`), else the body's start.
    static func problem(in body: Data, status: Int) -> String {
        if let problem = try? JSONDecoder.server.decode(ServerProblem.self, from: body) { return problem.error }
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "no message" : text
    }

    // MARK: - Addresses

    /// The root of a server URL: http or https, a host, an optional port, no path (a signature covers the path
    /// the server sees, so the server must be at the root).
    public static func root(of url: String) throws(RemoteError) -> String {
        let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
        guard let parts = URLComponents(string: trimmed), let scheme = parts.scheme?.lowercased() else {
            throw .invalidURL(url, reason: "it is not a URL")
        }
        guard scheme == "http" || scheme == "https" else { throw .invalidURL(url, reason: "only http and https are spoken") }
        guard let host = parts.host, !host.isEmpty else { throw .invalidURL(url, reason: "it names no host") }
        guard parts.user == nil && parts.password == nil else {
            throw .invalidURL(url, reason: "credentials do not go into the address; use the token files")
        }
        guard parts.path.isEmpty, parts.query == nil, parts.fragment == nil else {
            throw .invalidURL(url, reason: "it has a path, a query or a fragment, and the server answers at its root")
        }
        return trimmed
    }

    /// Splits an image's URL (`https://SERVER/v1/images/ID`) into the server's root and the image id.
    public static func imageURL(_ url: String) throws(RemoteError) -> (server: String, image: String) {
        guard let parts = URLComponents(string: url), parts.query == nil, parts.fragment == nil,
            let scheme = parts.scheme, let host = parts.host, !host.isEmpty
        else { throw .invalidURL(url, reason: "it is not an image's URL") }
        let prefix = ServerAPI.imagesPath + "/"
        let path = parts.path
        guard path.hasPrefix(prefix), path.count > prefix.count, !path.dropFirst(prefix.count).contains("/") else {
            throw .invalidURL(url, reason: "an image's URL ends in \(prefix)ID")
        }
        let port = parts.port.map { ":\($0)" } ?? ""
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return (try root(of: "\(scheme)://\(bracketed)\(port)"), String(path.dropFirst(prefix.count)))
    }

    /// A value put into a path: everything but unreserved characters percent-encoded (the signature covers the
    /// encoded path, which is what the server sees).
    static func pathComponent(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    static func queryValue(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}

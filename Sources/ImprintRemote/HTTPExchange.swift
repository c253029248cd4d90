import CCurl
import Foundation

/// One HTTP request as the client sends it.
struct HTTPRequest: Sendable {
    var method: String
    var url: String
    var headers: [(name: String, value: String)] = []
    var body = Data()
}

/// The status line and headers of an answer (names in lowercase).
struct HTTPHead: Sendable {
    var status: Int
    var headers: [String: String]

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// How long a request may take to connect and how slow it may get before it is given up.
public struct Timeouts: Sendable {
    /// Seconds to set up the connection (TCP and TLS).
    public var connect: Int
    /// A transfer slower than `lowSpeedBytes` a second for `lowSpeedSeconds` is given up (a silent server, a cable
    /// pulled out: no TCP reset ever comes).
    public var lowSpeedBytes: Int
    public var lowSpeedSeconds: Int
    /// Seconds an API call (not a download) may take in all.
    public var call: Int

    public init(connect: Int = 10, lowSpeedBytes: Int = 1, lowSpeedSeconds: Int = 30, call: Int = 60) {
        self.connect = connect
        self.lowSpeedBytes = lowSpeedBytes
        self.lowSpeedSeconds = lowSpeedSeconds
        self.call = call
    }
}

/// What became of one request: the answer's head (when one came), libcurl's result, and an error a callback raised.
struct HTTPOutcome {
    var head: HTTPHead?
    var code: CURLcode
    var message: String
    /// Thrown by `onHead` or `onBody`: the transfer was stopped because of it.
    var callbackError: (any Error)?

    var completed: Bool { code == CURLE_OK && callbackError == nil }

    /// Whether the request surely never reached the server, so sending it again cannot do anything twice.
    /// The server's certificate is not trusted (or the authority file cannot be read): asking again will not help.
    var untrusted: Bool { [CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE].contains(code) }

    var neverSent: Bool {
        [CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY].contains(code)
    }
}

/// Runs HTTP requests through libcurl's easy interface, one at a time, streaming each answer's body to a closure.
struct HTTPExchange {
    let curl: CurlLibrary
    let timeouts: Timeouts
    /// A PEM file of the authorities an https server's certificate may be signed by, instead of the system's store.
    let authority: String?

    /// The state the C callbacks reach through their user pointer.
    private final class Transfer {
        var head: HTTPHead?
        var pendingStatus: Int?
        var pendingHeaders: [String: String] = [:]
        var error: (any Error)?
        let onHead: (HTTPHead) throws -> Void
        let onBody: (UnsafeRawBufferPointer) throws -> Void

        init(onHead: @escaping (HTTPHead) throws -> Void, onBody: @escaping (UnsafeRawBufferPointer) throws -> Void) {
            self.onHead = onHead
            self.onBody = onBody
        }

        /// One header line; the blank line ends a head. A 1xx head (100 Continue) is skipped.
        func headerLine(_ line: String) {
            let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.hasPrefix("HTTP/") {
                let parts = text.split(separator: " ", maxSplits: 2)
                pendingStatus = parts.count >= 2 ? Int(parts[1]) : nil
                pendingHeaders = [:]
            } else if text.isEmpty {
                // Once: the blank line after trailers of a chunked body ends no new head.
                guard head == nil, let status = pendingStatus, status >= 200 else { return }
                let finished = HTTPHead(status: status, headers: pendingHeaders)
                head = finished
                do { try onHead(finished) } catch { self.error = error }
            } else if let colon = text.firstIndex(of: ":") {
                let name = text[..<colon].lowercased()
                pendingHeaders[name] = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
    }

    /// Sends `request` and waits for the whole answer.
    /// - Parameters:
    ///   - isDownload: no limit on the total time (a large image on a slow link), only on a stalled transfer.
    ///   - onHead: called once with the final status and headers, before any body; throw to stop the transfer.
    ///   - onBody: called with each piece of the body in order; throw to stop the transfer.
    func perform(
        _ request: HTTPRequest, isDownload: Bool = false, onHead: @escaping (HTTPHead) throws -> Void = { _ in },
        onBody: @escaping (UnsafeRawBufferPointer) throws -> Void
    ) -> HTTPOutcome {
        guard let handle = curl.easyInit() else {
            return HTTPOutcome(head: nil, code: CURLE_FAILED_INIT, message: "libcurl could not make a handle")
        }
        defer { curl.easyCleanup(handle) }
        let transfer = Transfer(onHead: onHead, onBody: onBody)
        var headerList: OpaquePointer?
        defer { curl.slistFreeAll(headerList) }
        // "Expect:" keeps libcurl from waiting for 100 Continue before a larger body.
        for line in request.headers.map({ "\($0.name): \($0.value)" }) + ["Expect:"] {
            headerList = curl.slistAppend(headerList, line)
        }
        var errorText = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code: CURLcode = request.url.withCString { url in
            request.method.withCString { method in
                request.body.withUnsafeBytes { body in
                    errorText.withUnsafeMutableBufferPointer { errorBuffer in
                        let user = Unmanaged.passUnretained(transfer).toOpaque()
                        var set = [
                            curl.setPointer(handle, CURLOPT_URL, url),
                            curl.setLong(handle, CURLOPT_NOSIGNAL, 1),
                            curl.setLong(handle, CURLOPT_FOLLOWLOCATION, 0),
                            curl.setLong(handle, CURLOPT_CONNECTTIMEOUT, timeouts.connect),
                            curl.setLong(handle, CURLOPT_LOW_SPEED_LIMIT, timeouts.lowSpeedBytes),
                            curl.setLong(handle, CURLOPT_LOW_SPEED_TIME, timeouts.lowSpeedSeconds),
                            curl.setLong(handle, CURLOPT_TIMEOUT, isDownload ? 0 : timeouts.call),
                            curl.setPointer(handle, CURLOPT_HTTPHEADER, UnsafeRawPointer(headerList)),
                            curl.setPointer(handle, CURLOPT_ERRORBUFFER, errorBuffer.baseAddress),
                            curl.setCallback(handle, CURLOPT_HEADERFUNCTION, Self.headerCallback),
                            curl.setPointer(handle, CURLOPT_HEADERDATA, user),
                            curl.setCallback(handle, CURLOPT_WRITEFUNCTION, Self.writeCallback),
                            curl.setPointer(handle, CURLOPT_WRITEDATA, user),
                        ]
                        switch request.method {
                        case "GET": break
                        case "HEAD": set.append(curl.setLong(handle, CURLOPT_NOBODY, 1))
                        case "POST":
                            set.append(curl.setLong(handle, CURLOPT_POST, 1))
                            set.append(curl.setOffset(handle, CURLOPT_POSTFIELDSIZE_LARGE, Int64(body.count)))
                            // libcurl reads the body from here during perform, which runs inside this closure. An empty
                            // body still needs a pointer (with none libcurl reads standard input); the URL's will do.
                            set.append(curl.setPointer(handle, CURLOPT_POSTFIELDS, body.baseAddress ?? UnsafeRawPointer(url)))
                        default:
                            set.append(curl.setPointer(handle, CURLOPT_CUSTOMREQUEST, method))
                            if !body.isEmpty {
                                set.append(curl.setOffset(handle, CURLOPT_POSTFIELDSIZE_LARGE, Int64(body.count)))
                                set.append(curl.setPointer(handle, CURLOPT_POSTFIELDS, body.baseAddress))
                            }
                        }
                        if let authority {
                            // libcurl keeps its own copy of the path.
                            set.append(authority.withCString { curl.setPointer(handle, CURLOPT_CAINFO, $0) })
                        }
                        if let refused = set.first(where: { $0 != CURLE_OK }) { return refused }
                        return withExtendedLifetime(transfer) { curl.easyPerform(handle) }
                    }
                }
            }
        }
        let detail = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var message = detail.isEmpty ? curl.message(code) : detail
        if code == CURLE_OK { message = "" }
        return HTTPOutcome(head: transfer.head, code: code, message: message, callbackError: transfer.error)
    }

    private static let headerCallback: CurlLibrary.DataCallback = { data, size, count, user in
        guard let data, let user else { return 0 }
        let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
        let length = size * count
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        transfer.headerLine(line)
        return transfer.error == nil ? length : 0
    }

    private static let writeCallback: CurlLibrary.DataCallback = { data, size, count, user in
        guard let data, let user else { return 0 }
        let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
        let length = size * count
        // A body with no head (HTTP/0.9) is not the server's.
        guard transfer.error == nil, transfer.head != nil else { return 0 }
        do {
            try transfer.onBody(UnsafeRawBufferPointer(start: data, count: length))
        } catch {
            transfer.error = error
            // Any count but `length` makes libcurl stop the transfer with CURLE_WRITE_ERROR.
            return 0
        }
        return length
    }
}

import Foundation
import Glibc
import ImprintTestSupport

/// A browser as the fleet page's tests need one: keeps the cookies it is given, never follows a redirect, sends forms.
///
/// Plain HTTP/1.1 over a loopback socket, so a test sees every `Set-Cookie` line and every 303 exactly as the server
/// sent them (URLSession merges the one and follows the other).
final class PageClient {
    let port: Int
    private(set) var cookies: [String: String] = [:]

    init(port: Int) { self.port = port }

    /// What one request got back, headers in order (a name may repeat).
    struct Answer {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: String

        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
        /// The `Set-Cookie` lines.
        var setCookies: [String] { headers.filter { $0.name.lowercased() == "set-cookie" }.map(\.value) }
        func setCookie(named name: String) -> String? { setCookies.first { $0.hasPrefix(name + "=") } }
    }

    func get(_ path: String, headers: [String: String] = [:]) throws -> Answer {
        try send("GET", path, headers: headers, body: nil)
    }

    /// Posts `fields` as an HTML form would, in order.
    func post(_ path: String, _ fields: [(String, String)], headers: [String: String] = [:]) throws -> Answer {
        let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try send("POST", path, headers: headers.merging(["Content-Type": "application/x-www-form-urlencoded"]) { $1 }, body: body)
    }

    /// The value of the first hidden field `name` in a page.
    static func hiddenField(_ name: String, in page: String) -> String? {
        guard let range = page.range(of: "name=\"\(name)\" value=\"") else { return nil }
        let rest = page[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    private func send(_ method: String, _ path: String, headers: [String: String], body: String?) throws -> Answer {
        var lines = ["\(method) \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Connection: close"]
        if !cookies.isEmpty { lines.append("Cookie: " + cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")) }
        for (name, value) in headers { lines.append("\(name): \(value)") }
        let payload = Data((body ?? "").utf8)
        if body != nil { lines.append("Content-Length: \(payload.count)") }
        let request = Data((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) + payload
        let answer = try Self.parse(try exchange(request))
        for line in answer.setCookies {
            let pair = line.split(separator: ";", maxSplits: 1)[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0]), value = pair.count > 1 ? String(pair[1]) : ""
            if value.isEmpty || line.lowercased().contains("max-age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
        return answer
    }

    private func exchange(_ request: Data) throws -> Data {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestSupportError("socket: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { throw TestSupportError("connect to port \(port): errno \(errno)") }
        let sent = request.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
        guard sent == request.count else { throw TestSupportError("send: errno \(errno)") }
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count < 0 { throw TestSupportError("recv: errno \(errno)") }
            if count == 0 { break }
            received.append(contentsOf: buffer[0..<count])
        }
        return received
    }

    private static func parse(_ data: Data) throws -> Answer {
        let text = String(decoding: data, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw TestSupportError("no HTTP answer: \(text.prefix(200))") }
        let head = text[..<split.lowerBound].components(separatedBy: "\r\n")
        guard let statusLine = head.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
            throw TestSupportError("no status line: \(head.first ?? "")")
        }
        let headers = head.dropFirst().compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var body = String(text[split.upperBound...])
        if headers.contains(where: { $0.name.lowercased() == "transfer-encoding" && $0.value.lowercased() == "chunked" }) {
            body = unchunk(body)
        }
        return Answer(status: status, headers: headers, body: body)
    }

    private static func unchunk(_ text: String) -> String {
        var bytes = Substring(text).utf8[...]
        var out = [UInt8]()
        while let lineEnd = bytes.firstIndex(of: UInt8(ascii: "\r")) {
            let size = Int(String(decoding: bytes[..<lineEnd], as: UTF8.self), radix: 16) ?? 0
            bytes = bytes[bytes.index(lineEnd, offsetBy: 2)...]
            if size == 0 { break }
            out += bytes.prefix(size)
            bytes = bytes.dropFirst(size + 2)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc

/// An `imprint-server` the test started on a free loopback port, over an inventory and a library of its own; stopped
/// when the value is released.
public final class RunningServer: @unchecked Sendable {
    public static let binary = packageRoot.appendingPathComponent(".build/debug/imprint-server").path
    public static let imprint = packageRoot.appendingPathComponent(".build/debug/imprint").path

    public let folder: TemporaryDirectory
    public let inventory: String
    public let library: String
    public let adminToken: String
    public let adminTokenFile: String
    public let port: Int
    public private(set) var pid: pid_t?

    public var url: String { "http://127.0.0.1:\(port)" }
    /// What the server printed, standard output and error together.
    public var log: String { folder.file("server.log") }

    /// Makes the inventory (with `setup` run against it through `imprint inventory ...` first) and starts the server.
    /// - Parameters:
    ///   - setup: `imprint` command lines (without the binary and without `--inventory`), run in order before start.
    public init(setup: [[String]] = [], extraArguments: [String] = []) throws {
        folder = try TemporaryDirectory("imprint-server")
        inventory = folder.file("inventory.db")
        library = folder.file("library")
        adminTokenFile = folder.file("admin.token")
        try FileManager.default.createDirectory(atPath: library, withIntermediateDirectories: true)
        let initialized = try runProcess(Self.binary, ["init", "--inventory", inventory, "--admin-token-file", adminTokenFile])
        guard initialized.status == 0 else { throw TestSupportError("imprint-server init failed: \(initialized.error)") }
        adminToken = try String(contentsOfFile: adminTokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        for command in setup {
            let result = try runProcess(Self.imprint, command + ["--inventory", inventory])
            guard result.status == 0 else { throw TestSupportError("imprint \(command.joined(separator: " ")) failed: \(result.error)") }
        }
        port = try freeLoopbackPort()
        try start(extraArguments: extraArguments)
    }

    /// Starts the server (again, after `stop`) on the same port.
    public func start(extraArguments: [String] = []) throws {
        // Its output goes to `log`, which tests read (for secrets that must never be there).
        pid = try spawnDaemon(
            ["/bin/sh", "-c", #"log="$1"; shift; exec "$@" >>"$log" 2>&1"#, "sh", log,
             Self.binary, "serve", "--inventory", inventory, "--library", library, "--listen", "127.0.0.1:\(port)"]
                + extraArguments)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if canConnect(port: port) { return }
            guard isRunningChild(pid) else { throw TestSupportError("imprint-server exited at start") }
            usleep(50_000)
        }
        throw TestSupportError("imprint-server did not listen on port \(port) within 20 s")
    }

    public func stop() {
        guard let pid else { return }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<100 {
            if waitpid(pid, &status, WNOHANG) != 0 { break }
            usleep(50_000)
        }
        if isRunningChild(pid) {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        self.pid = nil
    }

    deinit { stop() }

    /// An admin request with the admin token.
    public func admin(_ method: String, _ path: String, json: String? = nil) throws -> HTTPAnswer {
        try httpRequest(method, url + path, headers: ["Authorization": "Bearer \(adminToken)"], body: json.map { Data($0.utf8) })
    }
}

/// What an HTTP request got back.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// A header by name, in any case.
    public func header(_ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }
}

/// One HTTP request through Foundation's URLSession (libcurl underneath), waited for.
public func httpRequest(
    _ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil, timeout: TimeInterval = 60
) throws -> HTTPAnswer {
    guard let target = URL(string: url) else { throw TestSupportError("not a URL: \(url)") }
    var request = URLRequest(url: target, timeoutInterval: timeout)
    request.httpMethod = method
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    request.httpBody = body
    if body != nil && headers["Content-Type"] == nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var outcome: Result<HTTPAnswer, any Error> = .failure(TestSupportError("no answer"))
    let session = URLSession(configuration: .ephemeral)
    session.dataTask(with: request) { data, response, error in
        if let error {
            outcome = .failure(error)
        } else if let response = response as? HTTPURLResponse {
            var fields: [String: String] = [:]
            for (key, value) in response.allHeaderFields { fields["\(key)"] = "\(value)" }
            outcome = .success(HTTPAnswer(status: response.statusCode, headers: fields, body: data ?? Data()))
        }
        done.signal()
    }.resume()
    done.wait()
    session.finishTasksAndInvalidate()
    return try outcome.get()
}

/// A loopback TCP port nobody listens on now.
public func freeLoopbackPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw TestSupportError("socket: errno \(errno)") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
        }
    }
    guard bound else { throw TestSupportError("bind: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether something accepts connections on the loopback port.
public func canConnect(port: Int) -> Bool {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

import Foundation
import Glibc

/// A TCP proxy on a free loopback port that forwards every connection to a server's loopback port and breaks
/// (resets) the first few connections that carry more than a number of bytes from the server: a network that drops
/// a long download part-way, as many times as the test says. Stopped when released.
public final class CuttingProxy: Sendable {
    private let forwarder: Forwarder
    public var port: Int { forwarder.port }
    public var url: String { "http://127.0.0.1:\(port)" }

    /// - Parameters:
    ///   - target: the loopback port to forward to.
    ///   - cutAfter: the bytes from the server a connection carries before it is broken.
    ///   - times: how many connections are broken; later ones are forwarded whole.
    ///   - beforeCut: called with the cut's number (1, 2, ...) just before it breaks a connection.
    public init(to target: Int, cutAfter: Int, times: Int, beforeCut: @escaping @Sendable (Int) -> Void = { _ in }) throws {
        forwarder = try Forwarder(to: target, cutAfter: cutAfter, times: times, beforeCut: beforeCut)
    }

    /// How many connections the proxy broke.
    public var cuts: Int { forwarder.cuts }

    // The forwarder's threads hold it, not this owner, so releasing the owner stops them.
    deinit { forwarder.stop() }
}

private final class Forwarder: @unchecked Sendable {
    let port: Int
    private let target: Int
    private let cutAfter: Int
    private let lock = NSLock()
    private var cutsLeft: Int
    private var made = 0
    private let listener: Int32
    private let beforeCut: @Sendable (Int) -> Void
    private var stopped = false

    init(to target: Int, cutAfter: Int, times: Int, beforeCut: @escaping @Sendable (Int) -> Void) throws {
        self.target = target
        self.cutAfter = cutAfter
        self.cutsLeft = times
        self.beforeCut = beforeCut
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw TestSupportError("socket: errno \(errno)") }
        self.listener = listener
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 16) == 0 && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else {
            close(listener)
            throw TestSupportError("the proxy cannot listen: errno \(errno)")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let accepting = Thread { [self] in acceptLoop() }
        accepting.start()
    }

    var cuts: Int { lock.withLock { made } }

    func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = loopback(port: target)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            guard server >= 0, connected else {
                close(client)
                if server >= 0 { close(server) }
                continue
            }
            let connection = Connection(client: client, server: server)
            Thread { [self] in pump(connection, fromServer: false) }.start()
            Thread { [self] in pump(connection, fromServer: true) }.start()
        }
    }

    /// The two sockets of one forwarded connection, closed once both directions are done.
    private final class Connection: @unchecked Sendable {
        let client: Int32
        let server: Int32
        private let lock = NSLock()
        private var open = 2

        init(client: Int32, server: Int32) {
            self.client = client
            self.server = server
        }

        /// Breaks both sides at once: a reset, as a dropped link looks to the client once it notices.
        func reset() {
            var hard = linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &hard, socklen_t(MemoryLayout<linger>.size))
            shutdown(client, Int32(SHUT_RDWR))
            shutdown(server, Int32(SHUT_RDWR))
        }

        func finished() {
            let last = lock.withLock {
                open -= 1
                return open == 0
            }
            if last {
                close(client)
                close(server)
            }
        }
    }

    private func pump(_ connection: Connection, fromServer: Bool) {
        defer { connection.finished() }
        let source = fromServer ? connection.server : connection.client
        let sink = fromServer ? connection.client : connection.server
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var carried = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                shutdown(sink, Int32(SHUT_WR))
                return
            }
            var forward = count
            var cut: Int?
            if fromServer && carried + count > cutAfter {
                cut = lock.withLock {
                    guard cutsLeft > 0 else { return nil }
                    cutsLeft -= 1
                    made += 1
                    return made
                }
                if cut != nil { forward = cutAfter - carried }
            }
            if !sendAll(sink, buffer, count: forward) { return }
            carried += forward
            if let cut {
                beforeCut(cut)
                connection.reset()
                return
            }
        }
    }

    private func sendAll(_ socket: Int32, _ bytes: [UInt8], count: Int) -> Bool {
        var offset = 0
        while offset < count {
            let sent = bytes.withUnsafeBytes { send(socket, $0.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }
}

private func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return address
}

import Foundation
import Glibc

/// Writes restored files' data and finishes them on a thread of its own, in the order given, so the thread that
/// reads the tar stream goes on while the kernel copies the data (most of a restore's time). At most `limit` bytes
/// wait; the first failure is thrown by the next call, and what was queued after it only closes its files.
final class DataWriter: @unchecked Sendable {
    private enum Work {
        /// Bytes to write at an offset of an open file.
        case write(descriptor: Int32, bytes: ArraySlice<UInt8>, offset: UInt64, path: [UInt8])
        /// Anything else for a file, in order with its writes (set its metadata, close it).
        case run(() throws -> Void)
    }

    private let condition = NSCondition()
    private var queue: [Work] = []
    private var waiting = 0
    private var busy = false
    private var failure: (any Error)?
    private var failedWrite: [UInt8]?
    private var closed = false
    /// The thread waits for work: it is woken only for a batch worth a switch (or by drain and close).
    private var idle = false
    private let limit: Int
    private static let batchItems = 256
    private static let batchBytes = 1 << 20

    init(limit: Int = 8 << 20) {
        self.limit = limit
        let thread = Thread { self.loop() }
        thread.start()
    }

    /// Queues `bytes` to be written to `descriptor` at `offset`; `path` (relative to the root) is for the message.
    func write(_ descriptor: Int32, _ bytes: ArraySlice<UInt8>, at offset: UInt64, path: [UInt8]) throws {
        try enqueue(.write(descriptor: descriptor, bytes: bytes, offset: offset, path: path), size: bytes.count)
    }

    /// Queues `body`, run after everything queued before it. It must also run when an earlier item failed (close
    /// what it opened): its own error is then dropped.
    func run(_ body: @escaping () throws -> Void) throws { try enqueue(.run(body), size: 0) }

    /// Waits until everything queued is done; throws the first failure.
    func drain() throws {
        condition.lock()
        defer { condition.unlock() }
        condition.broadcast()
        while !queue.isEmpty || busy { condition.wait() }
        if let failure { throw failure }
    }

    /// The path of the file whose data could not be written (the disk full), so it can be removed.
    var failedPath: [UInt8]? { condition.withLock { failedWrite } }

    /// Lets the thread end once the queue is empty. Call it once, when done (also on errors).
    func close() {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
    }

    private func enqueue(_ work: Work, size: Int) throws {
        condition.lock()
        defer { condition.unlock() }
        while waiting > limit && failure == nil {
            condition.broadcast()
            condition.wait()
        }
        if let failure { throw failure }
        queue.append(work)
        waiting += size
        if idle && (queue.count >= Self.batchItems || waiting >= Self.batchBytes) { condition.broadcast() }
    }

    private func loop() {
        becomeBatchThread()
        condition.lock()
        while true {
            idle = true
            while queue.isEmpty && !closed { condition.wait() }
            idle = false
            if queue.isEmpty {
                condition.unlock()
                return
            }
            let batch = queue
            queue = []
            busy = true
            var failed = failure != nil
            condition.unlock()
            var written = 0
            for work in batch {
                do {
                    switch work {
                    case let .write(descriptor, bytes, offset, path):
                        written += bytes.count
                        if !failed { try Self.write(descriptor, bytes, offset, path) }
                    case .run(let body):
                        try body()
                    }
                } catch {
                    if !failed {
                        failed = true
                        condition.withLock {
                            failure = error
                            if case let .write(_, _, _, path) = work { failedWrite = path }
                        }
                    }
                }
                if written >= 1 << 20 {
                    condition.withLock {
                        waiting -= written
                        condition.broadcast()
                    }
                    written = 0
                }
            }
            condition.lock()
            waiting -= written
            busy = false
            condition.broadcast()
        }
    }

    private static func write(_ descriptor: Int32, _ bytes: ArraySlice<UInt8>, _ offset: UInt64, _ path: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let count = pwrite(descriptor, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
                if count < 0 {
                    if errno == EINTR { continue }
                    throw ImageError.io(path: "/" + displayPath(path), operation: "write", errno: errno)
                }
                done += count
            }
        }
    }
}

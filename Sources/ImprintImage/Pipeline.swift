import Foundation

/// Work done on several threads and handed back in the order it was submitted, with at most `capacity` items in
/// flight (so memory stays bounded whatever the image's size). Either one thread submits and takes (`submit`,
/// `take`: when the pipeline is full it takes the oldest result before it submits again), or one thread submits
/// with `submitWaiting` while another takes with `next`.
final class OrderedPipeline<Input: Sendable, Output: Sendable>: @unchecked Sendable {
    let capacity: Int
    private let condition = NSCondition()
    private var queue: [(Int, Input)] = []
    private var results: [Int: Result<Output, any Error>] = [:]
    private var submitted = 0
    private var taken = 0
    private var closed = false
    private var inputFinished = false
    private let work: @Sendable (Input) throws -> Output

    /// How many blocks of `blockSize` an image pipeline keeps in flight for `threads` workers: enough that the
    /// workers go on while the thread that feeds them is not scheduled for a while (a machine shared with other
    /// work). With 1 MiB blocks (about 2 MiB each in flight, content and compressed) that is 4 per worker and 2
    /// more; larger blocks get about as many mebibytes in fewer blocks, but never fewer than one per worker and
    /// two more. A block size below 1 MiB counts as 1 MiB: a reader takes it from the manifest, which could lie.
    static func capacity(threads: Int, blockSize: Int) -> Int {
        let mebibytes = (min(max(blockSize, 1 << 20), MemberHeader.maxContent) + (1 << 20) - 1) >> 20
        return max(threads + 2, (threads * 4 + 2) / mebibytes)
    }

    init(threads: Int, capacity: Int, work: @escaping @Sendable (Input) throws -> Output) {
        self.capacity = max(capacity, 1)
        self.work = work
        for _ in 0..<max(threads, 1) {
            let thread = Thread { self.workLoop() }
            thread.start()
        }
    }

    /// Whether `take()` must come before the next `submit`.
    var isFull: Bool { condition.withLock { submitted - taken >= capacity } }

    /// Whether results are still owed.
    var isEmpty: Bool { condition.withLock { submitted == taken } }

    func submit(_ input: Input) {
        condition.withLock {
            queue.append((submitted, input))
            submitted += 1
            condition.broadcast()
        }
    }

    /// Waits while `capacity` items are in flight (another thread takes them with `next()`), then submits; once
    /// the pipeline is closed it submits at once (nothing will run it).
    func submitWaiting(_ input: Input) {
        condition.withLock {
            while submitted - taken >= capacity && !closed { condition.wait() }
            queue.append((submitted, input))
            submitted += 1
            condition.broadcast()
        }
    }

    /// No more input will be submitted: `next()` returns nil once everything is taken.
    func finishInput() {
        condition.withLock {
            inputFinished = true
            condition.broadcast()
        }
    }

    /// For a thread that takes the results while another submits: the oldest result, waiting for it; nil once
    /// the input is finished and everything taken, or as soon as the pipeline is closed (results not yet taken are
    /// dropped: the work was given up).
    func next() -> Result<Output, any Error>? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if closed { return nil }
            if let result = results.removeValue(forKey: taken) {
                taken += 1
                condition.broadcast()
                return result
            }
            if inputFinished && taken == submitted { return nil }
            condition.wait()
        }
    }

    /// The oldest result, waiting for it; nil when nothing is in flight.
    func take() -> Result<Output, any Error>? {
        condition.lock()
        defer { condition.unlock() }
        guard taken < submitted else { return nil }
        while results[taken] == nil { condition.wait() }
        let result = results.removeValue(forKey: taken)
        taken += 1
        return result
    }

    /// Lets the worker threads end once the queue is empty. Call it once, when done (also on errors).
    func close() {
        condition.withLock {
            closed = true
            queue.removeAll()
            condition.broadcast()
        }
    }

    private func workLoop() {
        becomeBatchThread()
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            if queue.isEmpty {
                condition.unlock()
                return
            }
            let (number, input) = queue.removeFirst()
            condition.unlock()
            let result = Result { try work(input) }
            condition.withLock {
                results[number] = result
                condition.broadcast()
            }
        }
    }
}

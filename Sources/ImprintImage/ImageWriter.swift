import Crypto
import Foundation
import Glibc

/// Where an image goes: a file descriptor written in order.
final class OutputFile {
    let descriptor: Int32
    let name: String
    private(set) var offset: UInt64 = 0

    init(descriptor: Int32, name: String) {
        self.descriptor = descriptor
        self.name = name
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let count = Glibc.write(descriptor, raw.baseAddress! + done, raw.count - done)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw ImageError.io(path: name, operation: "write the image to", errno: errno)
                }
                done += count
            }
        }
        offset += UInt64(bytes.count)
    }
}

/// Cuts the tar stream into blocks, compresses them on every core and writes them in order on a thread of its own,
/// then writes the summary, the block index and the tail. The thread that walks the tree only reads files into
/// blocks (hashing those that span blocks): with a fast codec it is the one everything else waits for.
final class ImageWriter {
    private struct Job: Sendable {
        var sequence: UInt64
        var buffer: BlockBuffer
        var count: Int
        var checksums: [PendingChecksum]
    }

    /// A file's checksum as the walk records it: made already (its data spans blocks), or left to the worker that
    /// compresses the block holding all of its data (most files: hashing is then spread over the cores).
    private enum PendingChecksum: Sendable {
        case made(FileChecksum)
        case inBlock(offset: UInt64, range: Range<Int>)
    }

    let blockSize: Int
    let codec: ImageCodec
    private let output: OutputFile
    private let pipeline: OrderedPipeline<Job, FinishedMember>
    private let buffers: BlockBuffers
    private let members: MemberWriter
    private var block: BlockBuffer
    private var used = 0
    private var checksums: [PendingChecksum] = []
    private var sequence: UInt64 = 0
    /// The offset in the tar stream of the next byte appended.
    private(set) var tarOffset: UInt64 = 0
    private(set) var dataBlocks = 0
    /// Called with the count of each piece of file data appended, so progress moves inside a large file.
    var dataAppended: ((UInt64) -> Void)?

    /// The keys when the image is encrypted.
    let key: ImageKey?

    init(output: OutputFile, manifest: ImageManifest, level: Int32, threads: Int, blockSize: Int, key: ImageKey? = nil) throws {
        self.key = key
        self.output = output
        self.blockSize = blockSize
        guard let codec = ImageCodec(rawValue: manifest.codec) else {
            throw ImageError.invalid(value: manifest.codec, reason: "the codec must be gzip or zstd")
        }
        self.codec = codec
        let buffers = BlockBuffers(size: blockSize)
        self.buffers = buffers
        block = buffers.take()
        let pool = CompressorPool()
        pipeline = OrderedPipeline(threads: threads, capacity: OrderedPipeline<Int, Int>.capacity(threads: threads, blockSize: blockSize)) { job in
            let content = UnsafeRawBufferPointer(rebasing: job.buffer.bytes[0..<job.count])
            let checksums = job.checksums.map { pending in
                switch pending {
                case .made(let checksum): return checksum
                case .inBlock(let offset, let range):
                    var hasher = FileHasher(key: key)
                    hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: content[range]))
                    return FileChecksum(offset: offset, sha256: hasher.finalize())
                }
            }
            defer { buffers.give(job.buffer) }
            let header = MemberHeader(codec: codec, kind: .data, sequence: job.sequence, compressedLength: 0, size: job.count, checksums: checksums)
            let member = try Member.make(header, content: content, level: level, key: key, pool: pool)
            return FinishedMember(member: member, size: job.count, sha256: Array(SHA256.hash(data: member)))
        }
        members = MemberWriter(output: output)
        for member in try Member.metadata(.manifest, try ImageJSON.encode(manifest), firstSequence: 0, codec: codec) {
            try members.write(member, size: 0)
            sequence += 1
        }
        members.start(pipeline)
    }

    /// After an error, as after `finish`: the workers stop, and the writer thread has ended before the caller
    /// closes or removes the output, so no member is written after the capture returned.
    deinit {
        pipeline.close()
        members.join()
    }

    /// Appends tar bytes (headers, padding).
    func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                try makeRoom()
                let count = min(raw.count - done, blockSize - used)
                (block.bytes.baseAddress! + used).copyMemory(from: raw.baseAddress! + done, byteCount: count)
                used += count
                done += count
            }
        }
        tarOffset += UInt64(bytes.count)
    }

    /// Appends a file's `count` bytes read from `descriptor` and records their checksum: hashed by the worker when
    /// they all fit in the current block, here otherwise. Returns how many bytes the file really had.
    func appendFile(_ descriptor: Int32, count: UInt64, path: String) throws -> UInt64 {
        guard count > 0 else { return 0 }
        let start = tarOffset
        if count <= UInt64(blockSize - used) {
            let range = used..<(used + Int(count))
            let read = try appendData(descriptor, count: count, hasher: nil, path: path)
            checksums.append(.inBlock(offset: start, range: range))
            return read
        }
        var hasher = makeHasher()
        let read = try appendData(descriptor, count: count, hasher: &hasher, path: path)
        recordChecksum(dataOffset: start, sha256: hasher.finalize())
        return read
    }

    /// Appends `count` bytes read from `descriptor` (at `start`, or where it stands) straight into the block,
    /// hashing them with `hasher` when given, and records no checksum; a file that ends early is padded with zeros.
    /// Returns how many bytes the file really had.
    func appendData(_ descriptor: Int32, count: UInt64, offset start: UInt64? = nil, hasher: UnsafeMutablePointer<FileHasher>?, path: String) throws -> UInt64 {
        var remaining = count
        var read: UInt64 = 0
        var position = start.map { off_t($0) }
        var ended = false
        while remaining > 0 {
            try makeRoom()
            let want = Int(min(remaining, UInt64(blockSize - used)))
            let pointer = block.bytes.baseAddress! + used
            var got = 0
            if !ended {
                got = position.map { pread(descriptor, pointer, want, $0) } ?? Glibc.read(descriptor, pointer, want)
                if got < 0 {
                    if errno == EINTR { continue }
                    throw ImageError.io(path: path, operation: "read", errno: errno)
                }
            }
            if got == 0 {
                // The file shrank while it was read: pad with zeros so the stream stays well-formed.
                ended = true
                got = want
                pointer.initializeMemory(as: UInt8.self, repeating: 0, count: want)
            } else {
                read += UInt64(got)
                position = position.map { $0 + off_t(got) }
            }
            hasher?.pointee.update(bufferPointer: UnsafeRawBufferPointer(start: pointer, count: got))
            used += got
            remaining -= UInt64(got)
            tarOffset += UInt64(got)
            dataAppended?(UInt64(got))
        }
        return read
    }

    /// A hasher for one file's checksum (keyed in an encrypted image).
    func makeHasher() -> FileHasher { FileHasher(key: key) }

    /// Records the SHA-256 of a file whose data ends at the current position (it belongs to the current block).
    func recordChecksum(dataOffset: UInt64, sha256: [UInt8]) {
        checksums.append(.made(FileChecksum(offset: dataOffset, sha256: sha256)))
    }

    /// Seals the current block early when its checksum list is nearly full, before a new entry starts.
    func startEntry() throws {
        if checksums.count >= MemberHeader.maxChecksums - 1 { try seal() }
    }

    /// Writes the remaining blocks, the summary, the index and the tail.
    func finish(summary: ImageSummary) throws {
        if used > 0 || dataBlocks == 0 { try seal() }
        pipeline.finishInput()
        try members.wait()
        var summary = summary
        summary.tarBytes = tarOffset
        summary.blocks = dataBlocks
        for member in try Member.metadata(.summary, try ImageJSON.encode(summary), firstSequence: sequence, codec: codec) {
            try members.write(member, size: 0)
            sequence += 1
        }
        let tail = ImageTail(indexOffset: output.offset, indexSequence: sequence)
        let indexBytes = members.index.flatMap { $0.encoded() }
        for member in try Member.metadata(.index, indexBytes, firstSequence: sequence, codec: codec) {
            try output.write(member)
            sequence += 1
        }
        let tailMember = try Member.metadata(.tail, tail.encoded(), firstSequence: sequence, codec: codec)
        try output.write(tailMember[0])
        pipeline.close()
    }

    private func makeRoom() throws {
        if used == blockSize { try seal() }
    }

    private func seal() throws {
        try members.check()
        pipeline.submitWaiting(Job(sequence: sequence, buffer: block, count: used, checksums: checksums))
        block = buffers.take()
        sequence += 1
        dataBlocks += 1
        checksums = []
        used = 0
    }
}

/// The memory of one block, allocated once and filled again once its member is made.
final class BlockBuffer: @unchecked Sendable {
    let bytes: UnsafeMutableRawBufferPointer

    init(size: Int) { bytes = .allocate(byteCount: size, alignment: 64) }

    deinit { bytes.deallocate() }
}

/// The block buffers not in use: as many are made as blocks are in flight, then used again (a new one per block
/// costs a page fault for every 4 KiB read into it).
final class BlockBuffers: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [BlockBuffer] = []
    let size: Int

    init(size: Int) { self.size = size }

    func take() -> BlockBuffer { lock.withLock { idle.popLast() } ?? BlockBuffer(size: size) }

    func give(_ buffer: BlockBuffer) { lock.withLock { idle.append(buffer) } }
}

/// A block's member, made by a worker, with what the block index records of it.
private struct FinishedMember: Sendable {
    var member: [UInt8]
    var size: Int
    var sha256: [UInt8]
}

/// Writes members to the image in order and keeps the block index: on the calling thread before `start` and after
/// `wait`, on a thread of its own in between. After a failed write that thread goes on taking members (and drops
/// them), so the walking thread never waits for room; it sees the error at its next block.
private final class MemberWriter: @unchecked Sendable {
    private let output: OutputFile
    private let condition = NSCondition()
    /// An entry for every member written; read it after `wait`.
    private(set) var index: [BlockIndexEntry] = []
    private var failure: (any Error)?
    private var running = false

    init(output: OutputFile) { self.output = output }

    /// Writes `member` (of `size` content bytes) and indexes it.
    func write(_ member: [UInt8], size: Int) throws {
        try write(FinishedMember(member: member, size: size, sha256: sha256Of(member)))
    }

    private func write(_ done: FinishedMember) throws {
        index.append(BlockIndexEntry(offset: output.offset, length: UInt32(done.member.count), size: UInt32(done.size), sha256: done.sha256))
        try output.write(done.member)
    }

    /// Starts the thread that writes what `pipeline` hands back, until its input is finished or it is closed.
    func start(_ pipeline: OrderedPipeline<some Sendable, FinishedMember>) {
        running = true
        let thread = Thread { [self] in
            while let result = pipeline.next() {
                guard !failed else { continue }
                do {
                    try write(try result.get())
                } catch {
                    condition.withLock { failure = error }
                }
            }
            condition.withLock {
                running = false
                condition.broadcast()
            }
        }
        thread.start()
    }

    private var failed: Bool { condition.withLock { failure != nil } }

    /// Throws the error of a failed write (or of a failed block), if there was one.
    func check() throws {
        if let failure = condition.withLock({ failure }) { throw failure }
    }

    /// Waits until the thread has ended (the pipeline's input finished or the pipeline closed).
    func join() {
        condition.withLock {
            while running { condition.wait() }
        }
    }

    /// Waits until the thread has written every member; throws the first error.
    func wait() throws {
        join()
        try check()
    }
}

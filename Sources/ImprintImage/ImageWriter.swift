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

/// Cuts the tar stream into blocks, compresses them on every core and writes them in order, then writes the
/// summary, the block index and the tail.
final class ImageWriter {
    private struct Job: Sendable {
        var header: MemberHeader
        var content: [UInt8]
    }

    private struct Done: Sendable {
        var member: [UInt8]
        var size: Int
        var sha256: [UInt8]
    }

    let blockSize: Int
    let codec: ImageCodec
    private let output: OutputFile
    private let pipeline: OrderedPipeline<Job, Done>
    private var block: [UInt8]
    private var used = 0
    private var checksums: [FileChecksum] = []
    private var sequence: UInt64 = 0
    private var index: [BlockIndexEntry] = []
    /// The offset in the tar stream of the next byte appended.
    private(set) var tarOffset: UInt64 = 0
    private(set) var dataBlocks = 0

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
        block = uninitializedBytes(blockSize)
        let contexts = ZstdContexts()
        pipeline = OrderedPipeline(threads: threads, capacity: OrderedPipeline<Int, Int>.capacity(threads: threads)) { job in
            let member = try job.content.withUnsafeBytes { try Member.make(job.header, content: $0, level: level, key: key, contexts: contexts) }
            return Done(member: member, size: job.content.count, sha256: Array(SHA256.hash(data: member)))
        }
        for member in try Member.metadata(.manifest, try ImageJSON.encode(manifest), firstSequence: 0, codec: codec) {
            try writeMember(member, size: 0)
        }
    }

    deinit { pipeline.close() }

    /// Appends tar bytes (headers, padding).
    func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                try makeRoom()
                let count = min(raw.count - done, blockSize - used)
                block.withUnsafeMutableBytes { target in
                    (target.baseAddress! + used).copyMemory(from: raw.baseAddress! + done, byteCount: count)
                }
                used += count
                done += count
            }
        }
        tarOffset += UInt64(bytes.count)
    }

    /// Appends `count` bytes read from `descriptor` straight into the block, hashing them; a file that ends early
    /// is padded with zeros. Returns how many bytes the file really had.
    func appendFile(_ descriptor: Int32, count: UInt64, offset start: UInt64? = nil, hasher: inout FileHasher, path: String) throws -> UInt64 {
        var remaining = count
        var read: UInt64 = 0
        var position = start.map { off_t($0) }
        var ended = false
        while remaining > 0 {
            try makeRoom()
            let want = Int(min(remaining, UInt64(blockSize - used)))
            var got = 0
            if !ended {
                got = block.withUnsafeMutableBytes { target -> Int in
                    let pointer = target.baseAddress! + used
                    if let at = position { return pread(descriptor, pointer, want, at) }
                    return Glibc.read(descriptor, pointer, want)
                }
                if got < 0 {
                    if errno == EINTR { continue }
                    throw ImageError.io(path: path, operation: "read", errno: errno)
                }
            }
            if got == 0 {
                // The file shrank while it was read: pad with zeros so the stream stays well-formed.
                ended = true
                got = want
                block.withUnsafeMutableBytes { target in _ = (target.baseAddress! + used).initializeMemory(as: UInt8.self, repeating: 0, count: want) }
            } else {
                read += UInt64(got)
                position = position.map { $0 + off_t(got) }
            }
            block.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[used..<(used + got)])) }
            used += got
            remaining -= UInt64(got)
            tarOffset += UInt64(got)
        }
        return read
    }

    /// A hasher for one file's checksum (keyed in an encrypted image).
    func makeHasher() -> FileHasher { FileHasher(key: key) }

    /// Records the SHA-256 of a file whose data ends at the current position (it belongs to the current block).
    func recordChecksum(dataOffset: UInt64, sha256: [UInt8]) {
        checksums.append(FileChecksum(offset: dataOffset, sha256: sha256))
    }

    /// Seals the current block early when its checksum list is nearly full, before a new entry starts.
    func startEntry() throws {
        if checksums.count >= MemberHeader.maxChecksums - 1 { try seal() }
    }

    /// Writes the remaining blocks, the summary, the index and the tail.
    func finish(summary: ImageSummary) throws {
        if used > 0 || dataBlocks == 0 { try seal() }
        try drain(all: true)
        var summary = summary
        summary.tarBytes = tarOffset
        summary.blocks = dataBlocks
        let summaryMembers = try Member.metadata(.summary, try ImageJSON.encode(summary), firstSequence: sequence, codec: codec)
        for member in summaryMembers { try writeMember(member, size: 0) }
        let tail = ImageTail(indexOffset: output.offset, indexSequence: sequence)
        let indexBytes = index.flatMap { $0.encoded() }
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
        var content = block
        block = uninitializedBytes(blockSize)
        if used < blockSize { content.removeSubrange(used...) }
        let header = MemberHeader(codec: codec, kind: .data, sequence: sequence, compressedLength: 0, size: used, checksums: checksums)
        sequence += 1
        dataBlocks += 1
        checksums = []
        used = 0
        try drain(all: false)
        pipeline.submit(Job(header: header, content: content))
    }

    /// Writes finished members in order: all of them, or just enough to make room for one more job.
    private func drain(all: Bool) throws {
        while all ? !pipeline.isEmpty : pipeline.isFull {
            guard let result = pipeline.take() else { return }
            let done = try result.get()
            index.append(BlockIndexEntry(offset: output.offset, length: UInt32(done.member.count), size: UInt32(done.size), sha256: done.sha256))
            try output.write(done.member)
        }
    }

    private func writeMember(_ member: [UInt8], size: Int) throws {
        index.append(BlockIndexEntry(offset: output.offset, length: UInt32(member.count), size: UInt32(size), sha256: sha256Of(member)))
        try output.write(member)
        sequence += 1
    }
}

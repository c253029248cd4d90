import Crypto
import Foundation
import Glibc
import ImprintCore

/// What to capture and how.
public struct CaptureRequest: Sendable {
    public var root: String
    public var models: [String]
    public var codec: ImageCodec
    public var level: Int
    public var threads: Int
    public var blockSize: Int
    /// The generalize operations to run (`GeneralizeOperation.chosen(by:)`); empty: the tree is imaged as it is.
    public var operations: [GeneralizeOperation]
    /// fnmatch patterns: one with a slash matches the path from the root ("/var/cache/*"), one without matches a name.
    public var excludes: [String]
    public var oneFileSystem: Bool
    public var tool: String
    public var time: Date
    /// Encrypts the data blocks with a key made from this passphrase.
    public var passphrase: String?
    /// scrypt's N for the key: a power of two, 2^15 (32 MiB, about 0.1 s) unless a test needs it cheap.
    public var keyRounds = 1 << 15
    /// A file never captured: the image being written, when it is inside the root.
    public var skip: (device: UInt64, inode: UInt64)?
    /// The disk the root was mounted from (its file systems under one folder), for a whole-disk image.
    public var disk: (path: String, layout: DiskLayout)?

    public init(
        root: String, models: [String], codec: ImageCodec = .gzip, level: Int? = nil, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
        blockSize: Int? = nil, generalize: Bool = false, excludes: [String] = [], oneFileSystem: Bool = false,
        tool: String, time: Date = Date()
    ) {
        self.root = root
        self.models = models
        self.codec = codec
        self.level = level ?? codec.defaultLevel
        self.threads = threads
        self.blockSize = blockSize ?? codec.defaultBlockSize
        operations = generalize ? GeneralizeOperation.defaults : []
        self.excludes = excludes
        self.oneFileSystem = oneFileSystem
        self.tool = tool
        self.time = time
    }
}

extension CaptureRequest {
    /// Whether --exclude leaves out the entry at `path` (relative to the root, no leading slash).
    func isExcluded(_ path: [UInt8]) -> Bool {
        excludes.contains { pattern in
            if pattern.contains("/") {
                return matches(pattern.hasPrefix("/") ? pattern : "/" + pattern, [UInt8(ascii: "/")] + path)
            }
            return matches(pattern, TarFormat.lastComponent(path))
        }
    }

    /// Whether the capture generalizes.
    public var generalize: Bool { !operations.isEmpty }
}

public struct CaptureResult: Sendable {
    public var manifest: ImageManifest
    public var summary: ImageSummary
    /// The image's size in bytes.
    public var imageBytes: UInt64
}

/// Capture: a root file system into an image (see FORMAT.md).
public enum Capture {
    /// Writes the image of `request.root` to `descriptor`.
    /// - Parameters:
    ///   - name: the output's name, for messages.
    ///   - progress: called with the bytes of file data read so far.
    public static func run(
        _ request: CaptureRequest, to descriptor: Int32, name: String, progress: ((UInt64) -> Void)? = nil
    ) throws -> CaptureResult {
        guard request.codec.levels.contains(request.level) else {
            throw ImageError.invalid(
                value: String(request.level),
                reason: "the \(request.codec.rawValue) level must be \(request.codec.levels.lowerBound) (fastest) to \(request.codec.levels.upperBound) (smallest)")
        }
        guard (TarFormat.blockSize...MemberHeader.maxContent).contains(request.blockSize) else {
            throw ImageError.invalid(
                value: String(request.blockSize),
                reason: "the block size must be \(TarFormat.blockSize) to \(MemberHeader.maxContent) bytes, or readers refuse the image")
        }
        let root = try TargetRoot(request.root)
        // A root whose restore was cut short holds files that may be incomplete: an image of it would spread them.
        try root.checkRestoreFinished()
        var manifest = ImageManifest(
            tool: request.tool, created: request.time, models: request.models, codec: request.codec.rawValue, level: request.level,
            blockSize: request.blockSize, source: request.disk?.path ?? root.path,
            generalized: request.operations.map(\.name), excluded: request.excludes)
        manifest.disk = request.disk?.layout
        var key: ImageKey?
        if let passphrase = request.passphrase {
            let (encryption, made) = try ImageKey.create(passphrase: passphrase, rounds: request.keyRounds)
            manifest.encryption = encryption
            key = made
        }
        let output = OutputFile(descriptor: descriptor, name: name)
        let writer = try ImageWriter(
            output: output, manifest: manifest, level: Int32(request.level), threads: max(1, request.threads),
            blockSize: request.blockSize, key: key)
        let walker = TreeWalker(request: request, root: root, writer: writer, progress: progress)
        try walker.walk()
        try writer.append([UInt8](repeating: 0, count: 2 * TarFormat.blockSize))
        try writer.finish(summary: walker.summary)
        var summary = walker.summary
        summary.tarBytes = writer.tarOffset
        summary.blocks = writer.dataBlocks
        return CaptureResult(manifest: manifest, summary: summary, imageBytes: output.offset)
    }
}

/// Walks the tree depth first, names sorted, and writes each entry to the image.
final class TreeWalker {
    private let request: CaptureRequest
    private let rootPath: [UInt8]
    private let writer: ImageWriter
    private let progress: ((UInt64) -> Void)?
    private let generalizer: Generalizer?
    private let users: [UInt32: [UInt8]]
    private let groups: [UInt32: [UInt8]]
    private var rootDevice: UInt64 = 0
    private var firstPaths: [HardLinkKey: [UInt8]] = [:]
    private(set) var summary = ImageSummary()
    /// The data of the file being read so far, for progress inside a large file.
    private var fileBytes: UInt64 = 0

    private struct HardLinkKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    init(request: CaptureRequest, root: TargetRoot, writer: ImageWriter, progress: ((UInt64) -> Void)?) {
        self.request = request
        rootPath = Array(root.path.utf8)
        self.writer = writer
        self.progress = progress
        generalizer = Generalizer(request.operations)
        users = Self.names(try? root.readFile("/etc/passwd"))
        groups = Self.names(try? root.readFile("/etc/group"))
        if let progress {
            writer.dataAppended = { [unowned self] count in
                fileBytes += count
                progress(summary.dataBytes + fileBytes)
            }
        }
    }

    func walk() throws {
        var info = stat()
        guard withCPath(rootPath, { lstat($0, &info) }) == 0 else {
            throw ImageError.io(path: displayPath(rootPath), operation: "inspect", errno: errno)
        }
        rootDevice = UInt64(info.st_dev)
        try visit([], host: rootPath, info: info, at: Place(folder: AT_FDCWD, name: rootPath, depth: 0))
    }

    /// Where an entry is for the calls that take a folder's descriptor and a name: one lookup instead of a walk of
    /// the whole path for each call (measured a tenth of a fast capture's system time). Deeper than
    /// `foldersKeptOpen`, `folder` is AT_FDCWD and `name` the whole path.
    private struct Place {
        var folder: Int32
        var name: [UInt8]
        /// Folders between the root and the entry.
        var depth: Int
    }

    /// How deep folders keep their descriptor open while their children are captured.
    static let foldersKeptOpen = 32

    /// `opened`: the entry's descriptor when its folder's loop opened it (a regular file), else -1; closed here.
    private func visit(_ path: [UInt8], host: [UInt8], info: stat, at place: Place, opened: Int32 = -1) throws {
        var descriptor = opened
        defer { if descriptor >= 0 { close(descriptor) } }
        let type = info.st_mode & S_IFMT
        if let skip = request.skip, UInt64(info.st_dev) == skip.device, UInt64(info.st_ino) == skip.inode { return }
        if type == S_IFSOCK {
            summary.socketsSkipped += 1
            return
        }
        var replacement: [UInt8]?
        if !path.isEmpty {
            let verdict = leftOutOrReplaced(path, type: type, at: place)
            if verdict.leftOut { return }
            replacement = verdict.replacement
        }
        var entry = tarEntry(path, info: info)
        let linkKey = type != S_IFDIR && info.st_nlink > 1 ? HardLinkKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)) : nil
        if let linkKey, let first = firstPaths[linkKey] { return try writeHardLink(entry, to: first) }
        // Folders and files read are opened once: their attributes come from the descriptor. A FIFO is never opened
        // on purpose (that would wait for a writer), nor a device, nor a mount point --one-file-system does not
        // enter (opening it could trigger an automount). O_NONBLOCK: a file replaced by a FIFO since it was listed
        // does not hang the capture. An entry removed since its folder was listed (a live root: logs rotated, caches
        // cleaned) is left out and named in the summary, as tar goes on past "file removed before we read it".
        let otherFileSystem = request.oneFileSystem && UInt64(info.st_dev) != rootDevice && !path.isEmpty
        if descriptor < 0 && ((type == S_IFDIR && !otherFileSystem) || (type == S_IFREG && replacement == nil)) {
            let flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (type == S_IFDIR ? O_DIRECTORY : 0)
            descriptor = withCPath(place.name) { openat(place.folder, $0, flags) }
            guard descriptor >= 0 else {
                if errno == ENOENT && !path.isEmpty { return summary.noteVanished(entry.displayPath) }
                throw ImageError.io(path: displayPath(host), operation: type == S_IFDIR ? "list the folder" : "open", errno: errno)
            }
        }
        entry.attributes = descriptor >= 0 ? readAttributes(descriptor: descriptor) : readAttributes(host)
        if type == S_IFLNK {
            guard let target = try readLink(at: place, host: host) else { return summary.noteVanished(entry.displayPath) }
            entry.linkTarget = target
        }
        if let linkKey { firstPaths[linkKey] = path }
        summary.entries += 1
        try writer.startEntry()

        switch type {
        case S_IFDIR:
            entry.kind = .directory
            summary.folders += 1
            try writer.append(TarFormat.headers(for: entry))
            if otherFileSystem { return }
            try visitChildren(of: path, host: host, descriptor: &descriptor, at: place)
        case S_IFREG:
            summary.files += 1
            if let replacement {
                try writeFile(entry, content: replacement)
            } else {
                try writeFile(entry, descriptor: descriptor, host: host, size: UInt64(info.st_size), allocated: UInt64(info.st_blocks) * 512)
            }
        default:
            try writeHeaderOnly(entry, type: type, info: info)
        }
    }

    /// An entry that is only a header: a symbolic link, a device or a FIFO (anything else is not imaged).
    private func writeHeaderOnly(_ entry: TarEntry, type: mode_t, info: stat) throws {
        var entry = entry
        switch type {
        case S_IFLNK:
            entry.kind = .symlink
            summary.symlinks += 1
        case S_IFCHR, S_IFBLK:
            entry.kind = type == S_IFCHR ? .characterDevice : .blockDevice
            entry.deviceMajor = DeviceNumber.major(UInt64(info.st_rdev))
            entry.deviceMinor = DeviceNumber.minor(UInt64(info.st_rdev))
            summary.devices += 1
        case S_IFIFO:
            entry.kind = .fifo
            summary.fifos += 1
        default:
            summary.entries -= 1
            return
        }
        try writer.append(TarFormat.headers(for: entry))
    }

    /// Whether --exclude or --generalize leaves the entry out (counted in the summary), and the content a
    /// generalize operation images in its place.
    private func leftOutOrReplaced(_ path: [UInt8], type: mode_t, at place: Place) -> (leftOut: Bool, replacement: [UInt8]?) {
        if isExcluded(path) {
            summary.excluded += 1
            return (true, nil)
        }
        let decision = generalizer?.decide(path, isFolder: type == S_IFDIR, isRegular: type == S_IFREG) {
            Generalizer.readText(folder: place.folder, name: place.name)
        }
        guard let decision else { return (false, nil) }
        summary.leftOut[decision.operation, default: 0] += 1
        return (decision.replacement == nil, decision.replacement)
    }

    /// The entry's header fields from its status: mode, owner (numbers and names), time.
    private func tarEntry(_ path: [UInt8], info: stat) -> TarEntry {
        var entry = TarEntry(path: path, kind: .file, mode: UInt32(info.st_mode & 0o7777))
        entry.uid = info.st_uid
        entry.gid = info.st_gid
        entry.userName = users[info.st_uid] ?? []
        entry.groupName = groups[info.st_gid] ?? []
        entry.seconds = Int64(info.st_mtim.tv_sec)
        entry.nanoseconds = Int64(info.st_mtim.tv_nsec)
        return entry
    }

    /// A second name of a file already imaged at `first`.
    private func writeHardLink(_ entry: TarEntry, to first: [UInt8]) throws {
        var entry = entry
        summary.entries += 1
        try writer.startEntry()
        entry.kind = .hardLink
        entry.linkTarget = Array("./".utf8) + first
        summary.hardLinks += 1
        try writer.append(TarFormat.headers(for: entry))
    }

    /// Visits the children of the folder open as `descriptor`, names sorted. Each folder on the way down keeps its
    /// descriptor open for its children, up to a depth: a tree can be deeper than the limit on open files, and below
    /// that depth the descriptor is closed (and set to -1) and children are looked up by their whole path.
    private func visitChildren(of path: [UInt8], host: [UInt8], descriptor: inout Int32, at place: Place) throws {
        let children = try listFolderWithTypes(descriptor, path: host)
        var folder = descriptor
        if place.depth >= Self.foldersKeptOpen {
            close(descriptor)
            descriptor = -1
            folder = AT_FDCWD
        }
        for (name, listedType) in children {
            let childPath = path.isEmpty ? name : path + [UInt8(ascii: "/")] + name
            let childHost = host + [UInt8(ascii: "/")] + name
            let child = Place(folder: folder, name: folder == AT_FDCWD ? childHost : name, depth: place.depth + 1)
            var childInfo = stat()
            // A file the listing calls regular is opened first and its status read from the descriptor: one
            // lookup of the name instead of two (fstatat was 5% of a zstd capture's CPU). Anything else, an
            // entry --exclude or --generalize may leave out (never opened), or one changed since the listing
            // takes the lookup by name. An entry replaced by a FIFO or device since the listing is opened
            // (O_NONBLOCK: no wait for a writer; O_NOCTTY: no terminal taken) and closed again at once.
            let leftOut = isLeftOut(childPath, isFolder: listedType == UInt8(DT_DIR))
            var opened: Int32 = -1
            if listedType == UInt8(DT_REG) && !leftOut {
                opened = withCPath(child.name) { openat(folder, $0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
                if opened >= 0 && (fstat(opened, &childInfo) != 0 || childInfo.st_mode & S_IFMT != S_IFREG) {
                    close(opened)
                    opened = -1
                }
            }
            if opened >= 0 {
                try visit(childPath, host: childHost, info: childInfo, at: child, opened: opened)
                continue
            }
            guard withCPath(child.name, { fstatat(folder, $0, &childInfo, AT_SYMLINK_NOFOLLOW) }) == 0 else {
                if errno == ENOENT {  // removed since the folder was listed
                    if !leftOut { summary.noteVanished(TarEntry.displayPath(of: childPath)) }
                    continue
                }
                throw ImageError.io(path: displayPath(childHost), operation: "inspect", errno: errno)
            }
            try visit(childPath, host: childHost, info: childInfo, at: child)
        }
    }

    /// A symbolic link's target; nil when the link was removed since its folder was listed.
    private func readLink(at place: Place, host: [UInt8]) throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = withCPath(place.name) { cName in
            buffer.withUnsafeMutableBufferPointer { readlinkat(place.folder, cName, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) }
        }
        if count < 0 && errno == ENOENT { return nil }
        guard count >= 0 else { throw ImageError.io(path: displayPath(host), operation: "read the link", errno: errno) }
        return Array(buffer[0..<count])
    }

    private func writeFile(_ entry: TarEntry, content: [UInt8]) throws {
        var entry = entry
        entry.size = UInt64(content.count)
        try writer.append(TarFormat.headers(for: entry))
        let start = writer.tarOffset
        try writer.append(content)
        var hasher = writer.makeHasher()
        hasher.update(data: content)
        if !content.isEmpty { writer.recordChecksum(dataOffset: start, sha256: hasher.finalize()) }
        try writer.append([UInt8](repeating: 0, count: TarFormat.padding(entry.size)))
        summary.dataBytes += entry.size
        progress?(summary.dataBytes)
    }

    private func writeFile(_ entry: TarEntry, descriptor: Int32, host: [UInt8], size: UInt64, allocated: UInt64) throws {
        var entry = entry
        fileBytes = 0
        defer { fileBytes = 0 }
        let segments = allocated < size ? Self.dataSegments(descriptor, size: size) : nil
        var read: UInt64 = 0
        let expected: UInt64
        if let segments {
            var map = segments
            if map.last.map({ $0.offset + $0.length }) != size { map.append(TarEntry.Segment(offset: size, length: 0)) }
            let mapBytes = TarFormat.sparseMap(map)
            expected = segments.reduce(0) { $0 + $1.length }
            entry.sparseSize = size
            entry.size = UInt64(mapBytes.count) + expected
            try writer.append(TarFormat.headers(for: entry))
            let start = writer.tarOffset
            var hasher = writer.makeHasher()
            hasher.update(data: mapBytes)
            try writer.append(mapBytes)
            for segment in segments {
                read += try writer.appendData(descriptor, count: segment.length, offset: segment.offset, hasher: &hasher, path: displayPath(host))
            }
            writer.recordChecksum(dataOffset: start, sha256: hasher.finalize())
            summary.sparseFiles += 1
        } else {
            expected = size
            entry.size = size
            try writer.append(TarFormat.headers(for: entry))
            read = try writer.appendFile(descriptor, count: size, path: displayPath(host))
        }
        if read != expected { summary.changedWhileRead.append(entry.displayPath) }
        try writer.append([UInt8](repeating: 0, count: TarFormat.padding(entry.size)))
        summary.dataBytes += expected
        progress?(summary.dataBytes)
    }

    /// The data segments of a file with holes, from SEEK_DATA and SEEK_HOLE; nil when it has no holes after all.
    static func dataSegments(_ descriptor: Int32, size: UInt64) -> [TarEntry.Segment]? {
        var segments: [TarEntry.Segment] = []
        var position: off_t = 0
        while UInt64(position) < size {
            let data = lseek(descriptor, position, 3 /* SEEK_DATA */)
            if data < 0 { break }  // ENXIO: only a hole remains
            let hole = lseek(descriptor, data, 4 /* SEEK_HOLE */)
            if hole < 0 { return nil }
            let end = min(UInt64(hole), size)
            segments.append(TarEntry.Segment(offset: UInt64(data), length: end - UInt64(data)))
            position = off_t(end)
        }
        lseek(descriptor, 0, SEEK_SET)
        let covered = segments.reduce(0) { $0 + $1.length }
        return covered < size ? segments : nil
    }

    /// Whether --exclude or --generalize may leave out (or replace) the entry at `path`: the folder loop does not
    /// open such an entry ahead of `visit`, nor report it when it vanished.
    private func isLeftOut(_ path: [UInt8], isFolder: Bool) -> Bool {
        isExcluded(path) || generalizer?.mayClear(path, isFolder: isFolder) == true
    }

    private func isExcluded(_ path: [UInt8]) -> Bool { request.isExcluded(path) }

    /// Names by number from an /etc/passwd or /etc/group text.
    static func names(_ data: Data?) -> [UInt32: [UInt8]] {
        guard let data else { return [:] }
        var result: [UInt32: [UInt8]] = [:]
        for line in data.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            guard fields.count >= 3, let number = UInt32(String(decoding: fields[2], as: UTF8.self)) else { continue }
            if result[number] == nil { result[number] = Array(fields[0]) }
        }
        return result
    }
}

import Foundation
import Glibc

/// What a capture will read: its regular files and their data bytes.
public struct CaptureSize: Sendable, Equatable {
    public var files = 0
    public var dataBytes: UInt64 = 0

    public init(files: Int = 0, dataBytes: UInt64 = 0) {
        self.files = files
        self.dataBytes = dataBytes
    }
}

extension Capture {
    /// Counts what `request` would capture, before it starts, so progress has a true total: names and sizes only
    /// (no file is read), by the same rules as the capture (--exclude, --generalize with its replacements,
    /// --one-file-system, a hard-linked file once, a file with holes by its data, the image itself left out).
    /// An estimate, never an error: what cannot be listed is not counted (the capture then says why), and a live
    /// tree may change before it is read.
    /// - Parameter progress: called every few hundred files with the count so far.
    public static func measure(_ request: CaptureRequest, progress: ((CaptureSize) -> Void)? = nil) -> CaptureSize {
        let measure = TreeMeasure(request: request, progress: progress)
        let root = Array(request.root.utf8)
        let descriptor = withCPath(root) { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard descriptor >= 0 else { return CaptureSize() }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            close(descriptor)
            return CaptureSize()
        }
        measure.rootDevice = UInt64(info.st_dev)
        measure.folder(descriptor, path: [], host: root, depth: 0)
        return measure.size
    }
}

/// The walk of `Capture.measure`: the same order and rules as `TreeWalker`, without reading a file.
private final class TreeMeasure {
    let request: CaptureRequest
    let progress: ((CaptureSize) -> Void)?
    let generalizer: Generalizer?
    var rootDevice: UInt64 = 0
    var size = CaptureSize()
    private var linked = Set<[UInt64]>()

    init(request: CaptureRequest, progress: ((CaptureSize) -> Void)?) {
        self.request = request
        self.progress = progress
        generalizer = Generalizer(request.operations)
    }

    /// Counts the folder open as `descriptor` (closed here) and everything below it.
    func folder(_ descriptor: Int32, path: [UInt8], host: [UInt8], depth: Int) {
        guard let children = try? listFolderWithTypes(descriptor, path: host) else {
            close(descriptor)
            return
        }
        // As the capture does: below a depth, children are looked up by their whole path, so a deep tree does not
        // run out of open files.
        var folder = descriptor
        if depth >= TreeWalker.foldersKeptOpen {
            close(descriptor)
            folder = AT_FDCWD
        }
        defer { if folder != AT_FDCWD { close(folder) } }
        for (name, _) in children {
            let childPath = path.isEmpty ? name : path + [UInt8(ascii: "/")] + name
            let childHost = host + [UInt8(ascii: "/")] + name
            let lookup = folder == AT_FDCWD ? childHost : name
            var info = stat()
            guard withCPath(lookup, { fstatat(folder, $0, &info, AT_SYMLINK_NOFOLLOW) }) == 0 else { continue }
            if let skip = request.skip, UInt64(info.st_dev) == skip.device, UInt64(info.st_ino) == skip.inode { continue }
            let type = info.st_mode & S_IFMT
            if request.isExcluded(childPath) { continue }
            var replacement: [UInt8]?
            let decision = generalizer?.decide(childPath, isFolder: type == S_IFDIR, isRegular: type == S_IFREG) {
                Generalizer.readText(folder: folder, name: lookup)
            }
            if let decision {
                guard let content = decision.replacement else { continue }
                replacement = content
            }
            switch type {
            case S_IFDIR:
                if request.oneFileSystem && UInt64(info.st_dev) != rootDevice { continue }
                let child = withCPath(lookup) { openat(folder, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) }
                if child >= 0 { self.folder(child, path: childPath, host: childHost, depth: depth + 1) }
            case S_IFREG:
                if info.st_nlink > 1 && !linked.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted { continue }
                size.files += 1
                size.dataBytes += replacement.map { UInt64($0.count) } ?? dataBytes(info, lookup: lookup, in: folder)
                if size.files % 256 == 0 { progress?(size) }
            default:
                continue
            }
        }
    }

    /// The bytes the capture reads of a file: its size, or the data between its holes when it has fewer blocks
    /// than its size says (found as the capture finds them, with SEEK_DATA and SEEK_HOLE).
    private func dataBytes(_ info: stat, lookup: [UInt8], in folder: Int32) -> UInt64 {
        let size = UInt64(info.st_size)
        guard UInt64(info.st_blocks) * 512 < size else { return size }
        let descriptor = withCPath(lookup) { openat(folder, $0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
        guard descriptor >= 0 else { return size }
        defer { close(descriptor) }
        guard let segments = TreeWalker.dataSegments(descriptor, size: size) else { return size }
        return segments.reduce(0) { $0 + $1.length }
    }
}

import CLinux
import Foundation
import Glibc
import ImprintCore

/// What a restore or verify read.
public struct ReadResult: Sendable {
    public var manifest: ImageManifest
    public var summary: ImageSummary
    /// How the members were read: from their places in the block index (a file), or in order (a pipe).
    public var access: ImageAccess
}

/// Restore and verify: read an image, check every block and file, and (restore) write the tree.
public enum Restore {
    /// Restores the image from `input` into the folder `root`.
    /// - Parameters:
    ///   - approve: called with the manifest before anything is written; throw to refuse (the wrong model).
    ///   - progress: called with the image bytes read so far.
    /// - Important: writes into `root`; entries that would leave it (`..`, a path through a link) are refused. The
    ///   marker `TargetRoot.restoreMarker` is created at the top of `root` before the first entry and removed after
    ///   the last, once everything is synced: a restore that stops half-way (an error, SIGKILL, power) leaves it.
    @discardableResult
    public static func run(
        _ input: ImageInput, root: String, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
        passphrase: (() throws -> String)? = nil, approve: (ImageManifest) throws -> Void = { _ in },
        progress: ((UInt64) -> Void)? = nil
    ) throws -> ReadResult {
        let reader = try ImageReader(input: input, threads: max(1, threads), passphrase: passphrase)
        try approve(reader.manifest)
        reader.progress = progress
        let target = try TargetRoot(root)
        var extractor = try Extractor(root: target.path)
        defer { extractor.close() }
        try RestoreMarker.create(extractor.rootDescriptor, root: target.path)
        let summary = try TarScanner(reader: reader).scan(into: &extractor)
        try extractor.finishFolders()
        return ReadResult(manifest: reader.manifest, summary: summary, access: reader.access)
    }

    /// Reads the whole image and checks every block, every file's SHA-256, the index and the tail. A file is read
    /// from its block index on every core; when that finds damage, the image is read once more in order, so the
    /// message names the first damaged block and the file it hit, as from a pipe.
    public static func verify(
        _ input: ImageInput, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
        passphrase: (() throws -> String)? = nil, progress: ((UInt64) -> Void)? = nil
    ) throws -> ReadResult {
        var given: String?
        // Asked once, even when the image is read twice.
        let remembered: (() throws -> String)? = passphrase.map { ask in
            {
                if let given { return given }
                let answer = try ask()
                given = answer
                return answer
            }
        }
        func scan(useIndex: Bool) throws -> ReadResult {
            let reader = try ImageReader(input: input, threads: max(1, threads), passphrase: remembered, useIndex: useIndex)
            reader.progress = progress
            var sink = CountingSink()
            let summary = try TarScanner(reader: reader).scan(into: &sink)
            return ReadResult(manifest: reader.manifest, summary: summary, access: reader.access)
        }
        guard input.size != nil else { return try scan(useIndex: false) }
        do {
            return try scan(useIndex: true)
        } catch let error as ImageError {
            guard case .corrupt = error else { throw error }
            try input.seek(to: 0)
            _ = try scan(useIndex: false)
            throw error
        }
    }

    /// Only the manifest (the first blocks), for `inspect` and the library.
    public static func manifest(_ input: ImageInput) throws -> ImageManifest {
        try ImageReader(input: input, threads: 1, manifestOnly: true).manifest
    }
}

/// glibc's UTIME_OMIT: leave this time as it is.
let utimeOmit = (1 << 30) - 2

struct CountingSink: EntrySink {
    mutating func begin(_ entry: TarEntry) throws {}
    mutating func data(_ bytes: ArraySlice<UInt8>, fileOffset: UInt64) throws {}
    mutating func end(_ entry: TarEntry) throws {}
    mutating func abandon(_ entry: TarEntry) {}
}

/// Writes entries under a root folder, opening every parent folder from the root with O_NOFOLLOW, so neither a
/// `..` nor a link (in the target or made by the image itself) can send a write outside it. Every name is made on
/// the calling thread, in the image's order; the files' data and metadata are written behind it by a `DataWriter`.
struct Extractor: EntrySink {
    let rootDescriptor: Int32
    private let rootPath: String
    /// The folders from the root down to the last entry's folder, kept open: entries come depth first, so the
    /// next entry's folder shares most of this chain.
    /// `setsGroup`: the folder has the setgid bit, so a file made in it takes the folder's group.
    private var chain: [(name: [UInt8], descriptor: Int32, setsGroup: Bool)] = []
    private let rootSetsGroup: Bool
    private var file: Int32 = -1
    private var filePath: [UInt8] = []
    private let writer = DataWriter()
    /// What the open file already got when it was made (its mode, its owner), so `end` need not set it again.
    private var fileMode = false
    private var fileOwner = false
    private var folderTimes: [([UInt8], timespec)] = []
    /// The bits the umask takes from a new file's mode; all of them when it cannot be read (every mode is then set
    /// with fchmod).
    private let umaskBits: UInt32
    private let userID = geteuid()
    private let groupID = getegid()

    init(root: String) throws {
        rootPath = root
        rootDescriptor = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootDescriptor >= 0 else { throw ImageError.io(path: root, operation: "open the target", errno: errno) }
        rootSetsGroup = Self.setsGroup(rootDescriptor)
        umaskBits = Self.processUmask() ?? 0o7777
    }

    /// The umask from /proc/self/status (reading it with umask(2) would change it for every thread for a moment).
    private static func processUmask() -> UInt32? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Umask:") })
        else { return nil }
        return UInt32(line.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8)
    }

    private static func setsGroup(_ folder: Int32) -> Bool {
        var info = stat()
        return fstat(folder, &info) != 0 || info.st_mode & S_ISGID != 0
    }

    mutating func close() {
        try? writer.drain()
        writer.close()
        if file >= 0 { Glibc.close(file) }
        // A file the writer could not finish (the disk full) is not left behind looking whole.
        if let path = writer.failedPath, let (folder, name) = try? parentFolder(of: path, creating: false) {
            _ = withCPath(name) { unlinkat(folder, $0, 0) }
        }
        for link in chain { Glibc.close(link.descriptor) }
        chain = []
        Glibc.close(rootDescriptor)
    }

    mutating func begin(_ entry: TarEntry) throws {
        FaultInjection.beforeFileOperation()
        if entry.path.isEmpty {
            try Self.applyOwnerAttributesMode(rootDescriptor, entry)
            folderTimes.append((entry.path, Self.time(entry)))
            return
        }
        let (folder, name) = try parentFolder(of: entry.path, creating: true)
        try withCPath(name) { cName in
            /// Runs `create`; when something is in the way (a restore with --force over an old tree), removes it and
            /// tries once more. The common case, an empty target, costs no extra system call.
            func creating(_ create: () -> Int32) throws -> Int32 {
                let result = create()
                guard result < 0 && errno == EEXIST else { return result }
                try clear(folder, cName, entry)
                return create()
            }
            func check(_ create: () -> Int32, _ operation: String) throws {
                if try creating(create) != 0 { throw ImageError.io(path: entry.displayPath, operation: operation, errno: errno) }
            }
            switch entry.kind {
            case .file:
                // The mode is given at creation when the umask keeps it whole and no setuid, setgid or sticky bit
                // needs setting after the owner; the owner is already right when it is this process's.
                fileMode = entry.mode & 0o7000 == 0 && entry.mode & umaskBits == 0
                fileOwner = entry.uid == userID && entry.gid == groupID && !(chain.last?.setsGroup ?? rootSetsGroup)
                let mode = fileMode ? mode_t(entry.mode) : 0o600
                file = try creating { openat(folder, cName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode) }
                if file < 0 { throw ImageError.io(path: entry.displayPath, operation: "create", errno: errno) }
                filePath = entry.path
            case .directory:
                if mkdirat(folder, cName, 0o700) != 0 && errno != EEXIST {
                    throw ImageError.io(path: entry.displayPath, operation: "create the folder", errno: errno)
                }
                let descriptor = openat(folder, cName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if descriptor < 0 { throw ImageError.unsafePath(path: entry.displayPath, reason: "a link or file is in the way") }
                defer { Glibc.close(descriptor) }
                try Self.applyOwnerAttributesMode(descriptor, entry)
                folderTimes.append((entry.path, Self.time(entry)))
            case .symlink:
                try check({ withCPath(entry.linkTarget) { symlinkat($0, folder, cName) } }, "create the link")
                try applyOther(folder, cName, entry)
            case .hardLink:
                let (targetFolder, targetName) = try parentFolder(of: entry.linkTarget, creating: false, separate: true)
                defer { if targetFolder != rootDescriptor { Glibc.close(targetFolder) } }
                try check({ withCPath(targetName) { linkat(targetFolder, $0, folder, cName, 0) } }, "create the hard link")
            case .characterDevice, .blockDevice:
                let type = entry.kind == .characterDevice ? S_IFCHR : S_IFBLK
                let device = DeviceNumber.make(major: entry.deviceMajor, minor: entry.deviceMinor)
                try check({ mknodat(folder, cName, type | mode_t(entry.mode & 0o777), dev_t(device)) }, "create the device")
                try applyOther(folder, cName, entry)
            case .fifo:
                try check({ mkfifoat(folder, cName, mode_t(entry.mode & 0o777)) }, "create the FIFO")
                try applyOther(folder, cName, entry)
            }
        }
    }

    mutating func data(_ bytes: ArraySlice<UInt8>, fileOffset: UInt64) throws {
        FaultInjection.beforeFileOperation()
        try writer.write(file, bytes, at: fileOffset, path: filePath)
    }

    mutating func end(_ entry: TarEntry) throws {
        guard entry.kind == .file else { return }
        FaultInjection.beforeFileOperation()
        let descriptor = file
        let (ownerSet, modeSet) = (fileOwner, fileMode)
        file = -1
        do {
            try writer.run {
                defer { Glibc.close(descriptor) }
                if let realSize = entry.sparseSize, ftruncate(descriptor, off_t(realSize)) != 0 {
                    throw ImageError.io(path: entry.displayPath, operation: "set the size of", errno: errno)
                }
                try Self.applyOwnerAttributesMode(descriptor, entry, ownerSet: ownerSet, modeSet: modeSet)
                var times = [timespec(tv_sec: 0, tv_nsec: utimeOmit), Self.time(entry)]
                if futimens(descriptor, &times) != 0 { throw ImageError.io(path: entry.displayPath, operation: "set the time of", errno: errno) }
            }
        } catch {
            Glibc.close(descriptor)  // the writer failed earlier and takes no more work
            throw error
        }
    }

    mutating func abandon(_ entry: TarEntry) {
        guard entry.kind == .file, file >= 0 else { return }
        let descriptor = file
        file = -1
        if (try? writer.run { Glibc.close(descriptor) }) == nil { Glibc.close(descriptor) }
        // A file whose data is damaged is not left behind looking whole.
        if let (folder, name) = try? parentFolder(of: entry.path, creating: false) {
            _ = withCPath(name) { unlinkat(folder, $0, 0) }
        }
    }

    /// Sets the folders' times last (writing into a folder changes its time), then syncs the tree and removes the
    /// restore marker, and sets the root's own time after that.
    mutating func finishFolders() throws {
        try writer.drain()
        var rootTime: timespec?
        for (path, stamp) in folderTimes.reversed() {
            if path.isEmpty {
                rootTime = stamp
                continue
            }
            FaultInjection.beforeFileOperation()
            var times = [timespec(tv_sec: 0, tv_nsec: utimeOmit), stamp]
            let (folder, name) = try parentFolder(of: path, creating: false)
            if withCPath(name, { utimensat(folder, $0, &times, AT_SYMLINK_NOFOLLOW) }) != 0 {
                throw ImageError.io(path: displayPath(path), operation: "set the time of", errno: errno)
            }
        }
        try RestoreMarker.remove(rootDescriptor, root: rootPath)
        if let rootTime {
            var times = [timespec(tv_sec: 0, tv_nsec: utimeOmit), rootTime]
            if futimens(rootDescriptor, &times) != 0 { throw ImageError.io(path: rootPath, operation: "set the time of", errno: errno) }
            fsync(rootDescriptor)
        }
    }

    // MARK: Helpers

    private static func time(_ entry: TarEntry) -> timespec { timespec(tv_sec: Int(entry.seconds), tv_nsec: Int(entry.nanoseconds)) }

    /// Owner, extended attributes and mode of an open file or folder, in that order (a chown clears setuid).
    /// - Parameters:
    ///   - ownerSet, modeSet: the file already has them (it was made so).
    private static func applyOwnerAttributesMode(_ descriptor: Int32, _ entry: TarEntry, ownerSet: Bool = false, modeSet: Bool = false) throws {
        if !ownerSet && fchown(descriptor, entry.uid, entry.gid) != 0 && errno != EPERM {
            throw ImageError.io(path: entry.displayPath, operation: "set the owner of", errno: errno)
        }
        for attribute in entry.attributes {
            let status = withCPath(attribute.name) { name in
                attribute.value.withUnsafeBytes { fsetxattr(descriptor, name, $0.baseAddress, $0.count, 0) }
            }
            if status != 0 && errno != ENOTSUP && errno != EPERM {
                throw ImageError.io(path: entry.displayPath, operation: "set the attribute \(displayPath(attribute.name)) of", errno: errno)
            }
        }
        if !modeSet && fchmod(descriptor, mode_t(entry.mode)) != 0 { throw ImageError.io(path: entry.displayPath, operation: "set the mode of", errno: errno) }
    }

    /// Owner, attributes, mode and time of a link, device or FIFO named `name` in `folder`.
    private func applyOther(_ folder: Int32, _ name: UnsafePointer<CChar>, _ entry: TarEntry) throws {
        if fchownat(folder, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0 && errno != EPERM {
            throw ImageError.io(path: entry.displayPath, operation: "set the owner of", errno: errno)
        }
        if !entry.attributes.isEmpty {
            // The folder is open and checked; its /proc/self/fd path reaches the entry without resolving links again.
            let path = Array("/proc/self/fd/\(folder)/".utf8) + TarFormat.lastComponent(entry.path)
            for attribute in entry.attributes {
                let status = withCPath(path) { cPath in
                    withCPath(attribute.name) { cName in
                        attribute.value.withUnsafeBytes { lsetxattr(cPath, cName, $0.baseAddress, $0.count, 0) }
                    }
                }
                if status != 0 && errno != ENOTSUP && errno != EPERM {
                    throw ImageError.io(path: entry.displayPath, operation: "set the attribute \(displayPath(attribute.name)) of", errno: errno)
                }
            }
        }
        if entry.kind != .symlink && fchmodat(folder, name, mode_t(entry.mode), 0) != 0 {
            throw ImageError.io(path: entry.displayPath, operation: "set the mode of", errno: errno)
        }
        var times = [timespec(tv_sec: 0, tv_nsec: utimeOmit), Self.time(entry)]
        if utimensat(folder, name, &times, AT_SYMLINK_NOFOLLOW) != 0 {
            throw ImageError.io(path: entry.displayPath, operation: "set the time of", errno: errno)
        }
    }

    /// Removes what is in the way of a new non-folder entry (a restore with --force over an old tree).
    private func clear(_ folder: Int32, _ name: UnsafePointer<CChar>, _ entry: TarEntry) throws {
        var info = stat()
        guard fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            throw ImageError.unsafePath(path: entry.displayPath, reason: "a folder is in the way")
        }
        if unlinkat(folder, name, 0) != 0 { throw ImageError.io(path: entry.displayPath, operation: "replace", errno: errno) }
    }

    /// The open folder that holds `path`, and the last component's name. Every folder on the way is opened from
    /// the root with O_NOFOLLOW: a link component fails instead of being followed.
    /// - Parameters:
    ///   - separate: return a descriptor of its own (the caller closes it) instead of the cached one.
    private mutating func parentFolder(of path: [UInt8], creating: Bool, separate: Bool = false) throws -> (Int32, [UInt8]) {
        if !separate { return try chainedFolder(of: path, creating: creating) }
        var components = path.split(separator: UInt8(ascii: "/")).map(Array.init)
        guard let name = components.popLast() else { throw ImageError.unsafePath(path: displayPath(path), reason: "it names the root") }
        var descriptor = rootDescriptor
        for component in components {
            let next = try openFolder(component, in: descriptor, creating: false, path: path)
            if descriptor != rootDescriptor { Glibc.close(descriptor) }
            descriptor = next
        }
        return (descriptor, name)
    }

    /// The folder of `path` (a relative path as `TarScanner.relative` makes it) through the chain of open folders,
    /// and its last component. The components the chain already holds are compared in place, not copied: entries
    /// come depth first, so most share all their folders with the entry before.
    private mutating func chainedFolder(of path: [UInt8], creating: Bool) throws -> (Int32, [UInt8]) {
        guard !path.isEmpty else { throw ImageError.unsafePath(path: displayPath(path), reason: "it names the root") }
        let slash = UInt8(ascii: "/")
        let lastSlash = path.lastIndex(of: slash)
        let folderEnd = lastSlash ?? 0
        var depth = 0
        var start = 0
        while start < folderEnd {
            let end = path[start..<folderEnd].firstIndex(of: slash) ?? folderEnd
            guard depth < chain.count && chain[depth].name.elementsEqual(path[start..<end]) else { break }
            depth += 1
            start = end + 1
        }
        while chain.count > depth { Glibc.close(chain.removeLast().descriptor) }
        while start < folderEnd {
            let end = path[start..<folderEnd].firstIndex(of: slash) ?? folderEnd
            let component = Array(path[start..<end])
            let next = try openFolder(component, in: chain.last?.descriptor ?? rootDescriptor, creating: creating, path: path)
            chain.append((component, next, Self.setsGroup(next)))
            start = end + 1
        }
        return (chain.last?.descriptor ?? rootDescriptor, Array(path[(lastSlash.map { $0 + 1 } ?? 0)...]))
    }

    /// Opens the folder `name` in `folder` without following a link (creating it, 0755, when asked and missing).
    private func openFolder(_ name: [UInt8], in folder: Int32, creating: Bool, path: [UInt8]) throws -> Int32 {
        var next = withCPath(name) { openat(folder, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        if next < 0 && errno == ENOENT && creating {
            _ = withCPath(name) { mkdirat(folder, $0, 0o755) }
            next = withCPath(name) { openat(folder, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        }
        guard next >= 0 else {
            if errno == ELOOP || errno == ENOTDIR {
                throw ImageError.unsafePath(path: displayPath(path), reason: "\(quoted(displayPath(name))) on its way is a link or a file, not a folder")
            }
            throw ImageError.io(path: displayPath(path), operation: "open the folder of", errno: errno)
        }
        return next
    }
}

/// The marker of a restore in progress (`TargetRoot.restoreMarker`), at the top of the target.
enum RestoreMarker {
    /// Creates the marker (one already there is kept) and makes it durable before anything else in the target
    /// changes.
    static func create(_ rootDescriptor: Int32, root: String) throws {
        let descriptor = openat(rootDescriptor, TargetRoot.restoreMarker, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        if descriptor < 0 && errno == EEXIST { return }
        guard descriptor >= 0 else {
            throw ImageError.io(path: root + "/" + TargetRoot.restoreMarker, operation: "create the restore marker", errno: errno)
        }
        defer { close(descriptor) }
        let text = Array(TargetRoot.restoreMarkerText.utf8)
        // The text is for a person who finds the file; the marker works without it (a full disk may refuse it).
        _ = text.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        fsync(descriptor)
        fsync(rootDescriptor)
    }

    /// Flushes everything the restore wrote to the disk, then removes the marker: only a complete tree loses it.
    static func remove(_ rootDescriptor: Int32, root: String) throws {
        if syncfs(rootDescriptor) != 0 { throw ImageError.io(path: root, operation: "flush the restored files to", errno: errno) }
        FaultInjection.beforeFileOperation()
        if unlinkat(rootDescriptor, TargetRoot.restoreMarker, 0) != 0 && errno != ENOENT {
            throw ImageError.io(path: root + "/" + TargetRoot.restoreMarker, operation: "remove the restore marker", errno: errno)
        }
        fsync(rootDescriptor)
    }
}

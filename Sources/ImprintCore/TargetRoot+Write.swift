import Foundation
import CLinux
import Glibc

/// What Imprint keeps of a file it replaces, so the new file looks like the old one and a rollback can restore it.
public struct FileMetadata: Codable, Equatable, Sendable {
    public var mode: UInt32
    public var owner: UInt32
    public var group: UInt32
    /// Extended attributes (SELinux label, capabilities, ACLs) by name, values base64-free raw bytes.
    public var attributes: [String: Data]

    public init(mode: UInt32, owner: UInt32 = 0, group: UInt32 = 0, attributes: [String: Data] = [:]) {
        self.mode = mode
        self.owner = owner
        self.group = group
        self.attributes = attributes
    }

    /// The mode in octal, as chmod takes it: `0600`.
    public var modeText: String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

extension TargetRoot {
    /// The metadata of the file at `inner` (links followed inside the root), or nil when there is none.
    public func metadata(_ inner: String) throws(CoreError) -> FileMetadata? {
        let host = try resolve(inner)
        var info = stat()
        guard lstat(host, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw .io(path: inner, operation: "inspect", errno: errno)
        }
        return FileMetadata(
            mode: UInt32(info.st_mode & 0o7777), owner: info.st_uid, group: info.st_gid,
            attributes: try attributes(host: host, inner: inner))
    }

    /// Replaces or creates the file at `inner` atomically: a temporary file in the same folder, fsync, rename, fsync
    /// of the folder. The replaced file's owner, mode and extended attributes are kept unless `metadata` sets them.
    /// Missing parent folders are created (mode 0755, owned by root).
    /// - Important: links are followed inside the root, so a link in the image never sends the write outside it.
    public func write(_ inner: String, _ data: Data, metadata wanted: FileMetadata? = nil) throws(CoreError) {
        FaultInjection.beforeFileOperation()
        let host = try resolve(inner)
        let folder = (host as NSString).deletingLastPathComponent
        try makeFolders(host: folder, inner: inner)
        let kept = try metadata(inner)
        let applied = wanted ?? kept ?? FileMetadata(mode: 0o644)

        var template = Array("\(folder)/.imprint-XXXXXX".utf8CString)
        let descriptor = mkstemp(&template)
        if descriptor < 0 { throw .io(path: inner, operation: "create a temporary file beside", errno: errno) }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var renamed = false
        defer {
            if !renamed { unlink(temporary) }
        }
        do {
            defer { close(descriptor) }
            try writeAll(descriptor, data, inner: inner)
            if fchown(descriptor, applied.owner, applied.group) != 0 && errno != EPERM {
                throw CoreError.io(path: inner, operation: "set the owner of", errno: errno)
            }
            if fchmod(descriptor, mode_t(applied.mode)) != 0 { throw CoreError.io(path: inner, operation: "set the mode of", errno: errno) }
            for (name, value) in applied.attributes {
                let status = value.withUnsafeBytes { fsetxattr(descriptor, name, $0.baseAddress, value.count, 0) }
                if status != 0 && errno != ENOTSUP && errno != EPERM {
                    throw CoreError.io(path: inner, operation: "set the attribute \(name) of", errno: errno)
                }
            }
            if fsync(descriptor) != 0 { throw CoreError.io(path: inner, operation: "flush", errno: errno) }
        } catch let error as CoreError {
            throw error
        } catch {
            throw .io(path: inner, operation: "write", errno: EIO)
        }
        if rename(temporary, host) != 0 { throw .io(path: inner, operation: "replace", errno: errno) }
        renamed = true
        syncFolder(folder)
    }

    /// Removes the file or link at `inner` (the link itself, not its target), or the empty folder (one a run made,
    /// rolled back); nothing when there is none.
    public func remove(_ inner: String) throws(CoreError) {
        FaultInjection.beforeFileOperation()
        let host = try resolve(inner, followingFinalLink: false)
        if unlink(host) != 0 && errno != ENOENT {
            guard errno == EISDIR, rmdir(host) == 0 else { throw .io(path: inner, operation: "remove", errno: errno) }
        }
        syncFolder((host as NSString).deletingLastPathComponent)
    }

    /// Removes the folder at `inner` and everything in it (links inside are removed, never followed).
    public func removeTree(_ inner: String) throws(CoreError) {
        FaultInjection.beforeFileOperation()
        let host = try resolve(inner, followingFinalLink: false)
        guard host.hasPrefix(path + "/") || path == "/" else { throw .pathNotConfined(path: inner, reason: "is the root itself") }
        do {
            try FileManager.default.removeItem(atPath: host)
        } catch {
            if FileManager.default.fileExists(atPath: host) { throw .io(path: inner, operation: "remove", errno: EIO) }
        }
    }

    /// The target of the link at `inner`, or nil when it is not a link.
    public func linkTarget(_ inner: String) throws(CoreError) -> String? {
        let host = try resolve(inner, followingFinalLink: false)
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(host, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Creates (or replaces) a symbolic link at `inner` pointing to `target`, atomically.
    public func symlink(_ inner: String, to target: String) throws(CoreError) {
        FaultInjection.beforeFileOperation()
        let host = try resolve(inner, followingFinalLink: false)
        let folder = (host as NSString).deletingLastPathComponent
        try makeFolders(host: folder, inner: inner)
        let temporary = "\(folder)/.imprint-link-\(UInt32.random(in: 0...UInt32.max))"
        if Glibc.symlink(target, temporary) != 0 { throw .io(path: inner, operation: "create the link", errno: errno) }
        if rename(temporary, host) != 0 {
            unlink(temporary)
            throw .io(path: inner, operation: "replace", errno: errno)
        }
        syncFolder(folder)
    }

    /// Makes the folder at `inner` (and its missing parents, mode 0755 root) with this mode and owner; a folder
    /// already there is left as it is.
    public func makeFolder(_ inner: String, metadata: FileMetadata) throws(CoreError) {
        FaultInjection.beforeFileOperation()
        let host = try resolve(inner)
        try makeFolders(host: (host as NSString).deletingLastPathComponent, inner: inner)
        if mkdir(host, 0o700) != 0 {
            if errno == EEXIST { return }
            throw .io(path: inner, operation: "create the folder", errno: errno)
        }
        if chown(host, metadata.owner, metadata.group) != 0 && errno != EPERM {
            throw .io(path: inner, operation: "set the owner of", errno: errno)
        }
        if chmod(host, mode_t(metadata.mode)) != 0 { throw .io(path: inner, operation: "set the mode of", errno: errno) }
        syncFolder((host as NSString).deletingLastPathComponent)
    }

    /// Opens the file at `inner` for reading and writing, creating it (and its folders) when missing, and never
    /// replacing it: a lock file must stay one inode while anyone may hold it, or two processes lock two files.
    /// - Returns: the open descriptor; the caller closes it.
    public func openCreating(_ inner: String, mode: mode_t = 0o600) throws(CoreError) -> Int32 {
        let host = try resolve(inner)
        try makeFolders(host: (host as NSString).deletingLastPathComponent, inner: inner)
        let descriptor = open(host, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode)
        if descriptor < 0 { throw .io(path: inner, operation: "open", errno: errno) }
        return descriptor
    }

    private func makeFolders(host folder: String, inner: String) throws(CoreError) {
        var info = stat()
        if stat(folder, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw .pathNotConfined(path: inner, reason: "its folder is a file in the root")
            }
            return
        }
        guard folder.hasPrefix(path) else { throw .pathNotConfined(path: inner, reason: "its folder is outside the root") }
        try makeFolders(host: (folder as NSString).deletingLastPathComponent, inner: inner)
        if mkdir(folder, 0o755) != 0 && errno != EEXIST { throw .io(path: inner, operation: "create the folder of", errno: errno) }
    }

    private func writeAll(_ descriptor: Int32, _ data: Data, inner: String) throws(CoreError) {
        let failure: Int32? = data.withUnsafeBytes { raw -> Int32? in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }
        if let failure { throw .io(path: inner, operation: "write", errno: failure) }
    }

    private func attributes(host: String, inner: String) throws(CoreError) -> [String: Data] {
        let size = llistxattr(host, nil, 0)
        guard size > 0 else { return [:] }
        var names = [CChar](repeating: 0, count: size)
        let listed = llistxattr(host, &names, size)
        guard listed > 0 else { return [:] }
        var result: [String: Data] = [:]
        for rawName in names[0..<listed].split(separator: 0) {
            let name = String(decoding: rawName.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let length = lgetxattr(host, name, nil, 0)
            guard length >= 0 else { continue }
            var value = Data(count: length)
            let read = value.withUnsafeMutableBytes { lgetxattr(host, name, $0.baseAddress, length) }
            if read >= 0 { result[name] = value.prefix(read) }
        }
        return result
    }

    private func syncFolder(_ folder: String) {
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }
}

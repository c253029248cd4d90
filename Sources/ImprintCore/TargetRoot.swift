import Foundation
import Glibc

/// A folder treated as the root of another system: every path Imprint uses is resolved inside it.
///
/// Resolution follows symbolic links one component at a time, the way `openat2(RESOLVE_IN_ROOT)` does: an absolute
/// link target starts again at this root, and `..` never climbs above it. So a link in a restored image such as
/// `/etc -> /host/etc` or `hostname -> ../../../../etc/hostname` stays inside the root.
public struct TargetRoot: Sendable, CustomStringConvertible {
    /// The root's own absolute path on this host, with its symbolic links resolved.
    public let path: String

    /// The most links one resolution follows before it gives up, as the kernel's limit.
    public static let maxLinks = 40

    /// - Parameters:
    ///   - path: the folder to treat as root; it must exist.
    public init(_ path: String) throws(CoreError) {
        guard let resolved = realpath(path, nil) else {
            throw .io(path: path, operation: "open the root folder", errno: errno)
        }
        defer { free(resolved) }
        self.path = String(cString: resolved)
        var info = stat()
        guard stat(self.path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw .pathNotConfined(path: path, reason: "the root is not a folder")
        }
    }

    public var description: String { path }

    /// The host path for `inner` (a path as the unit sees it, such as `/etc/hostname`), with every symbolic link
    /// resolved inside this root. Components that do not exist yet are appended as they are.
    /// - Parameters:
    ///   - followingFinalLink: false to resolve the parent folders only, for a path whose own link must be kept
    ///     (reading a link, replacing a file that is a link).
    public func resolve(_ inner: String, followingFinalLink: Bool = true) throws(CoreError) -> String {
        var pending = Array(inner.split(separator: "/").map(String.init).reversed())
        var resolved: [String] = []
        var links = 0
        while let component = pending.popLast() {
            if component.isEmpty || component == "." { continue }
            if component == ".." {
                _ = resolved.popLast()
                continue
            }
            let candidate = hostPath(resolved + [component])
            let isFinal = pending.isEmpty
            var info = stat()
            guard lstat(candidate, &info) == 0, info.st_mode & S_IFMT == S_IFLNK, !isFinal || followingFinalLink else {
                resolved.append(component)
                continue
            }
            links += 1
            if links > Self.maxLinks {
                throw .pathNotConfined(path: inner, reason: "more than \(Self.maxLinks) symbolic links (a loop?)")
            }
            let target = try readLink(atHostPath: candidate)
            if target.hasPrefix("/") { resolved.removeAll() }
            pending.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
        }
        return hostPath(resolved)
    }

    /// The contents of the file at `inner`, or nil when there is none.
    public func readFile(_ inner: String) throws(CoreError) -> Data? {
        let host = try resolve(inner)
        let descriptor = open(host, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if descriptor < 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw .io(path: inner, operation: "open", errno: errno)
        }
        defer { close(descriptor) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(path: inner, operation: "read", errno: errno)
            }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return data
    }

    /// The text of the file at `inner` with surrounding white space removed, or nil when there is none or it is
    /// not UTF-8.
    public func readTrimmedText(_ inner: String) throws(CoreError) -> String? {
        guard let data = try readFile(inner), let text = String(data: data, encoding: .utf8) else { return nil }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The names in the folder at `inner`, sorted, or an empty list when there is no such folder.
    public func listFolder(_ inner: String) throws(CoreError) -> [String] {
        let host = try resolve(inner)
        guard let folder = opendir(host) else {
            if errno == ENOENT || errno == ENOTDIR { return [] }
            throw .io(path: inner, operation: "list", errno: errno)
        }
        defer { closedir(folder) }
        var names: [String] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Whether anything (a file, folder or link) exists at `inner` after resolution.
    public func exists(_ inner: String) -> Bool {
        guard let host = try? resolve(inner) else { return false }
        var info = stat()
        return lstat(host, &info) == 0
    }

    /// `inner` with its links resolved, as the unit would see it (`/sys/devices/pci0000:00/...`).
    public func canonical(_ inner: String) throws(CoreError) -> String {
        let host = try resolve(inner)
        let relative = host.dropFirst(path == "/" ? 0 : path.count)
        return relative.isEmpty ? "/" : String(relative)
    }

    private func hostPath(_ components: [String]) -> String {
        let joined = components.joined(separator: "/")
        if path == "/" { return "/" + joined }
        return joined.isEmpty ? path : path + "/" + joined
    }

    private func readLink(atHostPath host: String) throws(CoreError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(host, &buffer, buffer.count - 1)
        if count < 0 { throw .io(path: host, operation: "read the link", errno: errno) }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

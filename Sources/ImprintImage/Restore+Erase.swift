import Glibc
import ImprintCore

extension Restore {
    /// The names in the folder `root` that a restore would erase ("lost+found" of a fresh file system is kept).
    public static func contents(of root: String) throws -> [String] {
        let names = try listFolder(Array(root.utf8))
        return names.map(displayPath).filter { $0 != "lost+found" }
    }

    /// Removes everything in the folder `root` except "lost+found", never following a link. The restore marker is
    /// created first and kept, so a half-erased target is flagged as one.
    /// - Important: destroys the target's files.
    public static func erase(_ root: String) throws {
        let descriptor = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ImageError.io(path: root, operation: "open the target", errno: errno) }
        defer { close(descriptor) }
        try RestoreMarker.create(descriptor, root: root)
        try eraseContents(descriptor, path: root, keepLostFound: true)
    }

    private static func eraseContents(_ folder: Int32, path: String, keepLostFound: Bool) throws {
        let listing = dup(folder)
        guard let stream = fdopendir(listing) else { throw ImageError.io(path: path, operation: "list", errno: errno) }
        var names: [[UInt8]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == Array(".".utf8) || name == Array("..".utf8) { continue }
            if keepLostFound && (name == Array("lost+found".utf8) || name == Array(TargetRoot.restoreMarker.utf8)) { continue }
            names.append(name)
        }
        closedir(stream)
        for name in names {
            FaultInjection.beforeFileOperation()
            try withCPath(name) { cName in
                var info = stat()
                guard fstatat(folder, cName, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return }
                if info.st_mode & S_IFMT == S_IFDIR {
                    let child = openat(folder, cName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    guard child >= 0 else { throw ImageError.io(path: path + "/" + displayPath(name), operation: "open", errno: errno) }
                    defer { close(child) }
                    try eraseContents(child, path: path + "/" + displayPath(name), keepLostFound: false)
                    if unlinkat(folder, cName, AT_REMOVEDIR) != 0 { throw ImageError.io(path: path + "/" + displayPath(name), operation: "remove", errno: errno) }
                } else if unlinkat(folder, cName, 0) != 0 {
                    throw ImageError.io(path: path + "/" + displayPath(name), operation: "remove", errno: errno)
                }
            }
        }
    }
}

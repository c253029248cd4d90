import Foundation
import Glibc

/// Writes a whole file so that a reader sees the old contents or the new, never a part: a temporary file in the
/// same folder, fsync, rename over the target, fsync of the folder.
public enum AtomicFile {
    /// - Parameters:
    ///   - path: the host path of the file to replace or create.
    ///   - mode: the new file's permission bits.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws(CoreError) {
        let folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        var template = Array("\(folder)/.\((path as NSString).lastPathComponent).XXXXXX".utf8CString)
        let descriptor = mkstemp(&template)
        if descriptor < 0 { throw .io(path: path, operation: "create a temporary file beside", errno: errno) }
        let temporary = String(cString: template)
        var finished = false
        defer {
            if !finished { unlink(temporary) }
        }
        let failure: CoreError? = data.withUnsafeBytes { raw -> CoreError? in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return .io(path: path, operation: "write", errno: errno)
                }
                offset += written
            }
            if fchmod(descriptor, mode) != 0 { return .io(path: path, operation: "set the mode of", errno: errno) }
            if fsync(descriptor) != 0 { return .io(path: path, operation: "flush", errno: errno) }
            return nil
        }
        close(descriptor)
        if let failure { throw failure }
        if rename(temporary, path) != 0 { throw .io(path: path, operation: "replace", errno: errno) }
        finished = true
        let folderDescriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderDescriptor >= 0 {
            fsync(folderDescriptor)
            close(folderDescriptor)
        }
    }
}

import CLinux
import Foundation
import Glibc

/// Calls `body` with `bytes` as a NUL-terminated C path (paths are bytes: names need not be UTF-8).
func withCPath<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
    try (bytes + [0]).withUnsafeBufferPointer { buffer in
        try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
    }
}

func displayPath(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Makes the calling thread a batch thread (SCHED_BATCH, sched(7)): it keeps its fair share of the cores, but its
/// wakeups do not preempt the running thread. The image engine's helper threads (the deflate and inflate workers, a
/// restore's data writer) call it first, so the thread that walks the tar stream in order, the critical path of a
/// restore of small files since it makes every file, is not pushed off its core each time one of them is handed
/// work. On the benchmark tree (2 cores) that made restore 3-8% faster idle and no slower beside two busy
/// processes; a lower priority (nice 19) gained as much idle but made the restore 8 times slower beside them.
func becomeBatchThread() {
    var parameter = sched_param()
    _ = sched_setscheduler(0, SCHED_BATCH, &parameter)
}

/// Linux's encoding of device numbers (glibc's gnu_dev_major, gnu_dev_minor, gnu_dev_makedev).
enum DeviceNumber {
    static func major(_ device: UInt64) -> UInt32 { UInt32(((device >> 8) & 0xfff) | ((device >> 32) & ~UInt64(0xfff))) }
    static func minor(_ device: UInt64) -> UInt32 { UInt32((device & 0xff) | ((device >> 12) & ~UInt64(0xff))) }
    static func make(major: UInt32, minor: UInt32) -> UInt64 {
        let major = UInt64(major)
        let minor = UInt64(minor)
        return ((major & 0xfff) << 8) | ((major & ~UInt64(0xfff)) << 32) | (minor & 0xff) | ((minor & ~UInt64(0xff)) << 12)
    }
}

/// The extended attributes of the file at `path` (its link itself, not followed), sorted by name.
func readAttributes(_ path: [UInt8]) -> [(name: [UInt8], value: [UInt8])] {
    withCPath(path) { cPath in
        readAttributes(list: { llistxattr(cPath, $0, $1) }, get: { lgetxattr(cPath, $0, $1, $2) })
    }
}

/// The extended attributes of the open file `descriptor`, sorted by name.
func readAttributes(descriptor: Int32) -> [(name: [UInt8], value: [UInt8])] {
    readAttributes(list: { flistxattr(descriptor, $0, $1) }, get: { fgetxattr(descriptor, $0, $1, $2) })
}

private func readAttributes(
    list: (UnsafeMutablePointer<CChar>?, Int) -> Int, get: (UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
) -> [(name: [UInt8], value: [UInt8])] {
    let size = list(nil, 0)
    guard size > 0 else { return [] }
    var names = [CChar](repeating: 0, count: size)
    let listed = list(&names, size)
    guard listed > 0 else { return [] }
    var result: [(name: [UInt8], value: [UInt8])] = []
    for rawName in names[0..<listed].split(separator: 0) {
        let name = rawName.map { UInt8(bitPattern: $0) }
        let value: [UInt8]? = withCPath(name) { cName in
            let length = get(cName, nil, 0)
            guard length >= 0 else { return nil }
            var value = [UInt8](repeating: 0, count: length)
            let read = get(cName, &value, length)
            return read >= 0 ? Array(value.prefix(read)) : nil
        }
        if let value { result.append((name, value)) }
    }
    return result.sorted { $0.name.lexicographicallyPrecedes($1.name) }
}

/// The names in the folder at `path` (not "." and ".."), sorted by their bytes.
func listFolder(_ path: [UInt8]) throws -> [[UInt8]] {
    let descriptor = withCPath(path) { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    guard descriptor >= 0 else { throw ImageError.io(path: displayPath(path), operation: "list the folder", errno: errno) }
    defer { close(descriptor) }
    return try listFolder(descriptor, path: path)
}

/// The names in the open folder `descriptor` (not "." and ".."), sorted by their bytes; `path` is for the message.
func listFolder(_ descriptor: Int32, path: [UInt8]) throws -> [[UInt8]] {
    try listFolderWithTypes(descriptor, path: path).map(\.name)
}

/// The names in the open folder `descriptor` with the type the listing gives (`d_type`: DT_REG, DT_DIR, ...;
/// DT_UNKNOWN where the file system does not say), sorted by name.
func listFolderWithTypes(_ descriptor: Int32, path: [UInt8]) throws -> [(name: [UInt8], type: UInt8)] {
    let copy = dup(descriptor)
    guard copy >= 0, let folder = fdopendir(copy) else {
        let error = errno
        if copy >= 0 { close(copy) }
        throw ImageError.io(path: displayPath(path), operation: "list the folder", errno: error)
    }
    defer { closedir(folder) }
    var names: [(name: [UInt8], type: UInt8)] = []
    while let entry = readdir(folder) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
        if name != [UInt8(ascii: ".")] && name != [UInt8(ascii: "."), UInt8(ascii: ".")] { names.append((name, entry.pointee.d_type)) }
    }
    return names.sorted { $0.name.lexicographicallyPrecedes($1.name) }
}

/// Whether `pattern` (fnmatch) matches the byte string `text`.
func matches(_ pattern: String, _ text: [UInt8], flags: Int32 = 0) -> Bool {
    withCPath(text) { fnmatch(pattern, $0, flags) == 0 }
}

import Foundation

/// The shared libraries an ELF executable names (its `DT_NEEDED` entries), read from the file's bytes.
///
/// `imprint install` uses them to check that the binary it puts into a root can start there: that it does not need
/// the Swift runtime (which a unit does not have) and that each C library it needs is in the root.
enum ELFDependencies {
    enum Failure: Error, Equatable {
        case notELF
        case unsupported(String)
        case truncated
    }

    /// The names of the libraries `data` (a 64-bit little-endian ELF file) needs, in file order; empty for a
    /// static executable.
    static func needed(in data: Data) throws(Failure) -> [String] {
        let bytes = [UInt8](data)
        guard bytes.count >= 64, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46 else { throw .notELF }
        guard bytes[4] == 2, bytes[5] == 1 else { throw .unsupported("only 64-bit little-endian ELF files are read") }

        func integer(_ offset: Int, _ size: Int) throws(Failure) -> Int {
            guard offset >= 0, offset + size <= bytes.count else { throw .truncated }
            var value = 0
            for index in (0..<size).reversed() { value = value << 8 | Int(bytes[offset + index]) }
            return value
        }
        func string(_ offset: Int) throws(Failure) -> String {
            guard offset >= 0, offset < bytes.count else { throw .truncated }
            guard let end = bytes[offset...].firstIndex(of: 0) else { throw .truncated }
            return String(decoding: bytes[offset..<end], as: UTF8.self)
        }

        let sectionTable = try integer(0x28, 8)
        let sectionSize = try integer(0x3a, 2)
        let sectionCount = try integer(0x3c, 2)
        let section = { (index: Int) throws(Failure) -> (type: Int, offset: Int, size: Int, link: Int) in
            let base = sectionTable + index * sectionSize
            return (try integer(base + 4, 4), try integer(base + 0x18, 8), try integer(base + 0x20, 8), try integer(base + 0x28, 4))
        }
        let dynamicType = 6, neededTag = 1
        var names: [String] = []
        for index in 0..<sectionCount {
            let dynamic = try section(index)
            guard dynamic.type == dynamicType else { continue }
            let strings = try section(dynamic.link)
            for entry in stride(from: dynamic.offset, to: dynamic.offset + dynamic.size, by: 16) {
                let tag = try integer(entry, 8)
                if tag == 0 { break }
                if tag == neededTag { names.append(try string(strings.offset + integer(entry + 8, 8))) }
            }
        }
        return names
    }
}

import Foundation

/// The openssh-key-v1 private key file (OpenSSH's PROTOCOL.key), unencrypted.
enum OpenSSHKeyFile {
    /// The unencrypted file's padding unit: the block size of cipher "none".
    static let blockSize = 8
    /// ssh-keygen wraps the base64 body at this many columns.
    static let lineWidth = 70

    /// The PEM-style text of a file holding one key.
    /// - Parameters:
    ///   - algorithm: the key type name that starts the private section.
    ///   - publicBlob: the public key blob, the same bytes the `.pub` line carries.
    ///   - privatePart: the type-specific public and private fields that follow the key type in the private section.
    ///   - comment: the key's comment.
    ///   - checkInt: the value of both check ints.
    static func privateKeyFile(
        algorithm: String, publicBlob: [UInt8], privatePart: [UInt8], comment: String, checkInt: UInt32
    ) -> String {
        var section = SSHWireWriter()
        section.uint32(checkInt)
        section.uint32(checkInt)
        section.string(algorithm)
        section.raw(privatePart)
        section.string(comment)
        var pad: UInt8 = 0
        while section.bytes.count % blockSize != 0 {
            pad += 1
            section.raw([pad])
        }

        var file = SSHWireWriter()
        file.raw(Array("openssh-key-v1".utf8) + [0])
        file.string("none")  // cipher
        file.string("none")  // kdf
        file.string("")  // kdf options
        file.uint32(1)  // number of keys
        file.string(publicBlob)
        file.string(section.bytes)

        let encoded = Data(file.bytes).base64EncodedString()
        var lines: [Substring] = []
        var start = encoded.startIndex
        while start < encoded.endIndex {
            let end = encoded.index(start, offsetBy: lineWidth, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(encoded[start..<end])
            start = end
        }
        return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + lines.joined(separator: "\n")
            + "\n-----END OPENSSH PRIVATE KEY-----\n"
    }
}

/// Appends values in the SSH wire encoding of RFC 4251 section 5.
struct SSHWireWriter {
    private(set) var bytes: [UInt8] = []

    /// Bytes as they are, with no length in front.
    mutating func raw(_ value: some Sequence<UInt8>) { bytes.append(contentsOf: value) }

    /// A big-endian 32-bit number.
    mutating func uint32(_ value: UInt32) {
        bytes.append(contentsOf: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) })
    }

    /// Bytes preceded by their length.
    mutating func string(_ value: some Collection<UInt8>) {
        uint32(UInt32(value.count))
        raw(value)
    }

    /// UTF-8 text preceded by its length.
    mutating func string(_ value: String) { string(Array(value.utf8)) }

    /// A non-negative integer given as big-endian bytes, as an mpint.
    mutating func mpint(_ magnitude: some Collection<UInt8>) {
        // An mpint is two's complement with no redundant leading bytes: a set top bit needs a 0x00 in front to stay
        // positive, and OpenSSH refuses any other leading zero.
        let trimmed = Array(magnitude.drop { $0 == 0 })
        if let first = trimmed.first, first & 0x80 != 0 {
            string([0] + trimmed)
        } else {
            string(trimmed)
        }
    }
}

/// The integers OpenSSH keeps for an RSA private key, as big-endian magnitudes.
struct RSAKeyComponents: Sendable {
    var n: [UInt8]
    var e: [UInt8]
    var d: [UInt8]
    var p: [UInt8]
    var q: [UInt8]
    /// q⁻¹ mod p, PKCS#1's `coefficient`.
    var iqmp: [UInt8]
}

extension RSAKeyComponents {
    /// Reads a PKCS#1 RSAPrivateKey (RFC 8017 A.1.2), or nil when `der` is not one.
    init?(pkcs1 der: [UInt8]) {
        var outer = DERReader(der[...])
        guard let body = outer.read(tag: DERReader.sequence), outer.isAtEnd else { return nil }
        var fields = DERReader(body)
        // version, n, e, d, p, q, d mod (p-1), d mod (q-1), q⁻¹ mod p; version 0 means two primes, which is all
        // OpenSSH can store.
        var values: [[UInt8]] = []
        while !fields.isAtEnd {
            guard let value = fields.readUnsignedInteger() else { return nil }
            values.append(value)
        }
        guard values.count == 9, values[0].isEmpty else { return nil }
        self.init(n: values[1], e: values[2], d: values[3], p: values[4], q: values[5], iqmp: values[8])
    }
}

/// Reads the few DER elements a PKCS#1 key is made of.
struct DERReader {
    static let integer: UInt8 = 0x02
    static let sequence: UInt8 = 0x30

    private var rest: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { rest = bytes }

    var isAtEnd: Bool { rest.isEmpty }

    /// The contents of the next element when its tag is `tag`, or nil.
    mutating func read(tag: UInt8) -> ArraySlice<UInt8>? {
        var cursor = rest
        guard cursor.popFirst() == tag, let first = cursor.popFirst() else { return nil }
        var length = Int(first)
        if first & 0x80 != 0 {
            // Long form: the low bits count the length bytes that follow; four is more than any key needs.
            let count = Int(first & 0x7f)
            guard (1...4).contains(count), cursor.count >= count else { return nil }
            length = 0
            for _ in 0..<count {
                length = length << 8 | Int(cursor.removeFirst())
            }
        }
        guard cursor.count >= length else { return nil }
        rest = cursor.dropFirst(length)
        return cursor.prefix(length)
    }

    /// The next INTEGER's magnitude without leading zeros (empty for zero), or nil if it is not a non-negative
    /// integer.
    mutating func readUnsignedInteger() -> [UInt8]? {
        guard let contents = read(tag: Self.integer), let first = contents.first, first & 0x80 == 0 else { return nil }
        return Array(contents.drop { $0 == 0 })
    }
}

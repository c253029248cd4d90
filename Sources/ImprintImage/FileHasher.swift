import Crypto

/// A file's checksum: SHA-256, or HMAC-SHA-256 in an encrypted image.
struct FileHasher {
    private var plain: SHA256?
    private var keyed: HMAC<SHA256>?

    init(key: ImageKey?) {
        if let key { keyed = HMAC<SHA256>(key: key.checksums) } else { plain = SHA256() }
    }

    mutating func update(bufferPointer bytes: UnsafeRawBufferPointer) {
        if plain != nil { plain!.update(bufferPointer: bytes) } else { keyed!.update(data: bytes) }
    }

    mutating func update(data bytes: [UInt8]) { bytes.withUnsafeBytes { update(bufferPointer: $0) } }

    func finalize() -> [UInt8] {
        if let plain { return Array(plain.finalize()) }
        return Array(keyed!.finalize())
    }
}

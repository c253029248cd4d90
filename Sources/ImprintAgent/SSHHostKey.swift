import Crypto
import _CryptoExtras
import Foundation
import ImprintCore

/// The host key algorithms a unit gets, one key file pair each under `/etc/ssh`.
public enum SSHKeyType: String, CaseIterable, Sendable {
    /// Ed25519, the algorithm current clients prefer.
    case ed25519
    /// ECDSA on NIST P-256.
    case ecdsa
    /// RSA with a 3072-bit modulus, the size ssh-keygen picks by default.
    case rsa

    /// The private key's file name, as `ssh-keygen -A` names it.
    public var fileName: String { "ssh_host_\(rawValue)_key" }

    /// The public key's file name.
    public var publicFileName: String { fileName + ".pub" }

    /// The algorithm name that starts the public key line and both key blobs.
    public var algorithm: String {
        switch self {
        case .ed25519: "ssh-ed25519"
        case .ecdsa: "ecdsa-sha2-nistp256"
        case .rsa: "ssh-rsa"
        }
    }

    /// The key size `ssh-keygen -l` reports.
    public var bits: Int {
        switch self {
        case .ed25519, .ecdsa: 256
        case .rsa: 3072
        }
    }
}

/// An SSH key could not be generated or encoded.
public enum SSHHostKeyError: Error, Sendable, CustomStringConvertible {
    /// The key of `type` could not be made; `reason` says why.
    case generation(type: SSHKeyType, reason: String)

    public var description: String {
        switch self {
        case let .generation(type, reason):
            return "cannot generate the \(type.rawValue) ssh host key: \(reason)"
        }
    }
}

/// An SSH host key pair, held as the text of its two files in OpenSSH's own formats.
public struct SSHHostKey: Sendable {
    /// The key's algorithm.
    public let type: SSHKeyType
    /// The private key file: unencrypted openssh-key-v1 between `-----BEGIN OPENSSH PRIVATE KEY-----` lines.
    /// - Important: sshd ignores a private key file that others can read: write it mode 0600.
    public let privateKeyFile: String
    /// The `.pub` file's one line, `ssh-ed25519 AAAA... root@HOSTNAME` and a newline.
    public let publicKeyLine: String
    /// `SHA256:` and the unpadded base64 digest of the public key, as `ssh-keygen -l` prints it.
    public let fingerprint: String

    /// Generates a new key pair in process, from the system's secure random source.
    /// - Parameters:
    ///   - type: the key's algorithm.
    ///   - comment: the comment both files carry, by convention `root@HOSTNAME`; it must be a single line.
    public static func generate(_ type: SSHKeyType, comment: String) throws(SSHHostKeyError) -> SSHHostKey {
        // Both check ints are the same number: OpenSSH compares them to detect a wrong passphrase.
        let checkInt = UInt32.random(in: .min ... .max)
        switch type {
        case .ed25519:
            let key = Curve25519.Signing.PrivateKey()
            return try ed25519(seed: [UInt8](key.rawRepresentation), comment: comment, checkInt: checkInt)
        case .ecdsa:
            let key = P256.Signing.PrivateKey()
            return try ecdsa(scalar: [UInt8](key.rawRepresentation), comment: comment, checkInt: checkInt)
        case .rsa:
            let der: Data
            do {
                der = try _RSA.Signing.PrivateKey(keySize: .bits3072).derRepresentation
            } catch {
                throw .generation(type: .rsa, reason: "\(error)")
            }
            guard let components = RSAKeyComponents(pkcs1: [UInt8](der)) else {
                throw .generation(type: .rsa, reason: "the key's DER encoding is not a PKCS#1 RSAPrivateKey")
            }
            return try rsa(components, comment: comment, checkInt: checkInt)
        }
    }

    /// The Ed25519 key pair whose private key is `seed` (32 bytes).
    static func ed25519(seed: [UInt8], comment: String, checkInt: UInt32) throws(SSHHostKeyError) -> SSHHostKey {
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed) else {
            throw .generation(type: .ed25519, reason: "a seed of \(seed.count) bytes is not an ed25519 private key")
        }
        let point = [UInt8](key.publicKey.rawRepresentation)
        var blob = SSHWireWriter()
        blob.string(SSHKeyType.ed25519.algorithm)
        blob.string(point)
        // OpenSSH keeps the secret as seed || public point, 64 bytes, as the reference implementation does.
        var secret = SSHWireWriter()
        secret.string(point)
        secret.string(seed + point)
        return try SSHHostKey(
            type: .ed25519, publicBlob: blob.bytes, privatePart: secret.bytes, comment: comment, checkInt: checkInt)
    }

    /// The ECDSA P-256 key pair whose private scalar is `scalar`, big-endian, with or without leading zeros.
    static func ecdsa(scalar: [UInt8], comment: String, checkInt: UInt32) throws(SSHHostKeyError) -> SSHHostKey {
        let magnitude = Array(scalar.drop { $0 == 0 })
        let padded = [UInt8](repeating: 0, count: max(0, 32 - magnitude.count)) + magnitude
        guard magnitude.count <= 32, let key = try? P256.Signing.PrivateKey(rawRepresentation: padded) else {
            throw .generation(type: .ecdsa, reason: "a scalar of \(magnitude.count) bytes is not a p-256 private key")
        }
        // x963 is the uncompressed point 0x04 || X || Y that RFC 5656 calls Q.
        let point = [UInt8](key.publicKey.x963Representation)
        var blob = SSHWireWriter()
        blob.string(SSHKeyType.ecdsa.algorithm)
        blob.string("nistp256")
        blob.string(point)
        var secret = SSHWireWriter()
        secret.string("nistp256")
        secret.string(point)
        secret.mpint(magnitude)
        return try SSHHostKey(
            type: .ecdsa, publicBlob: blob.bytes, privatePart: secret.bytes, comment: comment, checkInt: checkInt)
    }

    /// The RSA key pair made of `components`.
    static func rsa(
        _ components: RSAKeyComponents, comment: String, checkInt: UInt32
    ) throws(SSHHostKeyError) -> SSHHostKey {
        // The public blob has e before n; the private section has n before e (sshkey.c notes the same).
        var blob = SSHWireWriter()
        blob.string(SSHKeyType.rsa.algorithm)
        blob.mpint(components.e)
        blob.mpint(components.n)
        var secret = SSHWireWriter()
        for value in [components.n, components.e, components.d, components.iqmp, components.p, components.q] {
            secret.mpint(value)
        }
        return try SSHHostKey(
            type: .rsa, publicBlob: blob.bytes, privatePart: secret.bytes, comment: comment, checkInt: checkInt)
    }

    /// Builds both files from a key's public blob and the type-specific fields of its private section.
    init(
        type: SSHKeyType, publicBlob: [UInt8], privatePart: [UInt8], comment: String, checkInt: UInt32
    ) throws(SSHHostKeyError) {
        // A line break would split the .pub line in two, and sshd would read the second half as another key.
        guard !comment.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .generation(
                type: type, reason: "comment \(quoted(comment)) must be one line without control characters")
        }
        self.type = type
        self.privateKeyFile = OpenSSHKeyFile.privateKeyFile(
            algorithm: type.algorithm, publicBlob: publicBlob, privatePart: privatePart, comment: comment,
            checkInt: checkInt)
        // Without a comment ssh-keygen ends the line after the key, with no trailing space.
        let fields = [type.algorithm, Data(publicBlob).base64EncodedString()] + (comment.isEmpty ? [] : [comment])
        self.publicKeyLine = fields.joined(separator: " ") + "\n"
        self.fingerprint = Self.fingerprint(ofBlob: Data(publicBlob))
    }

    /// The fingerprint `ssh-keygen -l` prints for a public key blob: SHA256 in base64 without padding.
    static func fingerprint(ofBlob blob: Data) -> String {
        "SHA256:" + Data(SHA256.hash(data: blob)).base64EncodedString().prefix { $0 != "=" }
    }
}

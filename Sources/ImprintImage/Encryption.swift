import Crypto
import Foundation
import _CryptoExtras

/// How an encrypted image's key is made from its passphrase, recorded in the manifest (which stays readable, so a
/// library can tell the image's models without the passphrase).
public struct ImageEncryption: Codable, Equatable, Sendable {
    /// "aes-256-gcm": each data block's compressed bytes sealed, its header authenticated.
    public var cipher: String
    /// "scrypt", with its cost parameters.
    public var kdf: String
    public var rounds: Int
    public var blockSize: Int
    public var parallelism: Int
    public var salt: Data
    /// A constant sealed with the key, so a wrong passphrase is told before any block is read.
    public var check: Data

    static let checkText = Data("imprint key check".utf8)
}

/// The keys of one encrypted image: AES-256-GCM for the blocks, HMAC-SHA-256 for the file checksums (a plain
/// SHA-256 of each file would tell which known files the image holds).
struct ImageKey: Sendable {
    private var cipherBytes: [UInt8]
    private var checksumBytes: [UInt8]
    var cipher: SymmetricKey { SymmetricKey(data: cipherBytes) }
    var checksums: SymmetricKey { SymmetricKey(data: checksumBytes) }

    /// New encryption parameters and keys for `passphrase` (scrypt N = 2^15, r = 8, p = 1: 32 MiB, ~0.1 s).
    static func create(passphrase: String, rounds: Int = 1 << 15) throws -> (ImageEncryption, ImageKey) {
        var salt = Data(count: 16)
        for index in salt.indices { salt[index] = UInt8.random(in: 0...255) }
        var parameters = ImageEncryption(
            cipher: "aes-256-gcm", kdf: "scrypt", rounds: rounds, blockSize: 8, parallelism: 1, salt: salt, check: Data())
        let key = try derive(passphrase, parameters)
        parameters.check = try AES.GCM.seal(ImageEncryption.checkText, using: key.cipher, nonce: try checkNonce()).combined ?? Data()
        return (parameters, key)
    }

    /// The keys for `passphrase`; a wrong passphrase is an error.
    static func open(passphrase: String, _ parameters: ImageEncryption) throws -> ImageKey {
        guard parameters.cipher == "aes-256-gcm", parameters.kdf == "scrypt" else {
            throw ImageError.invalid(value: parameters.cipher, reason: "this imprint reads only aes-256-gcm images keyed with scrypt")
        }
        let key = try derive(passphrase, parameters)
        guard let box = try? AES.GCM.SealedBox(combined: parameters.check),
            let text = try? AES.GCM.open(box, using: key.cipher), text == ImageEncryption.checkText
        else { throw ImageError.wrongPassphrase }
        return key
    }

    private static func derive(_ passphrase: String, _ parameters: ImageEncryption) throws -> ImageKey {
        // The manifest is read before anything is checked: swift-crypto traps on negative values, and scrypt's
        // memory (128 * N * r bytes) is capped at 256 MiB, 8 times what capture uses.
        let (rounds, blockSize, parallelism) = (parameters.rounds, parameters.blockSize, parameters.parallelism)
        guard (2...(1 << 20)).contains(rounds), rounds & (rounds - 1) == 0, (1...16).contains(blockSize),
            (1...4).contains(parallelism), 128 * rounds * blockSize <= 256 << 20
        else {
            throw ImageError.invalid(
                value: "scrypt N=\(rounds) r=\(blockSize) p=\(parallelism)",
                reason: "the key parameters in the manifest are out of range; the image is damaged or not made by imprint")
        }
        let derived: SymmetricKey
        do {
            derived = try KDF.Scrypt.deriveKey(
                from: Array(passphrase.utf8), salt: parameters.salt, outputByteCount: 64, rounds: rounds,
                blockSize: blockSize, parallelism: parallelism)
        } catch {
            throw ImageError.invalid(
                value: "scrypt N=\(rounds) r=\(blockSize) p=\(parallelism)", reason: "the key cannot be derived with these parameters (\(error))")
        }
        let bytes = derived.withUnsafeBytes { Array($0) }
        return ImageKey(cipherBytes: Array(bytes[0..<32]), checksumBytes: Array(bytes[32..<64]))
    }

    private static func checkNonce() throws -> AES.GCM.Nonce { try AES.GCM.Nonce(data: [UInt8](repeating: 0xff, count: 12)) }

    /// The nonce of block `sequence`: unique per key, since every image has its own salt.
    private func nonce(_ sequence: UInt64) throws -> AES.GCM.Nonce {
        var bytes = [UInt8](repeating: 0, count: 4)
        bytes.appendLittleEndian(sequence)
        return try AES.GCM.Nonce(data: bytes)
    }

    /// `plain` sealed: ciphertext then the 16-byte tag, with `header` authenticated too.
    func seal(_ plain: ArraySlice<UInt8>, sequence: UInt64, header: [UInt8]) throws -> [UInt8] {
        let box = try AES.GCM.seal(plain, using: cipher, nonce: try nonce(sequence), authenticating: header)
        return Array(box.ciphertext) + Array(box.tag)
    }

    /// The plain bytes, or nil when the block or its header was changed (or the key is not the image's).
    func open(_ sealed: ArraySlice<UInt8>, sequence: UInt64, header: [UInt8]) -> [UInt8]? {
        guard sealed.count >= 16, let nonce = try? nonce(sequence),
            let box = try? AES.GCM.SealedBox(nonce: nonce, ciphertext: sealed.dropLast(16), tag: sealed.suffix(16)),
            let plain = try? AES.GCM.open(box, using: cipher, authenticating: header)
        else { return nil }
        return Array(plain)
    }
}

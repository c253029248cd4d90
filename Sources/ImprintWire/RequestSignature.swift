import Crypto
import Foundation

/// The signature a unit puts on a request: HMAC-SHA256 over the method, the path, a server nonce and the body's
/// digest, keyed by the SHA-256 of the unit's token. The server keeps only that digest, so its database never holds a
/// token a unit could be impersonated with elsewhere (an image download needs a fresh signature, too).
public struct RequestSignature: Equatable, Sendable {
    public static let unitHeader = "Imprint-Unit"
    public static let nonceHeader = "Imprint-Nonce"
    public static let signatureHeader = "Imprint-Signature"

    public var unit: String
    public var nonce: String
    /// Lowercase hex.
    public var signature: String

    public init(unit: String, nonce: String, signature: String) {
        self.unit = unit
        self.nonce = nonce
        self.signature = signature
    }

    /// Signs a request with a unit's token.
    public static func sign(
        token: String, unit: String, method: String, path: String, nonce: String, body: some DataProtocol
    ) -> RequestSignature {
        sign(key: tokenDigest(token), unit: unit, method: method, path: path, nonce: nonce, body: body)
    }

    /// Signs with the key the server keeps (the token's digest).
    public static func sign(
        key: Data, unit: String, method: String, path: String, nonce: String, body: some DataProtocol
    ) -> RequestSignature {
        let message = canonical(method: method, path: path, nonce: nonce, body: body)
        let code = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: key))
        return RequestSignature(unit: unit, nonce: nonce, signature: hex(code))
    }

    /// Whether this signature is the one `key` makes over the request; compared in constant time.
    public func isValid(key: Data, method: String, path: String, body: some DataProtocol) -> Bool {
        guard let given = Self.bytes(ofHex: signature) else { return false }
        let message = Self.canonical(method: method, path: path, nonce: nonce, body: body)
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Data(message.utf8), using: SymmetricKey(data: key))
    }

    /// What is signed: one line each for the method, the path with its query, the nonce and the body's SHA-256.
    public static func canonical(method: String, path: String, nonce: String, body: some DataProtocol) -> String {
        "\(method.uppercased())\n\(path)\n\(nonce)\n\(hex(SHA256.hash(data: body)))"
    }

    /// The SHA-256 of a token, which the server stores and both sides key the HMAC with.
    public static func tokenDigest(_ token: String) -> Data { Data(SHA256.hash(data: Data(token.utf8))) }

    /// A new random token or nonce: 32 bytes from the system's generator, base64url without padding.
    public static func randomToken(bytes count: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func bytes(ofHex text: String) -> Data? {
        guard text.count == 64 else { return nil }
        var data = Data(capacity: 32)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            data.append(byte)
            index = next
        }
        return data
    }
}

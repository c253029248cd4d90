import Foundation
import ImprintCore
import ImprintWire

/// How a unit finds its deployment server again after a restore: the server's address and the unit's credential,
/// two files in the unit's root.
///
/// The address is a site's setting and may stay in an image captured from a unit. The credential is the unit's
/// alone: it lives under /var/lib/imprint, which `capture --generalize` leaves out whole (the identity-file table's
/// `imprint-state`), so a master captured from a restored unit never hands its token to every clone.
public enum ServerLink {
    /// The server's root URL, one line.
    public static let addressPath = ImprintPaths.serverAddress
    /// The certificate authority (PEM) the server's https certificate is checked against, when the site has its own.
    public static let authorityPath = ImprintPaths.serverAuthority
    /// The unit's name and token as JSON (`{"token": "...", "unit": "LAB-01"}`), mode 0600, owned by root.
    public static let credentialPath = "/var/lib/imprint/server-token"

    /// Writes the server's address, the authority its certificate is trusted by (when given) and the unit's
    /// credential into `root`, each atomically.
    /// - Important: replaces the files a previous restore or window left.
    public static func write(server: String, authority: Data? = nil, credential: UnitCredential, into root: TargetRoot) throws {
        try root.write(addressPath, Data((server + "\n").utf8), metadata: FileMetadata(mode: 0o644))
        if let authority { try root.write(authorityPath, authority, metadata: FileMetadata(mode: 0o644)) }
        let encoded = try JSONEncoder.server.encode(credential)
        try root.write(credentialPath, encoded + Data("\n".utf8), metadata: FileMetadata(mode: 0o600))
    }

    /// The server's address kept in `root`, nil when none.
    public static func server(in root: TargetRoot) throws -> String? {
        guard let text = try root.readTrimmedText(addressPath), !text.isEmpty else { return nil }
        return text
    }

    /// Where the authority kept in `root` is on this system, for `ServerClient`; nil when there is none.
    public static func authority(in root: TargetRoot) throws -> String? {
        root.exists(authorityPath) ? try root.resolve(authorityPath) : nil
    }

    /// Reads a certificate authority file given on the command line: one or more PEM certificates.
    public static func readAuthority(_ path: String) throws(RemoteError) -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .credential(path: path, reason: "cannot be read; give the site's certificate authority as a PEM file")
        }
        guard String(decoding: data, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
            throw .credential(path: path, reason: "holds no PEM certificate ('-----BEGIN CERTIFICATE-----'); convert a DER one with 'openssl x509 -inform der -in FILE -out FILE.pem'")
        }
        return data
    }

    /// The unit's credential kept in `root`, nil when none.
    public static func credential(in root: TargetRoot) throws -> UnitCredential? {
        guard let data = try root.readFile(credentialPath) else { return nil }
        return try parseCredential(data)
    }

    /// Reads a credential file's contents.
    public static func parseCredential(_ data: Data) throws(RemoteError) -> UnitCredential {
        let credential: UnitCredential
        do {
            credential = try JSONDecoder.server.decode(UnitCredential.self, from: data)
        } catch {
            throw .credential(path: credentialPath, reason: "not a unit credential (JSON with unit and token); delete it, and the admin arms the unit again")
        }
        guard !credential.unit.isEmpty, !credential.token.isEmpty else {
            throw .credential(path: credentialPath, reason: "the unit or the token is empty; delete it, and the admin arms the unit again")
        }
        return credential
    }
}

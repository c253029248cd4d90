import Foundation
@testable import ImprintAgent
import ImprintTestSupport
import Testing

/// Checks the generated files with the real tools: Debian's openssh-client, openssh-server and openssl.
@Suite struct SSHHostKeyTests {
    static let sshKeygen = "/usr/bin/ssh-keygen"
    static let comment = "root@rm204-07"

    /// Writes `key`'s two files into `folder` with the modes sshd expects, and returns the private file's path.
    @discardableResult
    func install(_ key: SSHHostKey, in folder: TemporaryDirectory, privateMode: Int = 0o600) throws -> String {
        let path = try folder.write(key.type.fileName, key.privateKeyFile)
        try FileManager.default.setAttributes([.posixPermissions: privateMode], ofItemAtPath: path)
        let publicPath = try folder.write(key.type.publicFileName, key.publicKeyLine)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: publicPath)
        return path
    }

    /// sshd -t with only `hostKey` (see ImprintTestSupport).
    func sshdTest(hostKey: String) throws -> ProcessResult {
        try ImprintTestSupport.sshdTest(hostKeys: [hostKey])
    }

    /// The type tag ssh-keygen -l ends its line with.
    func tag(_ type: SSHKeyType) -> String {
        switch type {
        case .ed25519: "(ED25519)"
        case .ecdsa: "(ECDSA)"
        case .rsa: "(RSA)"
        }
    }

    /// The file names are the ones sshd's default configuration and ssh-keygen -A use.
    @Test func fileNames() {
        let names = SSHKeyType.allCases.map(\.fileName)
        #expect(names == ["ssh_host_ed25519_key", "ssh_host_ecdsa_key", "ssh_host_rsa_key"])
        #expect(SSHKeyType.ecdsa.publicFileName == "ssh_host_ecdsa_key.pub")
    }

    /// ssh-keygen reads the private file alone: it prints our fingerprint, size and type, and derives our public key.
    @Test(arguments: SSHKeyType.allCases) func readBySSHKeygen(type: SSHKeyType) throws {
        let key = try SSHHostKey.generate(type, comment: Self.comment)
        let folder = try TemporaryDirectory()
        // Only the private file, so ssh-keygen cannot fall back on a .pub next to it.
        let path = try folder.write(type.fileName, key.privateKeyFile)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)

        let listed = try runProcess(Self.sshKeygen, ["-l", "-f", path])
        #expect(listed.status == 0, "\(listed.error)")
        let fields = listed.output.split(separator: " ")
        #expect(fields.first == "\(type.bits)")
        #expect(fields.dropFirst().first.map(String.init) == key.fingerprint)
        #expect(listed.output.hasSuffix(" \(tag(type))\n"))

        let derived = try runProcess(Self.sshKeygen, ["-y", "-f", path])
        #expect(derived.status == 0, "\(derived.error)")
        #expect(derived.output.split(separator: " ").prefix(2) == key.publicKeyLine.split(separator: " ").prefix(2))
    }

    /// The .pub line is the whole line ssh-keygen -l expects: size, our fingerprint, the comment, the type.
    @Test(arguments: SSHKeyType.allCases) func publicLineReadBySSHKeygen(type: SSHKeyType) throws {
        let key = try SSHHostKey.generate(type, comment: Self.comment)
        let folder = try TemporaryDirectory()
        try install(key, in: folder)
        #expect(key.publicKeyLine.hasPrefix("\(type.algorithm) AAAA"))
        #expect(key.publicKeyLine.hasSuffix(" \(Self.comment)\n"))
        let listed = try runProcess(Self.sshKeygen, ["-l", "-f", folder.file(type.publicFileName)])
        #expect(listed.status == 0, "\(listed.error)")
        #expect(listed.output == "\(type.bits) \(key.fingerprint) \(Self.comment) \(tag(type))\n")
    }

    /// sshd -t accepts the private file as its only host key.
    @Test(arguments: SSHKeyType.allCases) func acceptedBySSHD(type: SSHKeyType) throws {
        let key = try SSHHostKey.generate(type, comment: Self.comment)
        let folder = try TemporaryDirectory()
        let result = try sshdTest(hostKey: try install(key, in: folder))
        #expect(result.status == 0, "\(result.error)")
    }

    /// A signature made with the private file verifies against the .pub line, so the secret half matches the public.
    @Test(arguments: SSHKeyType.allCases) func signsForItsPublicKey(type: SSHKeyType) throws {
        let key = try SSHHostKey.generate(type, comment: Self.comment)
        let folder = try TemporaryDirectory()
        let path = try install(key, in: folder)
        let message = "imprint \(type.rawValue)\n"
        let signed = try runProcess(Self.sshKeygen, ["-Y", "sign", "-f", path, "-n", "imprint"], input: message)
        #expect(signed.status == 0, "\(signed.error)")
        let signature = try folder.write("message.sig", signed.output)
        let publicKey = key.publicKeyLine.split(separator: " ").prefix(2).joined(separator: " ")
        let signers = try folder.write("allowed_signers", "\(Self.comment) \(publicKey)\n")
        let verified = try runProcess(
            Self.sshKeygen, ["-Y", "verify", "-f", signers, "-I", Self.comment, "-n", "imprint", "-s", signature],
            input: message)
        #expect(verified.status == 0, "\(verified.error)")
    }

    /// OpenSSL's key check accepts the RSA key's p, q and iqmp, which sshd and signing would silently work around.
    @Test func rsaCRTValuesConsistent() throws {
        let key = try SSHHostKey.generate(.rsa, comment: Self.comment)
        let folder = try TemporaryDirectory()
        let path = try install(key, in: folder)
        // Rewriting the key as PKCS#1 PEM keeps our p, q and iqmp and lets openssl check them.
        let converted = try runProcess(Self.sshKeygen, ["-q", "-p", "-m", "PEM", "-P", "", "-N", "", "-f", path])
        #expect(converted.status == 0, "\(converted.error)")
        let checked = try runProcess("/usr/bin/openssl", ["rsa", "-check", "-noout", "-in", path])
        #expect(checked.status == 0, "\(checked.error)")
        #expect(checked.output == "RSA key ok\n")
    }

    /// Two keys of one type differ, in the secret and the fingerprint.
    @Test(arguments: SSHKeyType.allCases) func keysDiffer(type: SSHKeyType) throws {
        let first = try SSHHostKey.generate(type, comment: Self.comment)
        let second = try SSHHostKey.generate(type, comment: Self.comment)
        #expect(first.privateKeyFile != second.privateKeyFile)
        #expect(first.publicKeyLine != second.publicKeyLine)
        #expect(first.fingerprint != second.fingerprint)
    }

    /// sshd rejects the same file once others can read it, so the accepting sshd -t above is a real check.
    @Test func sshdRejectsReadableKey() throws {
        let key = try SSHHostKey.generate(.ed25519, comment: Self.comment)
        let folder = try TemporaryDirectory()
        let path = try install(key, in: folder, privateMode: 0o644)
        let result = try sshdTest(hostKey: path)
        #expect(result.status != 0)
        #expect(result.error.contains("too open"), "\(result.error)")
    }

    /// Given ssh-keygen's own key and check int, the files come out byte for byte as ssh-keygen wrote them.
    @Test(arguments: SSHKeyType.allCases) func sameBytesAsSSHKeygen(type: SSHKeyType) throws {
        let folder = try TemporaryDirectory()
        let path = folder.file("reference")
        let made = try runProcess(
            Self.sshKeygen, ["-q", "-t", type.rawValue, "-b", "\(type.bits)", "-N", "", "-C", Self.comment, "-f", path])
        #expect(made.status == 0, "\(made.error)")
        let privateFile = try String(contentsOfFile: path, encoding: .utf8)
        let publicLine = try String(contentsOfFile: path + ".pub", encoding: .utf8)

        let parsed = try ReferenceKey(privateFile)
        var fields = parsed.fields
        let rebuilt: SSHHostKey
        switch type {
        case .ed25519:
            _ = try fields.string()  // the public point
            let secret = try fields.string()  // seed || public point
            rebuilt = try SSHHostKey.ed25519(
                seed: Array(secret.prefix(32)), comment: Self.comment, checkInt: parsed.checkInt)
        case .ecdsa:
            _ = try fields.string()  // the curve name
            _ = try fields.string()  // the public point
            rebuilt = try SSHHostKey.ecdsa(
                scalar: try fields.string(), comment: Self.comment, checkInt: parsed.checkInt)
        case .rsa:
            let n = try fields.string(), e = try fields.string(), d = try fields.string()
            let iqmp = try fields.string(), p = try fields.string(), q = try fields.string()
            let components = RSAKeyComponents(n: n, e: e, d: d, p: p, q: q, iqmp: iqmp)
            rebuilt = try SSHHostKey.rsa(components, comment: Self.comment, checkInt: parsed.checkInt)
        }
        #expect(rebuilt.privateKeyFile == privateFile)
        #expect(rebuilt.publicKeyLine == publicLine)
        let listed = try runProcess(Self.sshKeygen, ["-l", "-f", path + ".pub"])
        #expect(listed.output.contains(" \(rebuilt.fingerprint) "))
    }

    /// A PKCS#1 RSAPrivateKey yields its components; truncated, trailing or negative input is refused, not misread.
    @Test func readsPKCS1() {
        // SEQUENCE { 0, 0x00c3 (n), 3 (e), 5 (d), 7 (p), 11 (q), 1, 2, 4 (qinv) }
        let der: [UInt8] = [0x30, 0x1c, 0x02, 0x01, 0x00, 0x02, 0x02, 0x00, 0xc3, 0x02, 0x01, 0x03, 0x02, 0x01, 0x05,
                            0x02, 0x01, 0x07, 0x02, 0x01, 0x0b, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x02, 0x01, 0x04]
        let components = RSAKeyComponents(pkcs1: der)
        #expect(components?.n == [0xc3])
        #expect(components?.e == [0x03])
        #expect(components?.iqmp == [0x04])
        #expect(RSAKeyComponents(pkcs1: Array(der.dropLast())) == nil)
        #expect(RSAKeyComponents(pkcs1: der + [0x00]) == nil)
        var negative = der
        negative[7] = 0x80
        #expect(RSAKeyComponents(pkcs1: negative) == nil)
    }

    /// mpints get a 0x00 in front only when the top bit is set, and lose any other leading zeros.
    @Test func mpintEncoding() {
        var writer = SSHWireWriter()
        writer.mpint([0x00, 0x00, 0x7f])
        writer.mpint([0x80])
        writer.mpint([0x00])
        #expect(writer.bytes == [0, 0, 0, 1, 0x7f, 0, 0, 0, 2, 0x00, 0x80, 0, 0, 0, 0])
    }

    /// A comment with a line break is refused, naming the comment, since it would split the .pub line.
    @Test func commentOnOneLine() {
        #expect { try SSHHostKey.generate(.ed25519, comment: "root@rm204\nssh-rsa AAAA") } throws: {
            String(describing: $0).contains("comment 'root@rm204\\nssh-rsa AAAA'")
        }
    }
}

/// The check int and key fields of an unencrypted openssh-key-v1 file, read back to compare with ssh-keygen's.
struct ReferenceKey {
    var checkInt: UInt32
    /// The private section from just after the key type name.
    var fields: WireReader

    init(_ text: String) throws {
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let data = try #require(Data(base64Encoded: body))
        var file = WireReader(Array(data)[...])
        #expect(try file.bytes(15) == Array("openssh-key-v1\0".utf8))
        #expect(try file.string() == Array("none".utf8))
        #expect(try file.string() == Array("none".utf8))
        #expect(try file.string() == [])
        #expect(try file.uint32() == 1)
        _ = try file.string()
        var section = WireReader(try file.string()[...])
        checkInt = try section.uint32()
        #expect(try section.uint32() == checkInt)
        _ = try section.string()
        fields = section
    }
}

/// Reads the SSH wire encoding of RFC 4251.
struct WireReader {
    var rest: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { rest = bytes }

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        try #require(rest.count >= count)
        defer { rest = rest.dropFirst(count) }
        return Array(rest.prefix(count))
    }

    mutating func uint32() throws -> UInt32 {
        try bytes(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func string() throws -> [UInt8] {
        try bytes(Int(try uint32()))
    }
}

import Foundation
import ImprintCore

/// Plans new SSH host keys of the types the image had (all three when it had none, as a generalized image has
/// none), written in OpenSSH's formats: private 0600 and public 0644, owned by root.
enum HostKeysStep {
    struct Result {
        var changes: [FileChange]
        var keys: [IdentityRecord.HostKey]
        var notes: [String]
    }

    static func plan(_ profile: UnitProfile, root: TargetRoot) throws -> Result {
        let present = SSHKeyType.allCases.filter { type in
            root.exists(path(type.fileName)) || root.exists(path(type.publicFileName))
        }
        var notes: [String] = []
        if present.isEmpty {
            notes.append("the image had no SSH host keys; making ed25519, ecdsa and rsa keys so sshd starts")
        }
        var result = Result(changes: [], keys: [], notes: notes)
        for type in present.isEmpty ? SSHKeyType.allCases : present {
            let key = try SSHHostKey.generate(type, comment: "root@\(profile.hostname.value)")
            let privatePath = path(type.fileName)
            let publicPath = path(type.publicFileName)
            result.changes.append(FileChange(
                step: .hostKeys, path: privatePath, reason: "a new \(type.rawValue) host key: clones must not share the master's",
                action: .write(contents: Data(key.privateKeyFile.utf8), metadata: FileMetadata(mode: 0o600)),
                before: try root.readFile(privatePath), secret: true))
            result.changes.append(FileChange(
                step: .hostKeys, path: publicPath, reason: "its public half, fingerprint \(key.fingerprint)",
                action: .write(contents: Data(key.publicKeyLine.utf8), metadata: FileMetadata(mode: 0o644)),
                before: try root.readFile(publicPath)))
            result.keys.append(IdentityRecord.HostKey(type: type.rawValue, fingerprint: key.fingerprint))
        }
        return result
    }

    /// The fingerprints of the host keys the root has now (from the .pub files), for the identity line of a run
    /// that keeps them. A .pub line that cannot be read is left out.
    static func current(root: TargetRoot) throws(CoreError) -> [IdentityRecord.HostKey] {
        var keys: [IdentityRecord.HostKey] = []
        for type in SSHKeyType.allCases {
            guard let line = try root.readTrimmedText(path(type.publicFileName)) else { continue }
            let fields = line.split(separator: " ")
            guard fields.count >= 2, fields[0] == type.algorithm, let blob = Data(base64Encoded: String(fields[1])) else { continue }
            keys.append(IdentityRecord.HostKey(type: type.rawValue, fingerprint: SSHHostKey.fingerprint(ofBlob: blob)))
        }
        return keys
    }

    /// A host key file's path, in the folder of the table's entry ("/etc/ssh/ssh_host_rsa_key").
    static func path(_ fileName: String) -> String { IdentityFile.sshHostKeys.folder + "/" + fileName }
}

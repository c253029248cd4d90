import Foundation
import ImprintCore

/// Plans a new machine identity: /etc/machine-id, the D-Bus copy, systemd's random seed and credential secret, and
/// /etc/hostid and the iSCSI initiator name where the image has them.
enum MachineIDStep {
    /// The master's id, read before the change, and the new one.
    struct Result {
        var changes: [FileChange]
        var oldID: String?
        var newID: String
        var notes: [String]
    }

    static func plan(root: TargetRoot, random: RandomSource, newID freshID: String, live: Bool) throws(CoreError) -> Result {
        var changes: [FileChange] = []
        var notes: [String] = []
        let machineIDPath = IdentityFile.machineID.path
        let current = try root.readFile(machineIDPath)
        let oldID = current.flatMap { String(data: $0, encoding: .utf8) }?.trimmingCharacters(in: .whitespacesAndNewlines)
        // On a running unit whose master id is on record ('imprint install' keeps it), an id that differs from it
        // was made by systemd at this first boot: it is already the unit's own, and every service uses it.
        let masterID = try root.readTrimmedText(masterIDPath)
        let newID: String
        var previousID = oldID
        if live, let oldID, isValid(oldID), let masterID, oldID != masterID {
            newID = oldID
            previousID = masterID
            notes.append("machine-id \(oldID) kept: systemd made it at first boot (the master's was \(masterID))")
        } else {
            newID = freshID
            changes.append(FileChange(
                step: .machineID, path: machineIDPath, reason: "a fresh id: clones must not share the master's",
                action: .write(contents: Data((newID + "\n").utf8), metadata: FileMetadata(mode: 0o444)), before: current))
            if live {
                notes.append("the running system still uses machine-id \(oldID ?? "(none)"); reboot the unit so every service takes the new one")
            }
        }

        // A stale D-Bus copy brings the old id back; Debian makes it a link to /etc/machine-id.
        let dbus = IdentityFile.dbusMachineID.path
        if try root.linkTarget(dbus) == nil {
            if let copy = try root.readFile(dbus) {
                changes.append(FileChange(
                    step: .machineID, path: dbus, reason: "D-Bus's copy must equal /etc/machine-id",
                    action: .write(contents: Data((newID + "\n").utf8), metadata: FileMetadata(mode: 0o444)), before: copy))
            } else if root.exists(IdentityFile.dbusMachineID.folder) {
                changes.append(FileChange(
                    step: .machineID, path: dbus, reason: "D-Bus reads the machine-id here",
                    action: .symlink(target: machineIDPath), before: nil))
            }
        }
        if let seed = try root.readFile(IdentityFile.randomSeed.path) {
            changes.append(FileChange(
                step: .machineID, path: IdentityFile.randomSeed.path, reason: "clones must not start from the master's entropy",
                action: .write(contents: Data(random.bytes(512)), metadata: FileMetadata(mode: 0o600)), before: seed, secret: true))
        }
        if let secret = try root.readFile(IdentityFile.credentialSecret.path) {
            changes.append(FileChange(
                step: .machineID, path: IdentityFile.credentialSecret.path,
                reason: "systemd makes a new one at boot; the master's would decrypt the clones' credentials",
                action: .remove, before: secret, secret: true))
        }
        if let hostid = try root.readFile(IdentityFile.hostID.path) {
            changes.append(FileChange(
                step: .machineID, path: IdentityFile.hostID.path, reason: "a fresh host id (ZFS and licence checks read it)",
                action: .write(contents: Data(random.bytes(4)), metadata: nil), before: hostid))
        }
        let iscsi = IdentityFile.iscsiInitiator.path
        if let initiator = try root.readFile(iscsi), let text = String(data: initiator, encoding: .utf8) {
            changes.append(FileChange(
                step: .machineID, path: iscsi, reason: "every iSCSI initiator needs its own name",
                action: .write(contents: Data(renameInitiator(text, random: random).utf8), metadata: nil), before: initiator))
        }
        return Result(changes: changes, oldID: previousID, newID: newID, notes: notes)
    }

    /// Where `imprint install` keeps the master's machine-id.
    static let masterIDPath = IdentityFile.imprintState.path + "/master-machine-id"

    /// Whether `text` is a machine-id as systemd writes it: 32 lowercase hex digits, not all zero.
    static func isValid(_ text: String) -> Bool {
        text.utf8.count == 32 && text.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
            && text.contains { $0 != "0" }
    }

    /// The initiator file with the unique part of its `InitiatorName=` (after the last ':') made new.
    static func renameInitiator(_ text: String, random: RandomSource) -> String {
        var lines = text.components(separatedBy: "\n")
        for index in lines.indices where lines[index].hasPrefix("InitiatorName=") {
            let name = lines[index].dropFirst("InitiatorName=".count)
            let base = name.lastIndex(of: ":").map { String(name[...$0]) } ?? "iqn.2004-10.com.debian:01:"
            lines[index] = "InitiatorName=\(base)\(random.hex(6))"
        }
        return lines.joined(separator: "\n")
    }
}

/// A machine-id as systemd writes it: 32 lowercase hex digits, from libuuid's random UUID.
@Sendable public func freshMachineID() -> String {
    SMBIOSUUID.random().replacingOccurrences(of: "-", with: "")
}

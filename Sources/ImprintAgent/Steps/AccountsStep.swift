import Foundation
import ImprintCore

/// Plans the unit's local accounts by writing the image's /etc/passwd, /etc/shadow, /etc/group and /etc/gshadow
/// itself, consistently, in one journaled run: each file is replaced atomically and backed up, and a run killed
/// between two of them is undone by the next, so no half-written /etc/shadow and no user without a shadow line is
/// ever left. (The image's own useradd in a chroot would need root, a chroot and /proc on the host, could not show
/// a diff in a dry run, and its changes would be outside the run's backups and rollback.)
///
/// A new account gets the lowest uid (and a group of its own with the same id) from the image's login.defs range,
/// a home folder with the image's /etc/skel; an account the image already has keeps its uid, home and other groups.
/// An autologin account is written into the display manager's own configuration (LightDM or GDM).
enum AccountsStep {
    struct Result {
        var changes: [FileChange]
        var notes: [String]
    }

    /// LightDM's drop-in Imprint owns: removed when no account of the unit logs in automatically any more.
    static let lightDMDropIn = "/etc/lightdm/lightdm.conf.d/50-imprint-autologin.conf"

    static func plan(_ profile: UnitProfile, root: TargetRoot, time: Date) throws -> Result {
        var result = Result(changes: [], notes: [])
        let autologins = profile.accounts.filter(\.autologin)
        if autologins.count > 1 {
            throw CoreError.invalidValue(
                field: "autologin", value: autologins.map(\.name).joined(separator: ", "),
                reason: "unit \(profile.hostname) would log in more than one account automatically (its group's and its own); keep one")
        }
        if profile.accounts.isEmpty {
            if let before = try root.readFile(lightDMDropIn) {
                result.changes.append(FileChange(
                    step: .accounts, path: lightDMDropIn, reason: "no account logs in automatically any more", action: .remove, before: before))
            }
            return result
        }
        guard let passwdData = try root.readFile("/etc/passwd") else {
            throw CoreError.invalidValue(field: "root", value: root.path, reason: "has no /etc/passwd to add accounts to; is it a restored system?")
        }
        var files = AccountFiles(
            passwd: lines(passwdData), shadow: try root.readFile("/etc/shadow").map(lines) ?? [],
            group: try root.readFile("/etc/group").map(lines) ?? [], gshadow: try root.readFile("/etc/gshadow").map(lines))
        let defs = LoginDefs(try root.readFile("/etc/login.defs").map { String(decoding: $0, as: UTF8.self) } ?? "")
        let today = Int(time.timeIntervalSince1970 / 86400)
        var homes: [(path: String, uid: UInt32, gid: UInt32)] = []
        for account in profile.accounts {
            guard root.exists(account.shell) else {
                throw CoreError.invalidValue(
                    field: "shell of account \(account.name)", value: account.shell,
                    reason: "is not in the image; install it in the master, or give another with --shell")
            }
            for group in account.groups where files.entry(group, in: files.group) == nil {
                throw CoreError.invalidValue(
                    field: "group of account \(account.name)", value: group,
                    reason: "is not a group of the image (its /etc/group); create it in the master, or drop it")
            }
            if let created = try files.apply(account, defs: defs, today: today) { homes.append(created) }
        }
        func change(_ path: String, _ lines: [String]?, secret: Bool) throws {
            guard let lines else { return }
            let before = try root.readFile(path)
            result.changes.append(FileChange(
                step: .accounts, path: path, reason: "the unit's local accounts" + (secret ? " (secret)" : ""),
                action: .write(contents: Data((lines.joined(separator: "\n") + "\n").utf8), metadata: before == nil ? FileMetadata(mode: secret ? 0o640 : 0o644) : nil),
                before: before, secret: secret))
        }
        try change("/etc/passwd", files.passwd, secret: false)
        try change("/etc/group", files.group, secret: false)
        try change("/etc/shadow", files.shadow, secret: true)
        try change("/etc/gshadow", files.gshadow, secret: true)
        for home in homes where !root.exists(home.path) {
            result.changes.append(FileChange(
                step: .accounts, path: home.path, reason: "the new account's home, from /etc/skel",
                action: .folder(metadata: FileMetadata(mode: defs.homeMode, owner: home.uid, group: home.gid)), before: nil))
            for name in try root.listFolder("/etc/skel") {
                guard let contents = try root.readFile("/etc/skel/" + name), let mode = try root.metadata("/etc/skel/" + name)?.mode else { continue }
                result.changes.append(FileChange(
                    step: .accounts, path: home.path + "/" + name, reason: "from /etc/skel",
                    action: .write(contents: contents, metadata: FileMetadata(mode: mode, owner: home.uid, group: home.gid)), before: nil))
            }
        }
        if let autologin = autologins.first {
            result.changes.append(try autologinChange(autologin.name, root: root))
        } else if let before = try root.readFile(lightDMDropIn) {
            result.changes.append(FileChange(
                step: .accounts, path: lightDMDropIn, reason: "no account logs in automatically any more", action: .remove, before: before))
        }
        return result
    }

    /// The display manager's own configuration, logging `name` in: a LightDM drop-in, or GDM's daemon.conf
    /// (Debian's /etc/gdm3, or /etc/gdm/custom.conf elsewhere) with its other lines kept.
    static func autologinChange(_ name: String, root: TargetRoot) throws -> FileChange {
        if root.exists("/etc/lightdm") {
            let text = "# Written by Imprint for the unit's autologin account.\n[Seat:*]\nautologin-user=\(name)\nautologin-user-timeout=0\n"
            return FileChange(
                step: .accounts, path: lightDMDropIn, reason: "LightDM logs \(name) in", action: .write(contents: Data(text.utf8), metadata: FileMetadata(mode: 0o644)),
                before: try root.readFile(lightDMDropIn))
        }
        for path in ["/etc/gdm3/daemon.conf", "/etc/gdm/custom.conf"] where root.exists((path as NSString).deletingLastPathComponent) {
            let before = try root.readFile(path)
            var text = before.map { String(decoding: $0, as: UTF8.self) } ?? ""
            text = INIFile.set("AutomaticLoginEnable", to: "true", section: "daemon", in: text)
            text = INIFile.set("AutomaticLogin", to: name, section: "daemon", in: text)
            return FileChange(
                step: .accounts, path: path, reason: "GDM logs \(name) in", action: .write(contents: Data(text.utf8), metadata: nil), before: before)
        }
        throw CoreError.invalidValue(
            field: "autologin account", value: name,
            reason: "the image has neither LightDM (/etc/lightdm) nor GDM (/etc/gdm3, /etc/gdm); install the display manager in the master, or drop --autologin")
    }

    static func lines(_ data: Data) -> [String] {
        String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }
}

/// The four account files as lines, changed one account at a time so that they stay consistent.
struct AccountFiles {
    var passwd: [String]
    var shadow: [String]
    var group: [String]
    /// Nil when the image has no /etc/gshadow (then none is made).
    var gshadow: [String]?

    func entry(_ name: String, in lines: [String]) -> Int? {
        lines.firstIndex { $0.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) == name }
    }

    func ids(_ lines: [String]) -> Set<UInt32> {
        Set(lines.compactMap { line in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            return fields.count > 2 ? UInt32(fields[2]) : nil
        })
    }

    /// `lines` with field `index` of the line for `name` set to `value` (nothing when there is no such line).
    static func setting(_ index: Int, to value: String, of name: String, in lines: [String]) -> [String] {
        var lines = lines
        guard let row = lines.firstIndex(where: { $0.split(separator: ":", maxSplits: 1).first.map(String.init) == name }) else {
            return lines
        }
        var fields = lines[row].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        while fields.count <= index { fields.append("") }
        fields[index] = value
        lines[row] = fields.joined(separator: ":")
        return lines
    }

    /// Adds `user` to the members (field 3) of `groupName` in /etc/group and /etc/gshadow.
    mutating func addMember(_ user: String, to groupName: String) {
        group = Self.adding(user, to: groupName, in: group)
        gshadow = gshadow.map { Self.adding(user, to: groupName, in: $0) }
    }

    static func adding(_ user: String, to groupName: String, in lines: [String]) -> [String] {
        var lines = lines
        guard let row = lines.firstIndex(where: { $0.split(separator: ":", maxSplits: 1).first.map(String.init) == groupName }) else {
            return lines
        }
        var fields = lines[row].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        while fields.count <= 3 { fields.append("") }
        var members = fields[3].split(separator: ",").map(String.init)
        if !members.contains(user) { members.append(user) }
        fields[3] = members.joined(separator: ",")
        lines[row] = fields.joined(separator: ":")
        return lines
    }

    /// Writes `account` into the four files; returns the home to make for an account the image did not have.
    mutating func apply(_ account: LocalAccount, defs: LoginDefs, today: Int) throws -> (path: String, uid: UInt32, gid: UInt32)? {
        let name = account.name
        var created: (path: String, uid: UInt32, gid: UInt32)?
        if let row = entry(name, in: passwd) {
            var fields = passwd[row].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            while fields.count < 7 { fields.append("") }
            fields[6] = account.shell
            passwd[row] = fields.joined(separator: ":")
        } else {
            let taken = ids(passwd).union(ids(group))
            guard let uid = (defs.uidMin...defs.uidMax).first(where: { !taken.contains($0) }) else {
                throw CoreError.invalidValue(field: "account", value: name, reason: "the image has no free uid between \(defs.uidMin) and \(defs.uidMax)")
            }
            var gid = uid
            if let row = entry(name, in: group) {
                let fields = group[row].split(separator: ":", omittingEmptySubsequences: false)
                gid = fields.count > 2 ? UInt32(fields[2]) ?? uid : uid
            } else {
                group.append("\(name):x:\(gid):")
                if gshadow != nil { gshadow?.append("\(name):!::") }
            }
            let home = "/home/\(name)"
            passwd.append("\(name):x:\(uid):\(gid)::\(home):\(account.shell)")
            created = (home, uid, gid)
        }
        var currentHash = ""
        if let row = entry(name, in: shadow) {
            let fields = shadow[row].split(separator: ":", omittingEmptySubsequences: false)
            currentHash = fields.count > 1 ? String(fields[1]) : ""
        }
        // Locking keeps the hash behind a '!' (as usermod -L does), so unlocking later needs no new hash.
        let wanted = account.passwordHash ?? (currentHash.hasPrefix("!") ? currentHash : "!" + currentHash)
        if entry(name, in: shadow) == nil {
            shadow.append("\(name):\(wanted):\(today):0:99999:7:::")
        } else if wanted != currentHash {
            shadow = Self.setting(1, to: wanted, of: name, in: shadow)
            shadow = Self.setting(2, to: String(today), of: name, in: shadow)
        }
        for group in account.groups { addMember(name, to: group) }
        return created
    }
}

/// The values of an image's /etc/login.defs that new accounts take.
struct LoginDefs {
    var uidMin: UInt32 = 1000
    var uidMax: UInt32 = 60000
    var homeMode: UInt32 = 0o700

    init(_ text: String) {
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2 else { continue }
            switch words[0] {
            case "UID_MIN": uidMin = UInt32(words[1]) ?? uidMin
            case "UID_MAX": uidMax = UInt32(words[1]) ?? uidMax
            case "HOME_MODE": homeMode = UInt32(words[1], radix: 8) ?? homeMode
            default: break
            }
        }
        if uidMax < uidMin { uidMax = uidMin }
    }
}

/// A key set in one section of an INI file (GDM's daemon.conf), every other line kept.
enum INIFile {
    static func set(_ key: String, to value: String, section: String, in text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let header = "[\(section)]"
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == header }) else {
            return (lines + (lines.isEmpty ? [] : [""]) + [header, "\(key)=\(value)"]).joined(separator: "\n") + "\n"
        }
        let end = lines[(start + 1)...].firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix("[") } ?? lines.count
        if let row = lines[(start + 1)..<end].firstIndex(where: {
            $0.split(separator: "=", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces) == key
        }) {
            lines[row] = "\(key)=\(value)"
        } else {
            lines.insert("\(key)=\(value)", at: start + 1)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

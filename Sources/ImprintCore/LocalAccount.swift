/// A local user the admin gives a group's units or one unit (`inventory account add`): a kiosk or exam account, or
/// a technician's. The agent's `accounts` step writes it into the image's /etc/passwd, /etc/shadow, /etc/group and
/// /etc/gshadow.
public struct LocalAccount: Codable, Equatable, Sendable {
    public var name: String
    /// Supplementary groups, which must exist in the image.
    public var groups: [String]
    public var shell: String
    /// A crypt(3) hash (`$y$...`, `$6$...`) as /etc/shadow holds it; nil: the password is locked (`!`), so the
    /// account logs in only without one (an autologin).
    public var passwordHash: String?
    /// Log this account in automatically on the unit's display (LightDM or GDM, whichever the image has).
    public var autologin: Bool

    /// The login shell an account gets when none is given.
    public static let defaultShell = "/bin/bash"

    public init(
        name: String, groups: [String] = [], shell: String = LocalAccount.defaultShell, passwordHash: String? = nil, autologin: Bool = false
    ) throws(CoreError) {
        self.name = try Self.checkName(name, field: "account name")
        self.groups = try groups.map { group throws(CoreError) in try Self.checkName(group, field: "account group") }
        self.shell = try Self.checkShell(shell)
        self.passwordHash = try passwordHash.map { hash throws(CoreError) in try Self.checkHash(hash) }
        self.autologin = autologin
    }

    /// A user or group name as useradd accepts it by default: a lowercase letter or '_', then lowercase letters,
    /// digits, '_' and '-', at most 32.
    public static func checkName(_ text: String, field: String) throws(CoreError) -> String {
        let name = text.trimmingSpaces()
        let valid = name.count <= 32 && name.unicodeScalars.first.map { ("a"..."z").contains($0) || $0 == "_" } == true
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "_-".unicodeScalars.contains($0) }
        guard valid else {
            throw .invalidValue(
                field: field, value: text, reason: "use a lowercase letter or '_', then lowercase letters, digits, '_' and '-' (at most 32)")
        }
        return name
    }

    /// An absolute path with no ':' or control character (it is a field of /etc/passwd).
    public static func checkShell(_ text: String) throws(CoreError) -> String {
        guard text.hasPrefix("/"), !text.contains(":"), !text.unicodeScalars.contains(where: FieldText.isForbidden), text.count <= 255 else {
            throw .invalidValue(field: "shell", value: text, reason: "give the shell's absolute path in the image, such as /bin/bash")
        }
        return text
    }

    /// A crypt(3) hash: `$id$` then the salt and hash, of the characters crypt uses (so it cannot break a line or
    /// a field of /etc/shadow). The hash itself is never shown.
    public static func checkHash(_ text: String) throws(CoreError) -> String {
        let allowed = text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "./$=,+-".unicodeScalars.contains($0)
        }
        guard text.hasPrefix("$"), text.count >= 13, text.count <= 512, allowed else {
            throw .invalidValue(
                field: "password hash", value: "********",
                reason: "is not a crypt(3) hash such as mkpasswd makes ('$y$...' or '$6$...'); make one with 'mkpasswd -m yescrypt'")
        }
        return text
    }
}

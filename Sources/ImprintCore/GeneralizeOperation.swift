/// A named step of generalization, as virt-sysprep's operations: `capture --generalize` runs the defaults, and
/// `--operations` adds or removes them by name. Each clears entries of the identity-file table from the image.
public struct GeneralizeOperation: Sendable, Equatable {
    /// A short kebab-case name, shown in the manifest and the capture's counts ("ssh-hostkeys").
    public let name: String
    /// What it leaves out, in one line.
    public let about: String
    /// Whether `--generalize` runs it.
    public let isDefault: Bool
    /// The table entries it clears.
    public let entries: [IdentityFile]

    init(_ name: String, _ about: String, isDefault: Bool = true, _ entries: [IdentityFile]) {
        self.name = name
        self.about = about
        self.isDefault = isDefault
        self.entries = entries
    }

    public static func == (lhs: GeneralizeOperation, rhs: GeneralizeOperation) -> Bool { lhs.name == rhs.name }

    /// Every operation, in the order they are tried: an entry two chosen operations name is counted by the first
    /// (so the specific ones come before `logfiles`).
    public static let all: [GeneralizeOperation] = [
        GeneralizeOperation("machine-id", "/etc/machine-id kept as 'uninitialized'; the D-Bus copy, /etc/hostid and the iSCSI initiator name",
                            [.machineID, .dbusMachineID, .hostID, .iscsiInitiator]),
        GeneralizeOperation("random-seed", "systemd's random seed and credential secret", [.randomSeed, .credentialSecret]),
        GeneralizeOperation("ssh-hostkeys", "SSH host keys (the agent makes new ones)", [.sshHostKeys]),
        GeneralizeOperation("ssh-userdir", "the .ssh folders of root and users (turn off to ship an admin's authorized key)", [.sshUserDirs]),
        GeneralizeOperation("udev-persistent-net", "udev rules naming the master's cards by MAC", [.udevPersistentNet]),
        GeneralizeOperation("dhcp-client-state", "DHCP leases of dhclient, NetworkManager and networkd", [.dhcpLeases, .networkdState, .networkManagerTimestamps]),
        GeneralizeOperation("nm-secret-key", "NetworkManager's secret key (stable addresses and DHCP ids)", [.networkManagerSecret]),
        GeneralizeOperation("net-nmconn", "NetworkManager profiles bound to a card by MAC or interface name (read at capture)", [.networkManagerProfiles]),
        GeneralizeOperation("kerberos-data", "the Kerberos keytab /etc/krb5.keytab", [.kerberosKeytab]),
        GeneralizeOperation("sssd-db-log", "SSSD's databases, memory cache, secrets and logs", [.sssdData]),
        GeneralizeOperation("samba-db-log", "Samba's databases and secrets, caches and logs", [.sambaData]),
        GeneralizeOperation("passwd-backups", "/etc/passwd-, /etc/shadow-, /etc/group-, /etc/gshadow-, /etc/subuid-, /etc/subgid-", [.passwdBackups]),
        GeneralizeOperation("backup-files", "editor and package backups under /etc (*~, *.bak, *.dpkg-old, *.rpmsave)", [.editorBackups]),
        GeneralizeOperation("cron-spool", "users' crontabs and at jobs", [.cronSpools]),
        GeneralizeOperation("mail-spool", "local mailboxes", [.mailSpools]),
        GeneralizeOperation("crash-data", "crash reports and core dumps", [.crashDumps]),
        GeneralizeOperation("utmp", "login records: utmp, wtmp, btmp, lastlog", [.loginRecords]),
        GeneralizeOperation("logfiles", "every file under /var/log, the journal too (folders stay)", [.logFiles]),
        GeneralizeOperation("bash-history", "shell and less histories of root and users", [.shellHistories]),
        GeneralizeOperation("package-manager-cache", "downloaded packages and caches of apt, dnf and yum", [.packageCaches]),
        GeneralizeOperation("tmp-files", "the contents of /tmp and /var/tmp", [.temporaryFiles]),
        GeneralizeOperation("lvm-system-devices", "LVM's devices file, which names the master's disks", [.lvmSystemDevices]),
        GeneralizeOperation("cloud-init-state", "cloud-init's state under /var/lib/cloud, so clones run it as new instances", [.cloudInitState]),
        GeneralizeOperation("imprint-state", "Imprint's own state, /var/lib/imprint", [.imprintState]),
        GeneralizeOperation("user-caches", "users' caches under ~/.cache", isDefault: false, [.userCaches]),
        GeneralizeOperation("package-lists", "apt's package lists under /var/lib/apt/lists", isDefault: false, [.packageLists]),
    ]

    /// What `--generalize` runs.
    public static var defaults: [GeneralizeOperation] { all.filter(\.isDefault) }

    /// The operations a virt-sysprep-style list chooses: comma-separated names, each adding an operation (`name` or
    /// `+name`) or removing one (`-name`); `defaults` and `all` stand for those sets. Lists are read left to right,
    /// from nothing chosen; the result is in the order of `all`.
    /// - Throws: `CoreError.invalidValue` with field "operation" naming the first unknown name.
    public static func chosen(by lists: [String]) throws(CoreError) -> [GeneralizeOperation] {
        var chosen = Set<String>()
        for item in lists.flatMap({ $0.split(separator: ",") }) {
            var name = String(item).trimmingSpaces()
            let removes = name.hasPrefix("-")
            if removes || name.hasPrefix("+") { name.removeFirst() }
            let named: [GeneralizeOperation]
            switch name {
            case "": continue
            case "defaults": named = defaults
            case "all": named = all
            default:
                guard let operation = all.first(where: { $0.name == name }) else {
                    throw .invalidValue(field: "operation", value: name, reason: "no generalize operation has that name")
                }
                named = [operation]
            }
            if removes { chosen.subtract(named.map(\.name)) } else { chosen.formUnion(named.map(\.name)) }
        }
        return all.filter { chosen.contains($0.name) }
    }

    /// The operation that clears `entry`, nil when generalization keeps it.
    public static func clearing(_ entry: IdentityFile) -> GeneralizeOperation? {
        all.first { $0.entries.contains { $0.name == entry.name } }
    }
}

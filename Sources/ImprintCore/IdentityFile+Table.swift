/// The table itself. An entry's paths are read by the agent step named in its renewal and by the generalize
/// operation that lists it (`GeneralizeOperation.all`).
extension IdentityFile {
    // Machine identity: the machine-id step.
    public static let machineID = IdentityFile(
        "machine-id", ["/etc/machine-id"], about: "the machine's id: journald, D-Bus, DHCP client ids and many services key on it",
        renewal: .rewritten(by: .machineID), clearing: .replaced(with: "uninitialized\n"))
    public static let dbusMachineID = IdentityFile(
        "dbus-machine-id", ["/var/lib/dbus/machine-id"], about: "D-Bus's copy of the machine id: a stale copy brings the old id back",
        renewal: .rewritten(by: .machineID), clearing: .leftOut)
    public static let randomSeed = IdentityFile(
        "random-seed", ["/var/lib/systemd/random-seed"], about: "systemd's saved entropy, credited to the kernel at boot",
        renewal: .rewritten(by: .machineID), clearing: .leftOut)
    public static let credentialSecret = IdentityFile(
        "credential-secret", ["/var/lib/systemd/credential.secret"], about: "the key of systemd's encrypted credentials",
        renewal: .removed(by: .machineID), clearing: .leftOut)
    public static let hostID = IdentityFile(
        "hostid", ["/etc/hostid"], about: "the 4-byte host id ZFS and licence checks read",
        renewal: .rewritten(by: .machineID), clearing: .leftOut)
    public static let iscsiInitiator = IdentityFile(
        "iscsi-initiator", ["/etc/iscsi/initiatorname.iscsi"], about: "the iSCSI initiator name, unique per initiator",
        renewal: .rewritten(by: .machineID), clearing: .leftOut)

    // Host keys: the host-keys step.
    public static let sshHostKeys = IdentityFile(
        "ssh-host-keys", ["/etc/ssh/ssh_host_*"], about: "the SSH host keys clients remember the machine by",
        renewal: .rewritten(by: .hostKeys), clearing: .leftOut)

    // Hostname: the hostname step rewrites them; an image keeps them so a clone restored without the agent boots
    // with a name.
    public static let hostname = IdentityFile(
        "hostname", ["/etc/hostname"], about: "the host name", renewal: .rewritten(by: .hostname), clearing: .kept)
    public static let hosts = IdentityFile(
        "hosts", ["/etc/hosts"], about: "the 127.0.1.1 line naming the machine (other lines are the admin's)",
        renewal: .rewritten(by: .hostname), clearing: .kept)
    public static let machineInfo = IdentityFile(
        "machine-info", ["/etc/machine-info"], about: "PRETTY_HOSTNAME, the name hostnamectl shows",
        renewal: .rewritten(by: .hostname), clearing: .kept)
    public static let sysconfigNetwork = IdentityFile(
        "sysconfig-network", ["/etc/sysconfig/network"], about: "HOSTNAME= on RHEL-style systems",
        renewal: .rewritten(by: .hostname), clearing: .kept)
    public static let suseHostname = IdentityFile(
        "suse-hostname", ["/etc/HOSTNAME"], about: "the host name on SUSE-style systems", renewal: .rewritten(by: .hostname), clearing: .kept)
    public static let mailname = IdentityFile(
        "mailname", ["/etc/mailname"], about: "the name mail from the machine carries", renewal: .rewritten(by: .hostname), clearing: .kept)

    // Network: the network step removes the master's leases and secrets, and its card-bound configuration once it
    // has rendered the unit's own.
    public static let udevPersistentNet = IdentityFile(
        "udev-persistent-net", ["/etc/udev/rules.d/70-persistent-net.rules"], about: "names the master's cards by MAC",
        renewal: .removed(by: .network), clearing: .leftOut)
    public static let dhcpLeases = IdentityFile(
        "dhcp-leases",
        ["/var/lib/dhcp/*", "/var/lib/dhclient/*", "/var/lib/NetworkManager/*.lease", "/var/lib/NetworkManager/*.leases"],
        about: "the master's DHCP leases (the agent removes the *.lease and *.leases files of these folders)",
        renewal: .removed(by: .network), clearing: .leftOut)
    public static let networkdState = IdentityFile(
        "networkd-state", ["/var/lib/systemd/network/*"], about: "state systemd-networkd keeps across boots",
        renewal: .notRenewed, clearing: .leftOut)
    public static let networkManagerTimestamps = IdentityFile(
        "networkmanager-timestamps", ["/var/lib/NetworkManager/timestamps"], about: "when each NetworkManager connection was last up",
        renewal: .notRenewed, clearing: .leftOut)
    public static let networkManagerSecret = IdentityFile(
        "networkmanager-secret-key", ["/var/lib/NetworkManager/secret_key"],
        about: "the key NetworkManager derives stable addresses and DHCP ids from",
        renewal: .removed(by: .network), clearing: .leftOut)
    public static let networkManagerProfiles = IdentityFile(
        "networkmanager-profiles", ["/etc/NetworkManager/system-connections/*"],
        about: "NetworkManager profiles; those of a wired or Wi-Fi card bound by MAC or interface name are the master's",
        renewal: .removed(by: .network), clearing: .leftOutWhen(CardBinding.keyfile))
    // The other stacks' card-bound files stay in an image: without them (and without the agent) a clone would have
    // no network at all, where NetworkManager makes a wired connection of its own.
    public static let netplanConfig = IdentityFile(
        "netplan", ["/etc/netplan/*.yaml"], about: "netplan configuration; a file with ethernets, wifis or modems binds cards",
        renewal: .removed(by: .network), clearing: .kept)
    public static let networkdConfig = IdentityFile(
        "networkd", ["/etc/systemd/network/*.network"], about: "systemd-networkd files; a [Match] by MAC or card name binds a card",
        renewal: .removed(by: .network), clearing: .kept)
    public static let interfacesConfig = IdentityFile(
        "ifupdown", ["/etc/network/interfaces", "/etc/network/interfaces.d/*"], about: "ifupdown stanzas; those of cards are the master's",
        renewal: .removed(by: .network), clearing: .kept)
    public static let ifcfgConfig = IdentityFile(
        "ifcfg", ["/etc/sysconfig/network-scripts/ifcfg-*", "/etc/sysconfig/network-scripts/keys-*"],
        about: "ifcfg files (and their keys); HWADDR=, MACADDR= or a card's DEVICE= binds a card",
        renewal: .removed(by: .network), clearing: .kept)

    // Accounts and secrets of services joined to a domain: no agent step, a clone joins anew.
    public static let sshUserDirs = IdentityFile(
        "ssh-user-dirs", ["/root/.ssh", "/home/*/.ssh"], about: "users' SSH keys, authorized keys and known hosts",
        renewal: .notRenewed, clearing: .leftOutWhole)
    public static let kerberosKeytab = IdentityFile(
        "kerberos-keytab", ["/etc/krb5.keytab"], about: "the machine's Kerberos keys: its account in the realm",
        renewal: .notRenewed, clearing: .leftOut)
    public static let sssdData = IdentityFile(
        "sssd", ["/var/lib/sss/db/*", "/var/lib/sss/mc/*", "/var/lib/sss/secrets/*", "/var/log/sssd/*"],
        about: "SSSD's cached users, credentials and secrets, and its logs", renewal: .notRenewed, clearing: .leftOut)
    public static let sambaData = IdentityFile(
        "samba", ["/var/lib/samba/*", "/var/cache/samba/*", "/var/log/samba/*"],
        about: "Samba's databases (private/secrets.tdb holds the machine account's password), caches and logs",
        renewal: .notRenewed, clearing: .leftOut)
    public static let passwdBackups = IdentityFile(
        "passwd-backups", ["/etc/passwd-", "/etc/shadow-", "/etc/group-", "/etc/gshadow-", "/etc/subuid-", "/etc/subgid-"],
        about: "the previous account files shadow's tools keep (old password hashes)", renewal: .notRenewed, clearing: .leftOut)
    public static let editorBackups = IdentityFile(
        "etc-backups", ["/etc/**/*~", "/etc/**/*.bak", "/etc/**/*.dpkg-old", "/etc/**/*.rpmsave"],
        about: "editor and package backups of configuration files", renewal: .notRenewed, clearing: .leftOut)

    // What the master did: history and spools.
    public static let cronSpools = IdentityFile(
        "cron-spools", ["/var/spool/cron/*", "/var/spool/at/*"], about: "users' crontabs and pending at jobs (Debian's atjobs are under cron)",
        renewal: .notRenewed, clearing: .leftOut)
    public static let mailSpools = IdentityFile(
        "mail-spools", ["/var/mail/*", "/var/spool/mail/*"], about: "local mailboxes", renewal: .notRenewed, clearing: .leftOut)
    public static let crashDumps = IdentityFile(
        "crash-dumps", ["/var/crash/*", "/var/lib/systemd/coredump/*", "/var/spool/abrt/*"], about: "crash reports and core dumps",
        renewal: .notRenewed, clearing: .leftOut)
    public static let loginRecords = IdentityFile(
        "login-records", ["/var/log/wtmp", "/var/log/btmp", "/var/log/lastlog", "/var/run/utmp", "/run/utmp", "/var/lib/lastlog/*", "/var/lib/wtmpdb/*"],
        about: "who logged in, and failed to (utmp, wtmp, btmp, lastlog)", renewal: .notRenewed, clearing: .leftOut)
    public static let logFiles = IdentityFile(
        "logs", ["/var/log/*"], about: "log files and the journal (folders stay)", renewal: .notRenewed, clearing: .leftOut)
    public static let shellHistories = IdentityFile(
        "shell-histories", ["/root/.*history", "/home/*/.*history", "/root/.lesshst", "/home/*/.lesshst"],
        about: "shell, less and other command histories of root and users", renewal: .notRenewed, clearing: .leftOut)
    public static let packageCaches = IdentityFile(
        "package-caches",
        ["/var/cache/apt/archives/*.deb", "/var/cache/apt/archives/partial/*", "/var/cache/apt/*.bin", "/var/cache/dnf/*", "/var/cache/yum/*"],
        about: "downloaded packages and the package managers' caches", renewal: .notRenewed, clearing: .leftOut)
    public static let packageLists = IdentityFile(
        "package-lists", ["/var/lib/apt/lists/*"], about: "apt's package lists ('apt update' fetches them again)",
        renewal: .notRenewed, clearing: .leftOut)
    public static let temporaryFiles = IdentityFile(
        "temporary-files", ["/tmp/*", "/var/tmp/*"], about: "temporary files (folders stay)", renewal: .notRenewed, clearing: .leftOut)
    public static let userCaches = IdentityFile(
        "user-caches", ["/root/.cache/*", "/home/*/.cache/*"], about: "users' caches (browsers, thumbnails)",
        renewal: .notRenewed, clearing: .leftOut)

    // Machine state of the system's own tools.
    public static let lvmSystemDevices = IdentityFile(
        "lvm-system-devices", ["/etc/lvm/devices/system.devices"], about: "the disks LVM may use, by the master's disk ids",
        renewal: .notRenewed, clearing: .leftOut)
    public static let cloudInitState = IdentityFile(
        "cloud-init-state", ["/var/lib/cloud/*"], about: "cloud-init's instance state: a clone would skip its first-boot modules",
        renewal: .notRenewed, clearing: .leftOutWhole)
    public static let imprintState = IdentityFile(
        "imprint-state", ["/var/lib/imprint"],
        about: "Imprint's runs (their backups hold the master's private keys), lock and the master's machine-id",
        renewal: .notRenewed, clearing: .leftOutWhole)

    /// Every entry.
    public static let all: [IdentityFile] = [
        machineID, dbusMachineID, randomSeed, credentialSecret, hostID, iscsiInitiator, sshHostKeys,
        hostname, hosts, machineInfo, sysconfigNetwork, suseHostname, mailname,
        udevPersistentNet, dhcpLeases, networkdState, networkManagerTimestamps, networkManagerSecret, networkManagerProfiles,
        netplanConfig, networkdConfig, interfacesConfig, ifcfgConfig,
        sshUserDirs, kerberosKeytab, sssdData, sambaData, passwdBackups, editorBackups,
        cronSpools, mailSpools, crashDumps, loginRecords, logFiles, shellHistories, packageCaches, packageLists, temporaryFiles,
        userCaches, lvmSystemDevices, cloudInitState, imprintState,
    ]
}

import Foundation
import ImprintCore
@testable import ImprintImage
import ImprintTestSupport
import Testing

/// A master with something for every generalize operation, and near misses no operation may take.
enum GeneralizeTree {
    /// What each operation clears, run alone: files, folders (ending in '/') and the cloud-init link. A path two
    /// operations name (a log of SSSD) is in both lists.
    static let cleared: [String: [String]] = [
        "machine-id": ["etc/machine-id", "var/lib/dbus/machine-id", "etc/hostid", "etc/iscsi/initiatorname.iscsi"],
        "random-seed": ["var/lib/systemd/random-seed", "var/lib/systemd/credential.secret"],
        "ssh-hostkeys": ["etc/ssh/ssh_host_ed25519_key", "etc/ssh/ssh_host_ed25519_key.pub", "etc/ssh/ssh_host_rsa_key"],
        "ssh-userdir": ["root/.ssh/", "root/.ssh/authorized_keys", "home/u/.ssh/", "home/u/.ssh/id_ed25519", "home/u/.ssh/known_hosts"],
        "udev-persistent-net": ["etc/udev/rules.d/70-persistent-net.rules"],
        "dhcp-client-state": [
            "var/lib/dhcp/dhclient.eno1.leases", "var/lib/dhclient/dhclient.leases", "var/lib/NetworkManager/internal-1-eno1.lease",
            "var/lib/NetworkManager/timestamps", "var/lib/systemd/network/links",
        ],
        "nm-secret-key": ["var/lib/NetworkManager/secret_key"],
        "net-nmconn": ["etc/NetworkManager/system-connections/Wired.nmconnection", "etc/NetworkManager/system-connections/Home.nmconnection"],
        "kerberos-data": ["etc/krb5.keytab"],
        "sssd-db-log": ["var/lib/sss/db/cache_example.ldb", "var/lib/sss/mc/passwd", "var/log/sssd/sssd.log"],
        "samba-db-log": ["var/lib/samba/private/secrets.tdb", "var/cache/samba/gencache.tdb", "var/log/samba/log.smbd"],
        "passwd-backups": ["etc/passwd-", "etc/shadow-", "etc/group-", "etc/gshadow-", "etc/subuid-", "etc/subgid-"],
        "backup-files": ["etc/fstab~", "etc/default/grub.bak", "etc/apt/sources.list.dpkg-old"],
        "cron-spool": ["var/spool/cron/crontabs/root", "var/spool/cron/atjobs/a0001", "var/spool/at/a00002"],
        "mail-spool": ["var/mail/root", "var/spool/mail/u"],
        "crash-data": ["var/crash/_usr_bin_x.1000.crash", "var/lib/systemd/coredump/core.x.zst"],
        "utmp": ["var/log/wtmp", "var/log/btmp", "var/log/lastlog", "var/lib/lastlog/lastlog2.db"],
        "logfiles": [
            "var/log/syslog", "var/log/journal/abc/system.journal", "var/log/sssd/sssd.log", "var/log/samba/log.smbd",
            "var/log/wtmp", "var/log/btmp", "var/log/lastlog",
        ],
        "bash-history": ["root/.bash_history", "root/.lesshst", "home/u/.bash_history", "home/u/.python_history"],
        "package-manager-cache": [
            "var/cache/apt/archives/vim_9.0_amd64.deb", "var/cache/apt/archives/partial/x.deb", "var/cache/apt/pkgcache.bin",
            "var/cache/dnf/fedora/packages/x.rpm",
        ],
        "tmp-files": ["tmp/scratch", "tmp/sub/file", "var/tmp/kept-across-boots"],
        "lvm-system-devices": ["etc/lvm/devices/system.devices"],
        "cloud-init-state": [
            "var/lib/cloud/instances/", "var/lib/cloud/instances/i-1/", "var/lib/cloud/instances/i-1/obj.pkl", "var/lib/cloud/data/",
            "var/lib/cloud/data/instance-id", "var/lib/cloud/instance",
        ],
        "imprint-state": ["var/lib/imprint/", "var/lib/imprint/state.json", "var/lib/imprint/master-machine-id"],
        "user-caches": ["home/u/.cache/thumbnails/x.png", "root/.cache/pip/y"],
        "package-lists": ["var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease"],
    ]

    /// Files every operation keeps: neighbours of what they clear.
    static let nearMisses = [
        "etc/passwd", "etc/shadow", "etc/group", "etc/gshadow", "etc/subuid", "etc/subgid", "etc/fstab", "etc/hostname",
        "etc/hosts", "etc/machine-info", "etc/ssh/sshd_config", "etc/krb5.conf", "etc/lvm/lvm.conf", "etc/udev/rules.d/99-local.rules",
        "etc/NetworkManager/NetworkManager.conf", "etc/NetworkManager/system-connections/Office-VPN.nmconnection",
        "etc/NetworkManager/system-connections/Any-wired.nmconnection", "home/u/.sshrc", "home/u/.bashrc", "home/u/.ssh-notes",
        "root/.bashrc", "usr/share/doc/readme~", "usr/share/doc/old.bak", "var/lib/NetworkManager/NetworkManager.state",
        "var/lib/dbus/.keep", "var/lib/sss/pubconf/kdcinfo.EXAMPLE", "var/lib/systemd/timers/stamp-apt.timer",
        "var/cache/apt/archives/lock", "var/cache/man/index.db", "var/lib/apt/extended_states", "var/spool/cups/tmp/.keep",
    ]

    /// Contents of the files whose content decides: card-bound profiles go, the others stay.
    static let contents = [
        "etc/NetworkManager/system-connections/Wired.nmconnection": "[connection]\nid=Wired\ntype=ethernet\n[ethernet]\nmac-address=3c:52:82:01:02:03\n",
        "etc/NetworkManager/system-connections/Home.nmconnection": "[connection]\nid=Home\ntype=wifi\ninterface-name=wlp2s0\n",
        "etc/NetworkManager/system-connections/Office-VPN.nmconnection": "[connection]\nid=Office\ntype=vpn\n",
        "etc/NetworkManager/system-connections/Any-wired.nmconnection": "[connection]\nid=Any\ntype=ethernet\n",
        "etc/machine-id": "0123456789abcdef0123456789abcdef\n",
    ]

    /// Builds the tree in `folder` and returns its path.
    static func make(in folder: TemporaryDirectory) throws -> String {
        let root = folder.file("master")
        let manager = FileManager.default
        for path in Set(cleared.values.joined()).union(nearMisses) where path != "var/lib/cloud/instance" {
            let full = root + "/" + path
            if path.hasSuffix("/") {
                try manager.createDirectory(atPath: full, withIntermediateDirectories: true)
            } else {
                try manager.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try Data((contents[path] ?? "\(path)\n").utf8).write(to: URL(fileURLWithPath: full))
            }
        }
        try manager.createSymbolicLink(atPath: root + "/var/lib/cloud/instance", withDestinationPath: "/var/lib/cloud/instances/i-1")
        return root
    }

    /// Every path under `root` (folders with a trailing '/') with its content (links by target).
    static func contents(of root: String) throws -> [String: String] {
        var result: [String: String] = [:]
        let manager = FileManager.default
        func walk(_ relative: String) throws {
            for name in try manager.contentsOfDirectory(atPath: root + "/" + relative) {
                let path = relative.isEmpty ? name : relative + "/" + name
                let full = root + "/" + path
                let type = try manager.attributesOfItem(atPath: full)[.type] as? FileAttributeType
                if type == .typeDirectory {
                    result[path + "/"] = "folder"
                    try walk(path)
                } else if type == .typeSymbolicLink {
                    result[path] = "link:" + (try manager.destinationOfSymbolicLink(atPath: full))
                } else {
                    result[path] = String(decoding: try Data(contentsOf: URL(fileURLWithPath: full)), as: UTF8.self)
                }
            }
        }
        try walk("")
        return result
    }
}

@Suite struct GeneralizeTests {
    /// Captures `root` generalized by `operations` and restores it; the restored tree's contents.
    func captureAndRestore(_ root: String, operations: [GeneralizeOperation], in folder: TemporaryDirectory) throws -> (CaptureResult, [String: String]) {
        let image = folder.file("general.imprint")
        let descriptor = open(image, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(descriptor) }
        var request = CaptureRequest(root: root, models: ["OptiPlex 7090"], threads: 2, tool: "imprint test")
        request.operations = operations
        let result = try Capture.run(request, to: descriptor, name: image)
        #expect(Capture.measure(request) == CaptureSize(files: result.summary.files, dataBytes: result.summary.dataBytes))
        let restored = folder.file("restored")
        try FileManager.default.createDirectory(atPath: restored, withIntermediateDirectories: false)
        try Restore.run(try ImageInput(path: image), root: restored)
        return (result, try GeneralizeTree.contents(of: restored))
    }

    /// The paths of `source` missing from `restored` or with other content.
    func cleared(_ source: [String: String], _ restored: [String: String]) -> Set<String> {
        Set(source.keys.filter { restored[$0] != source[$0] })
    }

    /// Each operation, run alone, clears what it names and nothing else, and never touches the master; folders
    /// under a cleared folder stay unless the operation takes folders whole.
    @Test(arguments: GeneralizeOperation.all.map(\.name))
    func eachOperationClearsWhatItNamesAndNothingElse(_ name: String) throws {
        let folder = try TemporaryDirectory()
        let root = try GeneralizeTree.make(in: folder)
        let source = try GeneralizeTree.contents(of: root)
        let operation = try #require(GeneralizeOperation.all.first { $0.name == name })
        let (result, restored) = try captureAndRestore(root, operations: [operation], in: folder)
        #expect(cleared(source, restored) == Set(try #require(GeneralizeTree.cleared[name])))
        #expect(result.manifest.generalized == [name])
        #expect(try GeneralizeTree.contents(of: root) == source, "the master changed")
        if name == "machine-id" { #expect(restored["etc/machine-id"] == "uninitialized\n") }
    }

    /// The defaults together clear the union of what each clears (user caches and package lists stay), and the
    /// summary counts an entry two operations name under the first: SSSD's log under sssd-db-log, not logfiles.
    @Test func defaultsTogether() throws {
        let folder = try TemporaryDirectory()
        let root = try GeneralizeTree.make(in: folder)
        let source = try GeneralizeTree.contents(of: root)
        let (result, restored) = try captureAndRestore(root, operations: GeneralizeOperation.defaults, in: folder)
        let expected = GeneralizeOperation.defaults.flatMap { GeneralizeTree.cleared[$0.name] ?? [] }
        #expect(cleared(source, restored) == Set(expected))
        #expect(result.manifest.generalized == GeneralizeOperation.defaults.map(\.name))
        #expect(result.summary.leftOut["sssd-db-log"] == 3)
        #expect(result.summary.leftOut["utmp"] == 4)
        #expect(result.summary.leftOut["logfiles"] == 2)
        #expect(result.summary.leftOut["ssh-userdir"] == 2)  // the two folders, whole
        #expect(result.summary.leftOut["user-caches"] == nil)
    }
}

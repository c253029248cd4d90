import Foundation
import Glibc

/// What `capture --generalize` leaves out of the image (DESIGN.md's identity files, read the other way), without
/// touching the master: each rule matches paths relative to the root.
public struct GeneralizeRule: Sendable {
    /// Shown in the manifest and the summary's counts.
    public var name: String
    /// fnmatch patterns on the path relative to the root ("etc/ssh/ssh_host_*").
    var patterns: [String]
    /// When set, the file stays in the image with this content instead (a machine-id of `uninitialized`).
    var replacement: [UInt8]?
    /// Whether folders themselves match (false: a folder stays, its files go).
    var foldersToo = false

    /// The rules, in the order they are tried.
    public static let all: [GeneralizeRule] = [
        GeneralizeRule(name: "machine-id (kept as 'uninitialized')", patterns: ["etc/machine-id"], replacement: Array("uninitialized\n".utf8)),
        GeneralizeRule(name: "other machine ids and seeds", patterns: [
            "var/lib/dbus/machine-id", "var/lib/systemd/random-seed", "var/lib/systemd/credential.secret",
            "etc/hostid", "etc/iscsi/initiatorname.iscsi",
        ]),
        GeneralizeRule(name: "ssh host keys", patterns: ["etc/ssh/ssh_host_*"]),
        GeneralizeRule(name: "dhcp leases and network secrets", patterns: [
            "var/lib/dhcp/*", "var/lib/dhclient/*", "var/lib/NetworkManager/*.lease", "var/lib/NetworkManager/secret_key",
            "var/lib/NetworkManager/timestamps", "var/lib/systemd/network/*", "etc/udev/rules.d/70-persistent-net.rules",
        ]),
        GeneralizeRule(name: "logs", patterns: ["var/log/*"]),
        GeneralizeRule(name: "shell histories", patterns: [
            "root/.*history", "home/*/.*history", "root/.lesshst", "home/*/.lesshst",
        ]),
        GeneralizeRule(name: "temporary files", patterns: ["tmp/*", "var/tmp/*"]),
        GeneralizeRule(name: "imprint state", patterns: ["var/lib/imprint"], foldersToo: true),
    ]

    /// The rule that matches `path` (relative to the root), if any.
    static func match(_ path: [UInt8], isFolder: Bool) -> GeneralizeRule? {
        all.first { rule in
            (rule.foldersToo || !isFolder) && rule.patterns.contains { pattern in
                // A pattern ending in "/*" covers the whole tree below it (folders are kept, their files go).
                if pattern.hasSuffix("/*") && !pattern.dropLast(2).contains("*") {
                    let prefix = Array(pattern.dropLast(1).utf8)
                    return path.count > prefix.count && Array(path.prefix(prefix.count)) == prefix
                }
                return matches(pattern, path, flags: FNM_PATHNAME)
            }
        }
    }
}

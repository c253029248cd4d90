import Foundation
@testable import ImprintCommands
import ImprintTestSupport
import Testing

@Suite struct NetworkCommandTests {
    /// `imprint run --only network`: the dry run prints the diff and changes nothing; the run writes the unit's
    /// netplan file and moves the master's MAC-bound netplan and NetworkManager files aside; rollback restores them.
    @Test func dryRunRunRollback() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let root = try folder.copyFixture("roots/rm204-master")
        let master = "network:\n  version: 2\n  ethernets:\n    eno1:\n      match:\n        macaddress: \"3c:52:82:20:04:07\"\n      addresses: [10.20.4.250/24]\n"
        _ = try folder.write("rm204-master/etc/netplan/50-cloud-init.yaml", master)
        chmod(root + "/etc/netplan/50-cloud-init.yaml", 0o600)
        let keyfile = "[connection]\nid=eno1\ntype=ethernet\n\n[ethernet]\nmac-address=3C:52:82:20:04:07\n"
        _ = try folder.write("rm204-master/etc/NetworkManager/system-connections/eno1.nmconnection", keyfile)
        let facts = fixturePath("demo/facts/RM204-07.json")

        let dry = imprint(["run", "--root", root, "--facts", facts, "--only", "network", "--dry-run"], in: folder)
        #expect(dry.status == 0, "\(dry.err)")
        #expect(dry.out.contains("+++ b/etc/netplan/90-imprint.yaml"))
        #expect(dry.out.contains("+        - \"10.20.4.107/24\""))
        #expect(dry.out.contains("--- a/etc/netplan/50-cloud-init.yaml"))
        #expect(dry.out.contains("network: netplan (the image has /etc/netplan/50-cloud-init.yaml)"))
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/netplan/90-imprint.yaml"))

        let run = imprint(["run", "--root", root, "--facts", facts, "--only", "network"], in: folder)
        #expect(run.status == 0, "\(run.err)")
        let written = try String(contentsOfFile: root + "/etc/netplan/90-imprint.yaml", encoding: .utf8)
        #expect(written.contains("macaddress: \"3c:52:82:20:04:07\"") && written.contains("via: \"10.20.4.1\""))
        #expect(written.contains("- \"10.20.0.53\""), "the group's DNS servers")
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/netplan/50-cloud-init.yaml"))
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/NetworkManager/system-connections/eno1.nmconnection"))
        let generated = try runProcess("/usr/sbin/netplan", ["generate", "--root-dir", root])
        #expect(generated.status == 0 && generated.error.isEmpty, "\(generated.error)")

        let rollback = imprint(["rollback", "--root", root], in: folder)
        #expect(rollback.status == 0, "\(rollback.err)")
        #expect(try String(contentsOfFile: root + "/etc/netplan/50-cloud-init.yaml", encoding: .utf8) == master)
        #expect(try String(contentsOfFile: root + "/etc/NetworkManager/system-connections/eno1.nmconnection", encoding: .utf8) == keyfile)
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/netplan/90-imprint.yaml"))
    }

    /// A unit's network pasted as netplan v2 YAML (`--netplan-file`) is stored, shown back by export, and rendered;
    /// a document with a gateway outside its subnet is refused and nothing changes.
    @Test func netplanFileOption() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let document = """
            network:
              version: 2
              ethernets:
                lan:
                  match: {macaddress: "3c:52:82:20:04:07"}
                  addresses: [10.20.4.77/24]
                  routes: [{to: default, via: 10.20.4.1}]
            """
        let file = try folder.write("unit.yaml", document)
        let set = imprint(["inventory", "set", "RM204-07", "--netplan-file", file], in: folder)
        #expect(set.status == 0, "\(set.err)")
        let export = imprint(["inventory", "export"], in: folder)
        #expect(export.out.contains("10.20.4.77/24]"))
        let root = try folder.copyFixture("roots/rm204-master")
        _ = try folder.write("rm204-master/etc/netplan/00-installer.yaml", "network: {version: 2}\n")
        let run = imprint(["run", "--root", root, "--facts", fixturePath("demo/facts/RM204-07.json"), "--only", "network"], in: folder)
        #expect(run.status == 0, "\(run.err)")
        // The netplan stack writes the pasted document as given.
        #expect(try String(contentsOfFile: root + "/etc/netplan/90-imprint.yaml", encoding: .utf8).hasSuffix(document + "\n"))

        let bad = try folder.write("bad.yaml", document.replacingOccurrences(of: "via: 10.20.4.1", with: "via: 10.99.0.1"))
        let refused = imprint(["inventory", "set", "RM204-07", "--netplan-file", bad], in: folder)
        #expect(refused.status == ExitStatus.invalidInput.rawValue)
        #expect(refused.err.contains("10.99.0.1") && refused.err.contains("outside the subnet"))
        #expect(imprint(["inventory", "export"], in: folder).out.contains("10.20.4.77/24]"))
    }

    /// A pasted `dhcp6: true` goes through the inventory into the unit's rendered netplan file.
    @Test func pastedDHCP6IsRendered() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let document = "network:\n  version: 2\n  ethernets:\n    lan:\n      match: {macaddress: \"3c:52:82:20:04:07\"}\n      dhcp4: true\n      dhcp6: true\n"
        let set = imprint(["inventory", "set", "RM204-07", "--netplan-file", try folder.write("unit.yaml", document)], in: folder)
        #expect(set.status == 0, "\(set.err)")
        let root = try folder.copyFixture("roots/rm204-master")
        _ = try folder.write("rm204-master/etc/netplan/00-installer.yaml", "network: {version: 2}\n")
        let run = imprint(["run", "--root", root, "--facts", fixturePath("demo/facts/RM204-07.json"), "--only", "network"], in: folder)
        #expect(run.status == 0, "\(run.err)")
        let written = try String(contentsOfFile: root + "/etc/netplan/90-imprint.yaml", encoding: .utf8)
        #expect(written.contains("dhcp6: true"), "\(written)")
    }

    /// A pasted document with a Wi-Fi password, written as given for netplan: neither the dry run's diff, nor its
    /// --json, nor the run's output carries the password; the file is 0600. (The Wi-Fi card is found by MAC, so it
    /// says `renderer: NetworkManager`: netplan's networkd backend would refuse it, and so does the plan.)
    @Test func pastedSecretsMasked() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let document = """
            network:
              version: 2
              ethernets:
                lan: {match: {macaddress: "3c:52:82:20:04:07"}, dhcp4: true}
              wifis:
                wlan: {match: {macaddress: "3c:52:82:20:14:07"}, renderer: NetworkManager, dhcp4: true, access-points: {"School": {password: "s3cret-horse-battery"}}}
            """
        let set = imprint(["inventory", "set", "RM204-07", "--netplan-file", try folder.write("unit.yaml", document)], in: folder)
        #expect(set.status == 0, "\(set.err)")
        let root = try folder.copyFixture("roots/rm204-master")
        _ = try folder.write("rm204-master/etc/netplan/00-installer.yaml", "network: {version: 2}\n")
        let facts = fixturePath("demo/facts/RM204-07.json")
        for arguments in [["--dry-run"], ["--dry-run", "--json"], []] {
            let run = imprint(["run", "--root", root, "--facts", facts, "--only", "network"] + arguments, in: folder)
            #expect(run.status == 0, "\(run.err)")
            #expect(!run.out.contains("s3cret") && !run.err.contains("s3cret"), "\(arguments): \(run.out)")
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: root + "/etc/netplan/90-imprint.yaml")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try String(contentsOfFile: root + "/etc/netplan/90-imprint.yaml", encoding: .utf8).contains("s3cret-horse-battery"))
    }
}

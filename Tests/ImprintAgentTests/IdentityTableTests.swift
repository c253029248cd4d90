import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintTestSupport
import Testing

@Suite struct IdentityTableTests {
    /// Every file the agent renews on a master that has them all is an entry of the identity-file table for that
    /// step, and generalization clears it by default unless the table says an image keeps it: the agent and
    /// `capture --generalize` read one list.
    @Test func agentRenewsOnlyTableEntries() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        let extra = [
            "/var/lib/dbus/machine-id": "0123456789abcdef0123456789abcdef\n", "/etc/hostid": "abcd",
            "/etc/iscsi/initiatorname.iscsi": "InitiatorName=iqn.2004-10.com.debian:01:abcdef\n",
            "/etc/sysconfig/network": "HOSTNAME=master\n", "/etc/HOSTNAME": "master\n",
            "/etc/udev/rules.d/70-persistent-net.rules": "# eno1\n", "/var/lib/dhcp/dhclient.eno1.leases": "lease {}\n",
            "/var/lib/NetworkManager/internal-1-eno1.lease": "ADDRESS=10.0.0.9\n", "/var/lib/NetworkManager/secret_key": "secret",
            "/etc/NetworkManager/system-connections/Wired.nmconnection": "[connection]\ntype=ethernet\ninterface-name=eno1\n",
            "/usr/sbin/NetworkManager": "",
        ]
        for (path, text) in extra { try folder.write("rm204-master" + path, text) }
        let outcome = try Agent.run(request(try demoProfile(), steps: [.hostname, .machineID, .hostKeys, .network], dryRun: true), root: root)
        var renewed = Set<String>()
        for change in outcome.plan.changes where change.step != .identity {
            let entries = IdentityFile.all.filter { $0.names(change.path) }
            if change.step == .network, change.action != .remove { continue }  // the unit's own configuration
            #expect(entries.contains { $0.renewal.step == change.step }, "\(change.path) (\(change.step)) is in no table entry")
            for entry in entries {
                renewed.insert(entry.name)
                if case .kept = entry.clearing { continue }
                #expect(GeneralizeOperation.clearing(entry)?.isDefault == true, "\(change.path): \(entry.name) is not generalized by default")
            }
        }
        let expected = IdentityFile.all.filter { [.hostname, .machineID, .hostKeys].contains($0.renewal.step) }.map(\.name)
            + ["udev-persistent-net", "dhcp-leases", "networkmanager-secret-key", "networkmanager-profiles"]
        #expect(renewed.isSuperset(of: expected), "not renewed: \(Set(expected).subtracting(renewed).sorted())")
    }
}

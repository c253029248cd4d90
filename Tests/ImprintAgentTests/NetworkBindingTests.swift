import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintTestSupport
import Testing

/// Cards bound by their kernel name (netplan's static.yaml: `enp3s0:` without `match:`) and cards renamed by
/// `set-name`, rendered for every stack and read back by the real tools.
enum BindingCases {
    /// netplan's own static.yaml, as an admin pastes it.
    static func staticByName() throws -> [InterfaceConfig] {
        try NetplanV2.interfaces(String(contentsOfFile: "/usr/share/doc/netplan/examples/static.yaml", encoding: .utf8))
    }

    /// A card matched by MAC and renamed lan0, with DHCP.
    static func renamed() throws -> [InterfaceConfig] {
        try NetplanV2.interfaces("""
            network:
              version: 2
              ethernets:
                lan:
                  match: {macaddress: "\(NetworkCases.mac)"}
                  set-name: lan0
                  dhcp4: true
            """)
    }

    /// The text of the rendered file at `path`.
    static func text(_ files: [RenderedFile], _ path: String) throws -> String {
        try #require(files.first { $0.path == path }).text
    }
}

@Suite struct NetworkBindingTests {
    /// netplan's static.yaml, bound to enp3s0 by name, renders for netplan: `netplan generate` accepts it and its
    /// networkd file matches the name, with the address, gateway and DNS.
    @Test func netplanBindsByName() throws {
        let folder = try TemporaryDirectory("netplan-name")
        _ = try NetworkCases.render(try BindingCases.staticByName(), stack: .netplan, into: folder)
        let result = try runProcess("/usr/sbin/netplan", ["generate", "--root-dir", folder.path])
        #expect(result.status == 0 && result.error.isEmpty, "\(result.error)")
        let generated = try FileManager.default.contentsOfDirectory(atPath: folder.file("run/systemd/network"))
        let network = try generated.filter { $0.hasSuffix(".network") }
            .map { try String(contentsOfFile: folder.file("run/systemd/network/" + $0), encoding: .utf8) }
        #expect(network.count == 1)
        let text = try #require(network.first)
        #expect(text.contains("Name=enp3s0") && !text.contains("MACAddress="), "\(text)")
        #expect(text.contains("Address=10.10.10.2/24") && text.contains("Gateway=10.10.10.1") && text.contains("DNS=10.10.10.1"), "\(text)")
    }

    /// The real NetworkManager loads the keyfile bound by name: the profile has interface-name enp3s0, no MAC, and
    /// the document's address and gateway.
    @Test func networkManagerBindsByName() throws {
        let folder = try TemporaryDirectory("nm-name")
        let files = try NetworkCases.render(try BindingCases.staticByName(), stack: .networkManager, into: folder)
        #expect(files.map(\.path) == ["/etc/NetworkManager/system-connections/imprint-0.nmconnection"])
        let result = try networkManagerShow(
            folder, profiles: ["imprint-0"],
            fields: "connection.interface-name,802-3-ethernet.mac-address,ipv4.method,ipv4.addresses,ipv4.gateway,ipv4.dns,ipv4.dns-search")
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("connection.interface-name:enp3s0\n"), "\(result.output)")
        #expect(result.output.contains("802-3-ethernet.mac-address:\n"), "\(result.output)")
        #expect(result.output.contains("ipv4.addresses:10.10.10.2/24\n") && result.output.contains("ipv4.gateway:10.10.10.1\n"))
        #expect(result.output.contains("ipv4.dns:10.10.10.1,1.1.1.1\n"), "\(result.output)")
        #expect(result.output.contains("ipv4.dns-search:mydomain,otherdomain\n"), "\(result.output)")
    }

    /// systemd-networkd reads the file bound by `Name=enp3s0` without a complaint.
    @Test func networkdBindsByName() throws {
        let folder = try TemporaryDirectory("networkd-name")
        let files = try NetworkCases.render(try BindingCases.staticByName(), stack: .networkd, into: folder)
        let text = try BindingCases.text(files, "/etc/systemd/network/10-imprint-0.network")
        #expect(text.contains("[Match]\nName=enp3s0\n") && !text.contains("MACAddress"), "\(text)")
        #expect(try networkdComplaints(folder, files: files).isEmpty)
    }

    /// ifupdown knows the card by its own name: `ifquery` lists enp3s0 and `ifup -n` would give it its address.
    @Test func ifupdownBindsByName() throws {
        let folder = try TemporaryDirectory("ifupdown-name")
        let files = try NetworkCases.render(try BindingCases.staticByName(), stack: .ifupdown, into: folder)
        let path = folder.file(String(files[0].path.dropFirst()))
        let list = try runProcess("/usr/sbin/ifquery", ["-i", path, "--list", "--allow", "hotplug"])
        #expect(list.status == 0 && list.output == "enp3s0\n", "\(list.output) \(list.error)")
        let query = try runProcess("/usr/sbin/ifquery", ["-i", path, "enp3s0"])
        #expect(query.output.contains("address: 10.10.10.2\n") && query.output.contains("netmask: 255.255.255.0\n"), "\(query.output)")
        #expect(query.output.contains("gateway: 10.10.10.1\n"), "\(query.output)")
        let state = try TemporaryDirectory("ifstate")
        let up = try runProcess("/usr/sbin/ifup", ["-n", "-a", "-i", path, "--state-dir", state.path])
        #expect(up.status == 0 && !up.error.contains("ifup:"), "\(up.error)")
        #expect(up.error.split(separator: "\n").contains { $0.hasPrefix("ip addr add 10.10.10.2/") && $0.contains("dev enp3s0") }, "\(up.error)")
    }

    /// An ifcfg file bound by name says DEVICE=enp3s0 and no HWADDR, as bash reads it.
    @Test func ifcfgBindsByName() throws {
        let folder = try TemporaryDirectory("ifcfg-name")
        _ = try NetworkCases.render(try BindingCases.staticByName(), stack: .ifcfg, into: folder)
        let script = "set -eu; HWADDR=unset; . \(folder.file("etc/sysconfig/network-scripts/ifcfg-imprint-0")); "
            + "printf '%s\\n' \"$DEVICE\" \"$HWADDR\" \"$IPADDR0\" \"$GATEWAY\" \"$DNS2\" \"$DOMAIN\""
        let result = try runProcess("/bin/bash", ["-c", script])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "enp3s0\nunset\n10.10.10.2\n10.10.10.1\n1.1.1.1\nmydomain otherdomain\n")
    }

    /// `set-name` is honoured on every stack: netplan writes its own .link file; for the others Imprint writes one
    /// that the real udev (`udevadm test-builtin net_setup_link`, in a private network and mount namespace with a
    /// veth pair carrying the card's MAC) applies, naming the card lan0. A later run without the rename removes it.
    @Test(arguments: NetworkStack.allCases)
    func setNameRenamesTheCard(_ stack: NetworkStack) throws {
        let folder = try TemporaryDirectory("set-name")
        let files = try NetworkCases.render(try BindingCases.renamed(), stack: stack, into: folder)
        if stack == .netplan {
            #expect(!files.contains { $0.path.hasSuffix(".link") })
            let result = try runProcess("/usr/sbin/netplan", ["generate", "--root-dir", folder.path])
            #expect(result.status == 0 && result.error.isEmpty, "\(result.error)")
            let link = try String(contentsOfFile: folder.file("run/systemd/network/10-netplan-imprint0.link"), encoding: .utf8)
            #expect(link.contains("Name=lan0") && link.contains(NetworkCases.mac), "\(link)")
            return
        }
        let link = try BindingCases.text(files, "/etc/systemd/network/10-imprint-0.link")
        #expect(link.contains("MACAddress=\(NetworkCases.mac)") && link.contains("Name=lan0"))
        let script = """
            set -e
            mount -t sysfs sysfs /sys
            mount --bind \(folder.file("etc/systemd/network")) /etc/systemd/network
            ip link add card0 address \(NetworkCases.mac) type veth peer name peer0
            udevadm test-builtin net_setup_link /sys/class/net/card0 2>&1
            """
        let result = try runProcess("/usr/bin/unshare", ["--net", "--mount", "--propagation", "private", "/bin/sh", "-c", script])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("ID_NET_LINK_FILE=/etc/systemd/network/10-imprint-0.link\n"), "\(result.output)")
        #expect(result.output.contains("ID_NET_NAME=lan0\n"), "\(result.output)")

        let root = try TargetRoot(folder.path)
        let profile = try NetworkCases.profile([try InterfaceConfig(mac: MACAddress(NetworkCases.mac))], stack: stack)
        let plan = try NetworkStep.plan(profile, root: root)
        #expect(plan.changes.contains { $0.path == "/etc/systemd/network/10-imprint-0.link" && $0.action == .remove })
    }

    /// The plan says how each card is found: by name as the document says, renamed by set-name; a MAC or a name
    /// the machine's facts do not list is a note; the unit's other MACs get DHCP only when the facts say which
    /// card the name is, so that no card is configured twice.
    @Test func planSaysHowCardsAreBound() throws {
        let folder = try TemporaryDirectory("binding-plan")
        let root = try TargetRoot(folder.path)
        let other = "3c:52:82:20:04:99"
        let byName = try NetworkCases.profile(try BindingCases.staticByName(), stack: .networkd, macs: [other])
        let blind = try NetworkStep.plan(byName, root: root)
        #expect(blind.notes.contains("network: bound to enp3s0 by name, as the document says"))
        #expect(blind.notes.contains { $0.contains("\(other) is left unconfigured rather than risk configuring a card twice") }, "\(blind.notes)")
        #expect(blind.changes.filter { $0.path.hasSuffix(".network") }.count == 1)

        let cards = [NetworkInterfaceFact(name: "enp3s0", mac: "3c:52:82:20:04:98"), NetworkInterfaceFact(name: "enp4s0", mac: other)]
        let known = try NetworkStep.plan(byName, root: root, cards: cards)
        #expect(!known.notes.contains { $0.contains("left unconfigured") || $0.contains("facts have no card") }, "\(known.notes)")
        let networkFiles = known.changes.filter { $0.path.hasSuffix(".network") }.compactMap(\.after).map { String(decoding: $0, as: UTF8.self) }
        #expect(networkFiles.count == 2 && networkFiles[1].contains("MACAddress=\(other)"))

        let elsewhere = [NetworkInterfaceFact(name: "eno1", mac: other)]
        let missing = try NetworkStep.plan(byName, root: root, cards: elsewhere)
        #expect(missing.notes.contains { $0.contains("facts have no card named enp3s0 (it has eno1 (\(other)))") }, "\(missing.notes)")
        let renamed = try NetworkStep.plan(try NetworkCases.profile(try BindingCases.renamed(), stack: .networkd), root: root, cards: elsewhere)
        #expect(renamed.notes.contains("network: the card \(NetworkCases.mac) is named lan0, as the document's set-name says"))
        #expect(renamed.notes.contains { $0.contains("facts have no card with the MAC \(NetworkCases.mac)") && $0.contains("wait for that card") })
    }

    /// A run given the machine's facts passes them to the network step (the note about a missing card appears).
    @Test func runPassesTheFacts() throws {
        let folder = try TemporaryDirectory("binding-run")
        let root = try TargetRoot(folder.path)
        var run = request(try NetworkCases.profile(try BindingCases.staticByName(), stack: .networkd), steps: [.network], dryRun: true)
        run.facts = HardwareFacts(serial: "7XK07QF9", interfaces: [NetworkInterfaceFact(name: "eno1", mac: "3c:52:82:20:04:99")])
        let outcome = try Agent.run(run, root: root)
        #expect(outcome.plan.notes.contains { $0.contains("facts have no card named enp3s0") }, "\(outcome.plan.notes)")
    }
}

@Suite struct NetplanAsGivenTests {
    /// A document with a card bound by name, a renamed card and a Wi-Fi password.
    static let document = """
        network:
          version: 2
          renderer: networkd
          ethernets:
            enp3s0:
              addresses: [10.10.10.2/24]
              routes: [{to: default, via: 10.10.10.1}]
            lan:
              match: {macaddress: "\(NetworkCases.mac)"}
              set-name: lan0
              dhcp4: true
          wifis:
            wlp2s0:
              dhcp4: true
              access-points:
                "School Wi-Fi": {password: "c0rrect horse battery"}
        """

    /// For the netplan stack, the unit's document is written as given (under one comment line), 0600, and
    /// `netplan generate` renders it itself, the Wi-Fi password included; the change is secret, so the dry-run diff
    /// (which `run --json` and the log show too) never carries the password.
    @Test func writtenAsGivenAndMasked() throws {
        let folder = try TemporaryDirectory("as-given")
        let root = try TargetRoot(folder.path)
        var profile = try NetworkCases.profile(try NetplanV2.interfaces(Self.document), stack: .netplan)
        profile.netplan = Self.document
        let plan = try NetworkStep.plan(profile, root: root)
        #expect(plan.notes.contains("network: the unit's netplan document is written as given to /etc/netplan/90-imprint.yaml; netplan renders it itself"))
        let change = try #require(plan.changes.first { $0.path == "/etc/netplan/90-imprint.yaml" })
        let text = String(decoding: try #require(change.after), as: UTF8.self)
        #expect(text.hasPrefix("# Written by Imprint for RM204-07") && text.hasSuffix("\n" + Self.document + "\n"), "\(text)")
        #expect(change.secret && !change.diff.contains("c0rrect"), "\(change.diff)")
        let outcome = try Agent.run(request(profile, steps: [.network]), root: root)
        #expect(outcome.plan.changes.allSatisfy { !$0.diff.contains("c0rrect") })
        #expect(try root.metadata("/etc/netplan/90-imprint.yaml")?.mode == 0o600)
        let generated = try runProcess("/usr/sbin/netplan", ["generate", "--root-dir", folder.path])
        #expect(generated.status == 0 && generated.error.isEmpty, "\(generated.error)")
        let link = try String(contentsOfFile: folder.file("run/systemd/network/10-netplan-lan.link"), encoding: .utf8)
        #expect(link.contains("Name=lan0"))
        let network = try String(contentsOfFile: folder.file("run/systemd/network/10-netplan-enp3s0.network"), encoding: .utf8)
        #expect(network.contains("Name=enp3s0") && network.contains("Address=10.10.10.2/24"))
        let supplicant = try String(contentsOfFile: folder.file("run/netplan/wpa-wlp2s0.conf"), encoding: .utf8)
        #expect(supplicant.contains("ssid=\"School Wi-Fi\"") && supplicant.contains("psk=\"c0rrect horse battery\""))
    }

    /// cloud-init's inner mapping in JSON (no `network:`) is put under `network:` and read by netplan; a document
    /// without a secret is shown in the diff.
    @Test func innerMappingIsWrapped() throws {
        let folder = try TemporaryDirectory("as-given-json")
        let json = #"{"version": 2, "ethernets": {"enp3s0": {"dhcp4": true, "mtu": 9000}}}"#
        var profile = try NetworkCases.profile(try NetplanV2.interfaces(json), stack: .netplan)
        profile.netplan = json
        let change = try #require(try NetworkStep.plan(profile, root: TargetRoot(folder.path)).changes.first)
        #expect(!change.secret && change.diff.contains("+  {\"version\": 2"), "\(change.diff)")
        _ = try Agent.run(request(profile, steps: [.network]), root: TargetRoot(folder.path))
        let generated = try runProcess("/usr/sbin/netplan", ["generate", "--root-dir", folder.path])
        #expect(generated.status == 0 && generated.error.isEmpty, "\(generated.error)")
        let network = try String(contentsOfFile: folder.file("run/systemd/network/10-netplan-enp3s0.network"), encoding: .utf8)
        #expect(network.contains("Name=enp3s0") && network.contains("DHCP=ipv4"))
        #expect(NetplanV2.holdsSecret("network: {version: 2, tunnels: {wg0: {mode: wireguard, key: abc}}}"))
        #expect(NetplanV2.holdsSecret("network: {version: 2, ethernets: {e: {auth: {password: x}}}}"))
    }
}

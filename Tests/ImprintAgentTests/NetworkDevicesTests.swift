import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintTestSupport
import Testing

/// Bonds, bridges, VLANs and tunnels from netplan's own examples, as NetworkManager and systemd-networkd read them.
@Suite struct NetworkDevicesTests {
    static func example(_ name: String) throws -> String {
        try String(contentsOfFile: ExampleCases.folder + name, encoding: .utf8)
    }

    /// NetworkManager's daemon loads bonding.yaml as a bond profile with its mode and primary and two member
    /// profiles bound by name, and vlan.yaml as two VLAN profiles on the renamed card with their ids and addresses.
    @Test func networkManagerReadsBondsAndVLANs() throws {
        let folder = try TemporaryDirectory("nm-bond")
        _ = try ExampleCases.plannedFiles(try ExampleCases.profile(try Self.example("bonding.yaml"), stack: .networkManager), into: folder)
        let bond = try networkManagerShow(
            folder, profiles: ["imprint-0", "imprint-1", "imprint-2"],
            fields: "connection.interface-name,connection.type,connection.master,connection.slave-type,bond.options,ipv4.method")
        #expect(bond.status == 0, "\(bond.error)")
        #expect(bond.output.contains("connection.interface-name:enp3s0\nconnection.type:802-3-ethernet\nconnection.master:bond0\nconnection.slave-type:bond\n"), "\(bond.output)")
        #expect(bond.output.contains("connection.interface-name:enp4s0\nconnection.type:802-3-ethernet\nconnection.master:bond0\n"))
        #expect(bond.output.contains("connection.interface-name:bond0\nconnection.type:bond\nconnection.master:\nconnection.slave-type:\n"
            + "bond.options:mode=active-backup,primary=enp3s0\nipv4.method:auto\n"), "\(bond.output)")

        let vlanFolder = try TemporaryDirectory("nm-vlan")
        _ = try ExampleCases.plannedFiles(try ExampleCases.profile(try Self.example("vlan.yaml"), stack: .networkManager), into: vlanFolder)
        let vlan = try networkManagerShow(
            vlanFolder, profiles: ["imprint-0", "imprint-1", "imprint-2"], fields: "connection.interface-name,vlan.id,vlan.parent,ipv4.addresses,ipv4.dns-search")
        #expect(vlan.status == 0, "\(vlan.error)")
        #expect(vlan.output.contains("connection.interface-name:vlan10\nvlan.id:10\nvlan.parent:mainif\nipv4.addresses:10.3.98.5/24\n"
            + "ipv4.dns-search:domain1.example.com,domain2.example.com\n"), "\(vlan.output)")
        #expect(vlan.output.contains("connection.interface-name:vlan15\nvlan.id:15\nvlan.parent:mainif\nipv4.addresses:10.3.99.5/24\n"))
    }

    /// ipv6_tunnel.yaml's 6in4 tunnel: NetworkManager's daemon loads an ip-tunnel profile with the mode, the outer
    /// addresses, the IPv6 address and gateway and no IPv4; networkd gets a `Kind=sit` .netdev, which it reads without
    /// a complaint (exampleRendersOrIsRefused). This test machine's kernel has no sit, gre or ipip, so no daemon can
    /// be shown making the device here.
    @Test func ipTunnelOnNetworkManagerAndNetworkd() throws {
        let folder = try TemporaryDirectory("nm-tunnel")
        let profile = try ExampleCases.profile(try Self.example("ipv6_tunnel.yaml"), stack: .networkManager)
        _ = try ExampleCases.plannedFiles(profile, into: folder)
        let shown = try networkManagerShow(
            folder, profiles: ["imprint-1"],
            fields: "connection.interface-name,connection.type,ip-tunnel.mode,ip-tunnel.local,ip-tunnel.remote,ipv4.method,ipv6.addresses,ipv6.gateway")
        #expect(shown.status == 0, "\(shown.error)")
        #expect(shown.output == "connection.interface-name:he-ipv6\nconnection.type:ip-tunnel\nip-tunnel.mode:sit\nip-tunnel.local:1.1.1.1\n"
            + "ip-tunnel.remote:2.2.2.2\nipv4.method:disabled\nipv6.addresses:2001:dead:beef::2/64\nipv6.gateway:2001:dead:beef::1\n", "\(shown.output)")

        let networkd = try TemporaryDirectory("networkd-tunnel")
        let files = try ExampleCases.plannedFiles(try ExampleCases.profile(try Self.example("ipv6_tunnel.yaml"), stack: .networkd), into: networkd)
        let netdev = try BindingCases.text(files, "/etc/systemd/network/10-imprint-1.netdev")
        #expect(netdev.contains("Name=he-ipv6\nKind=sit\n") && netdev.contains("[Tunnel]\n") && netdev.contains("Local=1.1.1.1\nRemote=2.2.2.2\n"), "\(netdev)")
        #expect(try BindingCases.text(files, "/etc/systemd/network/10-imprint-1.network").contains("Name=he-ipv6\n"))
    }

    /// A tunnel of a mode Imprint does not render is refused for its mode, never naming its keys; a sit tunnel needs
    /// IPv4 outer addresses.
    @Test func tunnelRefusals() throws {
        let wireguard = try Self.example("wireguard.yaml")
        #expect { try NetplanV2.interfaces(wireguard) } throws: { error in
            "\(error)".contains("'wireguard'") && "\(error)".contains("sit") && !"\(error)".contains("4GgaQCy68nzNsUE5aJ9fuLzHhB65tAlwbmA72MWnOm8=")
        }
        let sixOuter = "network:\n  version: 2\n  tunnels:\n    t6:\n      mode: sit\n      local: \"2001:db8::1\"\n      remote: 2.2.2.2\n"
        #expect { try NetplanV2.interfaces(sixOuter) } throws: { "\($0)".contains("must be an IPv4 address") }
        let noRemote = "network:\n  version: 2\n  tunnels:\n    t6:\n      mode: gre\n      local: 1.1.1.1\n"
        #expect { try NetplanV2.interfaces(noRemote) } throws: { "\($0)".contains("remote") && "\($0)".contains("needs 'local' and 'remote'") }
    }

    /// systemd-networkd makes the bridge of bridge.yaml: in a private network namespace the real daemon creates br0
    /// from Imprint's .netdev file, and reads the member's file without a complaint. (Putting enp3s0 in the bridge
    /// waits for udev to announce the card, which a test namespace has no udev for.)
    @Test func networkdMakesTheBridge() throws {
        let folder = try TemporaryDirectory("networkd-bridge")
        let files = try ExampleCases.plannedFiles(try ExampleCases.profile(try Self.example("bridge.yaml"), stack: .networkd), into: folder)
        #expect(files.map(\.path).sorted() == ["/etc/systemd/network/10-imprint-0.network", "/etc/systemd/network/10-imprint-1.netdev",
                                               "/etc/systemd/network/10-imprint-1.network"])
        #expect(try BindingCases.text(files, "/etc/systemd/network/10-imprint-0.network").contains("Bridge=br0\n"))
        // The poll is a bound (5 s), not a timing the test depends on: it stops as soon as br0 exists.
        let script = """
            set -e
            mount -t tmpfs tmpfs /run
            mkdir -p /run/systemd/netif
            mount --bind \(folder.file("etc/systemd/network")) /etc/systemd/network
            /usr/lib/systemd/systemd-networkd > \(folder.file("networkd.log")) 2>&1 &
            for i in $(seq 1 50); do
              if ip link show br0 > /dev/null 2>&1; then break; fi
              sleep 0.1
            done
            ip -o -d link show br0
            kill $!
            """
        let result = try runProcess("/usr/bin/unshare", ["--net", "--mount", "--propagation", "private", "/bin/sh", "-c", script])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.hasPrefix("2: br0:") && result.output.contains(" bridge "), "\(result.output)")
        #expect(try networkdComplaints(folder, files: files).isEmpty)
    }

    /// bonding_router.yaml's bonds become .netdev files with the mode, MII interval (milliseconds, as netplan
    /// reads it) and gratuitous ARP count (netplan's misspelt key), members say Bond=, and networkd reads them all
    /// without a complaint.
    @Test func networkdBondParameters() throws {
        let folder = try TemporaryDirectory("networkd-bond")
        let files = try ExampleCases.plannedFiles(try ExampleCases.profile(try Self.example("bonding_router.yaml"), stack: .networkd), into: folder)
        #expect(try networkdComplaints(folder, files: files).isEmpty)
        let netdevs = files.filter { $0.path.hasSuffix(".netdev") }.map(\.text)
        #expect(netdevs.count == 3)
        #expect(netdevs.contains { $0.contains("Name=bond-wan\nKind=bond\n\n[Bond]\nGratuitousARP=5\nMIIMonitorSec=1ms\nMode=active-backup\n") }, "\(netdevs)")
        #expect(netdevs.contains { $0.contains("Name=bond-lan\nKind=bond\n\n[Bond]\nMIIMonitorSec=1ms\nMode=802.3ad\n") }, "\(netdevs)")
        let member = try #require(files.first { $0.text.contains("Name=enp3s0\n") }).text
        #expect(member.contains("Bond=bond-lan\n") && member.contains("RequiredForOnline=no\n") && member.contains("DHCP=no\n"), "\(member)")
        let wan = try #require(files.first { $0.path.hasSuffix(".network") && $0.text.contains("Name=bond-wan\n") }).text
        #expect(wan.contains("Address=192.168.1.252/24\nGateway=192.168.1.1\nDNS=8.8.8.8\nDNS=8.8.4.4\nDomains=local\n"), "\(wan)")
    }

    /// What cannot be joined is refused naming it: a member with its own address, a VLAN on a card found by MAC
    /// alone, an unknown bond parameter; and Imprint's own netplan template (no pasted document) refuses a bond.
    @Test func refusals() throws {
        #expect {
            try NetplanV2.interfaces("network: {ethernets: {eth0: {dhcp4: true}}, bonds: {bond0: {interfaces: [eth0]}}}")
        } throws: { "\($0)".contains("a member of a bond carries none") }
        #expect {
            try NetplanV2.interfaces("network: {ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, dhcp4: true}}, vlans: {v5: {id: 5, link: e, dhcp4: true}}}")
        } throws: { "\($0)".contains("give it a 'set-name'") }
        #expect {
            try NetplanV2.interfaces("network: {ethernets: {eth0: {}}, bonds: {bond0: {interfaces: [eth0], parameters: {ad-select: count}}}}")
        } throws: { "\($0)".contains("'ad-select'") }
        let interfaces = try NetplanV2.interfaces(try Self.example("bonding.yaml"))
        let folder = try TemporaryDirectory("template")
        #expect {
            try NetworkStep.Renderer(unit: "RM204-07", stack: .netplan, interfaces: interfaces, root: TargetRoot(folder.path)).files()
        } throws: { "\($0)".contains("--netplan-file") }
    }
}

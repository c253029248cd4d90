import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintTestSupport
import Testing

/// Bonds, bridges, VLANs and tunnels from netplan's own examples, as NetworkManager, systemd-networkd, ifupdown
/// (`ifquery`, `ifup -n`) and bash (ifcfg) read them.
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

    /// The ifupdown file of netplan's bonding, bridge and VLAN examples, as `ifquery` reads it: the bond made from
    /// its `auto` stanza with `bond-slaves none` and its mode, each member joining it from its own stanza with the
    /// bond's options (ifenslave sets the primary as the member joins); a bridge listing its ports, a VLAN made by
    /// the vlan package from `vlan-raw-device`; and each device after what it is made of, in the order `ifup -a`
    /// brings them up.
    @Test func ifupdownMakesBondsBridgesAndVLANs() throws {
        // The folder is returned too: a TemporaryDirectory is removed when it goes.
        func planned(_ file: String) throws -> (folder: TemporaryDirectory, path: String, text: String) {
            let folder = try TemporaryDirectory("ifupdown-devices")
            let files = try ExampleCases.plannedFiles(try ExampleCases.profile(try Self.example(file), stack: .ifupdown), into: folder)
            #expect(try ExampleCases.complaints(.ifupdown, files: files, folder: folder) == [], "\(file)")
            return (folder, folder.file("etc/network/interfaces.d/imprint"), try BindingCases.text(files, "/etc/network/interfaces.d/imprint"))
        }
        let bonding = try planned("bonding.yaml")
        #expect(try DeviceMeaning(ifupdown: bonding.path).facts == [
            "bond0": ["bond mode=active-backup", "dhcp"], "enp3s0": ["in bond0"], "enp4s0": ["in bond0"],
        ])
        #expect(bonding.text.contains("iface enp4s0 inet manual\n    bond-master bond0\n    bond-mode active-backup\n    bond-primary enp3s0\n"),
                "\(bonding.text)")
        #expect(bonding.text.contains("auto bond0\niface bond0 inet dhcp\n"), "\(bonding.text)")
        #expect(try Self.autoList(bonding.path) == ["enp3s0", "enp4s0", "bond0"])

        let router = try planned("bonding_router.yaml")
        // By netplan's names: gratuitous-arp, mii-monitor-interval, mode.
        #expect(router.text.contains("    bond-slaves none\n    bond-num-grat-arp 5\n    bond-miimon 1\n    bond-mode active-backup\n"),
                "\(router.text)")
        // Optional members are brought up when they appear (allow-hotplug), as for any optional card.
        #expect(router.text.contains("allow-hotplug enp3s0\n") && !router.text.contains("auto enp3s0\n"))

        let bridgeVLAN = try planned("bridge_vlan.yaml")
        #expect(try DeviceMeaning(ifupdown: bridgeVLAN.path).facts == [
            "enp0s25": ["dhcp"], "vlan15": ["vlan 15 on enp0s25", "in br0"], "br0": ["bridge", "address 10.3.99.25"],
        ])
        #expect(try Self.autoList(bridgeVLAN.path) == ["enp0s25", "vlan15", "br0"])

        let bridge = try planned("bridge.yaml")
        // A card in a bridge has no auto line: bridge-utils brings it up with the bridge.
        #expect(bridge.text.contains("# A port of br0") && !bridge.text.contains("auto enp3s0"), "\(bridge.text)")
        #expect(try Self.autoList(bridge.path) == ["br0"])

        let vlan = try planned("vlan.yaml")
        #expect(try DeviceMeaning(ifupdown: vlan.path).facts == [
            "imprint0": ["address 10.3.0.5"], "vlan10": ["vlan 10 on mainif", "address 10.3.98.5"],
            "vlan15": ["vlan 15 on mainif", "address 10.3.99.5"],
        ])
    }

    /// bridge-utils brings a bridge's cards up without reading their own stanzas, and gives every card the bridge's
    /// `mtu`: the real `ifup -a`, with bridge-utils' hook, in a private network namespace with veth cards, leaves each
    /// card in the bridge with its own MTU (set from the bridge's stanza once it has joined), and a card without one
    /// with the bridge's, whether the bridge has an MTU of its own or not.
    @Test func ifupdownBridgePortsKeepTheirMTU() throws {
        for bridgeMTU in [nil, 9000] as [Int?] {
            let text = """
                network:
                  version: 2
                  ethernets:
                    enp3s0: {mtu: 9000}
                    enp4s0: {mtu: 4000}
                    enp5s0: {}
                  bridges:
                    br0: {interfaces: [enp3s0, enp4s0, enp5s0], addresses: [10.9.0.1/24]\(bridgeMTU.map { ", mtu: \($0)" } ?? "")}
                """
            let folder = try TemporaryDirectory("ifupdown-bridge-mtu")
            let files = try ExampleCases.plannedFiles(try ExampleCases.profile(text, stack: .ifupdown), into: folder)
            #expect(try ExampleCases.complaints(.ifupdown, files: files, folder: folder) == [])
            for hooks in ["if-pre-up.d", "if-up.d", "if-down.d", "if-post-down.d"] {
                try FileManager.default.createDirectory(atPath: folder.file("etc/network/" + hooks), withIntermediateDirectories: true)
            }
            try FileManager.default.createSymbolicLink(atPath: folder.file("etc/network/if-pre-up.d/bridge"),
                                                       withDestinationPath: "/lib/bridge-utils/ifupdown.sh")
            let state = try TemporaryDirectory("ifstate")
            // The namespace's own /etc/network (the plan's file and bridge-utils' hook alone), /run, and /sys (the
            // hook looks for the cards there).
            let script = """
                set -e
                mount -t tmpfs tmpfs /run
                mount -t sysfs sysfs /sys
                mount --bind \(folder.file("etc/network")) /etc/network
                for card in enp3s0 enp4s0 enp5s0; do ip link add $card type veth peer name ${card}peer; ip link set ${card}peer up; done
                ifup -a -i /etc/network/interfaces.d/imprint --state-dir \(state.path)
                ip -o link show
                """
            let result = try runProcess("/usr/bin/unshare", ["--net", "--mount", "--propagation", "private", "/bin/sh", "-c", script])
            #expect(result.status == 0, "\(result.error)")
            var links: [String: String] = [:]
            for line in result.output.split(separator: "\n") {
                let words = line.split(separator: " ").map(String.init)
                guard words.count > 1, let mtu = words.firstIndex(of: "mtu").map({ words[$0 + 1] }) else { continue }
                let master = words.firstIndex(of: "master").map { " in " + words[$0 + 1] } ?? ""
                links[String(words[1].dropLast().split(separator: "@")[0])] = mtu + master  // "enp3s0@enp3s0peer:"
            }
            let unset = bridgeMTU.map(String.init) ?? "1500"
            #expect(links["enp3s0"] == "9000 in br0" && links["enp4s0"] == "4000 in br0" && links["enp5s0"] == unset + " in br0",
                    "bridge mtu \(String(describing: bridgeMTU)): \(result.output)")
        }
    }

    /// The ifcfg files of the same examples, as bash reads them: `TYPE=Bond` with `BONDING_OPTS`, members with
    /// `MASTER=` and `SLAVE=yes` and no IP settings, `TYPE=Bridge` and its ports' `BRIDGE=`, a VLAN with `VLAN=yes`,
    /// `PHYSDEV=` and its id (`VID=` for the network scripts, `VLAN_ID=` for NetworkManager).
    @Test func ifcfgMakesBondsBridgesAndVLANs() throws {
        func planned(_ file: String) throws -> (meaning: DeviceMeaning, files: [RenderedFile]) {
            let folder = try TemporaryDirectory("ifcfg-devices")
            let files = try ExampleCases.plannedFiles(try ExampleCases.profile(try Self.example(file), stack: .ifcfg), into: folder)
            #expect(try ExampleCases.complaints(.ifcfg, files: files, folder: folder) == [], "\(file)")
            let paths = files.filter { $0.path.contains("/ifcfg-") }.map { folder.file(String($0.path.dropFirst())) }
            return (try DeviceMeaning(ifcfg: paths), files)
        }
        let bonding = try planned("bonding.yaml")
        #expect(bonding.meaning.facts == ["bond0": ["bond mode=active-backup", "dhcp"], "enp3s0": ["in bond0"], "enp4s0": ["in bond0"]])
        let bond = try BindingCases.text(bonding.files, "/etc/sysconfig/network-scripts/ifcfg-imprint-2")
        #expect(bond.contains("TYPE='Bond'\nBONDING_MASTER='yes'\nBONDING_OPTS='mode=active-backup primary=enp3s0'\n"), "\(bond)")
        let member = try BindingCases.text(bonding.files, "/etc/sysconfig/network-scripts/ifcfg-imprint-0")
        #expect(member.contains("MASTER='bond0'\nSLAVE='yes'\nBOOTPROTO='none'\n") && !member.contains("IPV6INIT"), "\(member)")

        #expect(try planned("bridge_vlan.yaml").meaning.facts == [
            "enp0s25": ["dhcp"], "vlan15": ["vlan 15 on enp0s25", "in br0"], "br0": ["bridge", "address 10.3.99.25"],
        ])
        let vlan = try planned("vlan.yaml")
        #expect(vlan.meaning.facts == [
            "mainif": ["address 10.3.0.5"], "vlan10": ["vlan 10 on mainif", "address 10.3.98.5"],
            "vlan15": ["vlan 15 on mainif", "address 10.3.99.5"],
        ])
        #expect(try BindingCases.text(vlan.files, "/etc/sysconfig/network-scripts/ifcfg-imprint-1").contains("VID='10'\nVLAN_ID='10'\n"))
    }

    /// A bond's or bridge's member found by its MAC alone is given a kernel name on ifupdown and ifcfg, which name
    /// members so: `imprintN` by a .link file, as `set-name` would, and the plan says so. The stanzas and files then
    /// name it (`auto imprint0`, `bridge_ports imprint2 bond0`, `DEVICE=imprint0` without `HWADDR`, which a bond's
    /// own MAC would contradict); systemd-networkd, which matches members by MAC, gets no .link file.
    @Test func membersFoundByMACAreNamed() throws {
        let text = """
            network:
              version: 2
              ethernets:
                a: {match: {macaddress: "3c:52:82:20:04:07"}}
                b: {match: {macaddress: "3c:52:82:20:04:08"}}
                c: {match: {macaddress: "3c:52:82:20:04:09"}}
              bonds:
                bond0:
                  interfaces: [a, b]
                  parameters: {mode: 802.3ad, mii-monitor-interval: 100, lacp-rate: fast, transmit-hash-policy: layer3+4}
              bridges:
                br0: {interfaces: [bond0, c], dhcp4: true, parameters: {stp: false}}
            """
        for stack in [NetworkStack.ifupdown, .ifcfg] {
            let folder = try TemporaryDirectory("members-by-mac")
            let profile = try ExampleCases.profile(text, stack: stack)
            let files = try ExampleCases.plannedFiles(profile, into: folder)
            #expect(try ExampleCases.complaints(stack, files: files, folder: folder) == [], "\(stack.rawValue)")
            let links = files.filter { $0.path.hasSuffix(".link") }
            #expect(links.map(\.path).sorted() == (0...2).map { "/etc/systemd/network/10-imprint-\($0).link" }, "\(stack.rawValue)")
            #expect(try BindingCases.text(files, "/etc/systemd/network/10-imprint-2.link").contains("MACAddress=3c:52:82:20:04:09\n"))
            #expect(try BindingCases.text(files, "/etc/systemd/network/10-imprint-2.link").contains("Name=imprint2\n"))
            #expect(links.allSatisfy { $0.reason.contains("so that \(stack.rawValue) can name it as a member of") })
            let notes = try NetworkStep.plan(profile, root: TargetRoot(folder.path)).notes
            #expect(notes.contains { $0.contains("the card 3c:52:82:20:04:07, a member of bond0 found by its MAC alone, is named imprint0") },
                    "\(notes)")
            let meaning = stack == .ifupdown
                ? try DeviceMeaning(ifupdown: folder.file("etc/network/interfaces.d/imprint"))
                : try DeviceMeaning(ifcfg: files.filter { $0.path.contains("/ifcfg-") }.map { folder.file(String($0.path.dropFirst())) })
            #expect(meaning.facts == [
                "imprint0": ["in bond0"], "imprint1": ["in bond0"], "imprint2": ["in br0"], "bond0": ["bond mode=802.3ad", "in br0"],
                "br0": ["bridge", "dhcp"],
            ], "\(stack.rawValue)")
        }
        let ifupdown = try ExampleCases.plannedFiles(try ExampleCases.profile(text, stack: .ifupdown), into: try TemporaryDirectory("members"))
        let stanzas = try BindingCases.text(ifupdown, "/etc/network/interfaces.d/imprint")
        #expect(stanzas.contains("auto imprint0\nallow-hotplug imprint0\n") && !stanzas.contains("mac/"), "\(stanzas)")
        #expect(stanzas.contains("    bond-lacp-rate fast\n    bond-miimon 100\n    bond-mode 802.3ad\n    bond-xmit-hash-policy layer3+4\n"))
        #expect(stanzas.contains("    bridge_ports imprint2 bond0\n    bridge_stp off\n"), "\(stanzas)")
        let ifcfg = try ExampleCases.plannedFiles(try ExampleCases.profile(text, stack: .ifcfg), into: try TemporaryDirectory("members"))
        let member = try BindingCases.text(ifcfg, "/etc/sysconfig/network-scripts/ifcfg-imprint-0")
        #expect(member.contains("DEVICE='imprint0'\n") && !member.contains("HWADDR"), "\(member)")
        #expect(try BindingCases.text(ifcfg, "/etc/sysconfig/network-scripts/ifcfg-imprint-3")
            .contains("BONDING_OPTS='lacp_rate=fast miimon=100 mode=802.3ad xmit_hash_policy=layer3+4'\n"))
        let networkd = try ExampleCases.plannedFiles(try ExampleCases.profile(text, stack: .networkd), into: try TemporaryDirectory("members"))
        #expect(!networkd.contains { $0.path.hasSuffix(".link") })
    }

    /// ifupdown makes a VLAN named `PARENT.ID` itself, one named `vlanID` with the vlan package's `vlan-raw-device`,
    /// and any other name with `ip link` commands in its stanza, as `ifup -n` shows; a dotted name that is not
    /// `PARENT.ID` (ifupdown would read another parent and id in it) and an optional bond are refused for ifupdown
    /// naming the setting and the way out, and ifcfg, which names the parent and id itself, writes them.
    @Test func ifupdownVLANNames() throws {
        let vlans = """
            network:
              version: 2
              ethernets:
                lan: {match: {macaddress: "3c:52:82:20:04:07"}, set-name: lan0}
              vlans:
                lan0.40: {id: 40, link: lan, dhcp4: true}
                vlan41: {id: 41, link: lan, dhcp4: true}
                office: {id: 42, link: lan, addresses: [10.1.2.3/24]}
            """
        let folder = try TemporaryDirectory("vlan-names")
        let files = try ExampleCases.plannedFiles(try ExampleCases.profile(vlans, stack: .ifupdown), into: folder)
        #expect(try ExampleCases.complaints(.ifupdown, files: files, folder: folder) == [])
        let path = folder.file("etc/network/interfaces.d/imprint")
        #expect(try DeviceMeaning(ifupdown: path).facts == [
            "lan0.40": ["vlan 40 on lan0", "dhcp"], "vlan41": ["vlan 41 on lan0", "dhcp"], "office": ["vlan 42 on lan0", "address 10.1.2.3"],
        ])
        let text = try BindingCases.text(files, "/etc/network/interfaces.d/imprint")
        #expect(text.contains("iface lan0.40 inet dhcp\n\n") && text.contains("    vlan-raw-device lan0\n"), "\(text)")
        let state = try TemporaryDirectory("ifstate")
        let up = try runProcess("/usr/sbin/ifup", ["-n", "-a", "-i", path, "--state-dir", state.path])
        #expect(up.status == 0 && up.error.contains("ip link add link lan0 name lan0.40 type vlan id 40"), "\(up.error)")
        #expect(up.error.contains("ip link add link lan0 name $IFACE type vlan id 42"), "\(up.error)")

        let dotted = vlans + "\n    lab.43: {id: 43, link: lan, dhcp4: true}\n"
        #expect {
            try ExampleCases.plannedFiles(try ExampleCases.profile(dotted, stack: .ifupdown), into: try TemporaryDirectory("dotted"))
        } throws: { error in
            "\(error)".contains("network vlans of lab.43") && "\(error)".contains("for the ifupdown stack")
                && "\(error)".contains("name the VLAN lan0.43 or vlan43")
        }
        let ifcfgFolder = try TemporaryDirectory("dotted-ifcfg")
        let ifcfg = try ExampleCases.plannedFiles(try ExampleCases.profile(dotted, stack: .ifcfg), into: ifcfgFolder)
        #expect(try DeviceMeaning(ifcfg: ifcfg.filter { $0.path.contains("/ifcfg-") }.map { ifcfgFolder.file(String($0.path.dropFirst())) })
            .facts["lab.43"] == ["vlan 43 on lan0", "dhcp"])

        let optionalBond = "network: {ethernets: {eth0: {}}, bonds: {bond0: {interfaces: [eth0], dhcp4: true, optional: true}}}"
        #expect {
            try ExampleCases.plannedFiles(try ExampleCases.profile(optionalBond, stack: .ifupdown), into: try TemporaryDirectory("optional"))
        } throws: { "\($0)".contains("network optional of bond0") && "\($0)".contains("for the ifupdown stack") }
    }

    /// ifupdown makes bonds, bridges and `vlanID` VLANs with the hooks of ifenslave, bridge-utils and vlan: a plan
    /// for an image without them says which package to install; an image with them gets no such note.
    @Test func ifupdownNamesTheMissingPackages() throws {
        let folder = try TemporaryDirectory("ifupdown-packages")
        for file in ["bonding.yaml", "bridge_vlan.yaml"] {
            let notes = try NetworkStep.plan(try ExampleCases.profile(try Self.example(file), stack: .ifupdown), root: TargetRoot(folder.path)).notes
            let expected = file == "bonding.yaml"
                ? ["makes bond0 with the hooks of the ifenslave package"]
                : ["makes br0 with the hooks of the bridge-utils package", "makes vlan15 with the hooks of the vlan package"]
            for text in expected { #expect(notes.contains { $0.contains(text) && $0.contains("install") }, "\(notes)") }
        }
        for hook in ["ifenslave", "bridge", "vlan"] { _ = try folder.write("etc/network/if-pre-up.d/\(hook)", "#!/bin/sh\n") }
        for file in ["bonding.yaml", "bridge_vlan.yaml"] {
            let notes = try NetworkStep.plan(try ExampleCases.profile(try Self.example(file), stack: .ifupdown), root: TargetRoot(folder.path)).notes
            #expect(!notes.contains { $0.contains("hooks of the") }, "\(notes)")
        }
    }

    /// The stanzas `ifup -a` brings up, in its order.
    static func autoList(_ path: String) throws -> [String] {
        let result = try runProcess("/usr/sbin/ifquery", ["-i", path, "--list"])
        return result.output.split(separator: "\n").map(String.init).filter { $0 != "lo" }
    }
}

/// The bonds, bridges and VLANs an ifupdown file or ifcfg files make, as the real tools read them (`ifquery`, bash):
/// by kernel name, what each is (`bond mode=active-backup`, `bridge`, `vlan 15 on enp0s25`), which bond or bridge
/// it is in (`in bond0`), and its IPv4 (`dhcp`, `address 10.3.99.25`).
struct DeviceMeaning: Equatable, CustomStringConvertible {
    var facts: [String: Set<String>] = [:]

    var description: String { facts.keys.sorted().map { "\($0): \(facts[$0]?.sorted() ?? [])" }.joined(separator: "; ") }

    /// From an ifupdown file: every stanza's options as `ifquery` reads them. A VLAN named `PARENT.ID` or `vlanID`
    /// has its id in its name, as ifupdown and the vlan package read it; cloud-init adds a `vlan_id` no tool reads.
    init(ifupdown path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count == 4, words[0] == "iface", words[2] == "inet", words[1] != "lo" else { continue }
            let name = String(words[1])
            if words[3] == "dhcp" { add(name, "dhcp") }
            let result = try runProcess("/usr/sbin/ifquery", ["-i", path, name])
            guard result.status == 0 else { throw TestSupportError("ifquery \(name): \(result.error)") }
            let options = Dictionary(result.output.split(separator: "\n").compactMap { line -> (String, String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }) { first, next in first + "\n" + next }
            if let address = options["address"] { add(name, "address \(address)") }
            if let master = options["bond-master"] {
                add(name, "in \(master)")
            } else if options["bond-slaves"] != nil {
                add(name, "bond mode=\(options["bond-mode"] ?? "")")
            }
            if let ports = options["bridge_ports"] {
                add(name, "bridge")
                for port in ports.split(separator: " ") where port != "none" { add(String(port), "in \(name)") }
            }
            if let command = options["pre-up"]?.firstMatch(of: #/ip link add link ([^ ]+) name \$IFACE type vlan id ([0-9]+)/#) {
                add(name, "vlan \(command.2) on \(command.1)")
            } else if let raw = options["vlan-raw-device"] {
                add(name, "vlan \(options["vlan_id"] ?? Self.vlanID(inName: name)) on \(raw)")
            } else if let dot = name.lastIndex(of: ".") {
                add(name, "vlan \(Self.vlanID(inName: name)) on \(name[..<dot])")
            }
        }
    }

    /// From ifcfg files, each sourced by bash as the network scripts source it. A file without `DEVICE` (a card
    /// found by `HWADDR`) is keyed by its MAC.
    init(ifcfg paths: [String]) throws {
        for path in paths {
            let result = try runProcess("/usr/bin/env", ["-i", "/bin/bash", "-c", #"set -eu -a; . "$1"; env"#, "bash", path])
            guard result.status == 0 else { throw TestSupportError("bash cannot read \(path): \(result.error)") }
            var values: [String: String] = [:]
            for line in result.output.split(separator: "\n") {
                guard let equals = line.firstIndex(of: "=") else { continue }
                values[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            guard let name = values["DEVICE"] ?? values["HWADDR"]?.lowercased() else { continue }
            if values["BOOTPROTO"] == "dhcp" { add(name, "dhcp") }
            if let address = values["IPADDR"] ?? values["IPADDR0"] { add(name, "address \(address)") }
            if values["TYPE"] == "Bond" || values["BONDING_MASTER"] == "yes" {
                let mode = (values["BONDING_OPTS"] ?? "").split(separator: " ").first { $0.hasPrefix("mode=") }?.dropFirst("mode=".count)
                add(name, "bond mode=\(mode ?? "")")
            }
            if values["TYPE"] == "Bridge" { add(name, "bridge") }
            if values["SLAVE"] == "yes", let master = values["MASTER"] { add(name, "in \(master)") }
            if let bridge = values["BRIDGE"] { add(name, "in \(bridge)") }
            if values["VLAN"] == "yes" {
                // The network scripts read VID and PHYSDEV, else the name's (vlanID, PARENT.ID).
                let parent = values["PHYSDEV"] ?? name.lastIndex(of: ".").map { String(name[..<$0]) } ?? ""
                add(name, "vlan \(values["VID"] ?? Self.vlanID(inName: name)) on \(parent)")
            }
        }
    }

    /// The id a VLAN's name carries, as ifupdown, the vlan package and the network scripts read it: `vlan15` and
    /// `eth0.15` are 15.
    static func vlanID(inName name: String) -> String {
        if let dot = name.lastIndex(of: ".") { return String(name[name.index(after: dot)...]) }
        return name.hasPrefix("vlan") ? String(name.dropFirst("vlan".count)) : ""
    }

    private mutating func add(_ name: String, _ fact: String) {
        facts[name, default: []].insert(fact)
    }
}

import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintTestSupport
import Testing

/// Routes with metrics, several gateways, on-link gateways, tables and policy rules, DHCP overrides, a card that
/// the boot does not wait for, and a card without IPv4, as the real tools read them for each stack.
enum RoutingCases {
    static let document = """
        network:
          version: 2
          ethernets:
            eno1:
              addresses: [10.0.0.10/24, 11.0.0.11/24]
              routes:
                - {to: 0.0.0.0/0, via: 10.0.0.1, metric: 100}
                - {to: 0.0.0.0/0, via: 11.0.0.1, metric: 200}
                - {to: 192.168.3.0/24, via: 10.0.0.1, table: 101}
              routing-policy:
                - {from: 10.0.0.0/24, table: 101, priority: 100}
            eth0:
              addresses: ["10.10.10.1/24", "2001:cafe:face:beef::dead:dead/64"]
              routes:
                - {to: 0.0.0.0/0, via: 9.9.9.9, on-link: true}
                - {to: "::/0", via: "2001:cafe:face::1", on-link: true}
            enred:
              dhcp4: true
              dhcp4-overrides: {route-metric: 100}
              dhcp-identifier: mac
              optional: true
            enp9s0:
              addresses: ["2001:db8:9::9/64"]
        """

    static func profile(_ stack: NetworkStack) throws -> UnitProfile {
        try ExampleCases.profile(document, stack: stack)
    }
}

@Suite struct NetworkRoutesTests {
    /// NetworkManager's daemon loads the routes with their metrics, on-link and table, the policy rule, the DHCP
    /// route metric and client identifier, and a card with IPv4 disabled.
    @Test func networkManagerReadsRoutes() throws {
        let folder = try TemporaryDirectory("nm-routes")
        _ = try ExampleCases.plannedFiles(try RoutingCases.profile(.networkManager), into: folder)
        let result = try networkManagerShow(
            folder, profiles: ["imprint-0", "imprint-1", "imprint-2", "imprint-3"],
            fields: "connection.interface-name,ipv4.method,ipv4.routes,ipv4.routing-rules,ipv4.route-metric,ipv4.dhcp-client-id,ipv6.routes")
        #expect(result.status == 0, "\(result.error)")
        // One block per profile, keyed by the card's name (the document's ids, in their order: eno1, enp9s0, enred, eth0).
        let blocks = result.output.components(separatedBy: "connection.interface-name:").dropFirst()
        #expect(blocks.count == 4, "\(result.output)")
        let byName = Dictionary(blocks.map { (String($0.prefix { $0 != "\n" }), $0) }) { first, _ in first }
        let eno1 = try #require(byName["eno1"])
        #expect(eno1.contains("ipv4.routes:0.0.0.0/0 10.0.0.1 100, 0.0.0.0/0 11.0.0.1 200, 192.168.3.0/24 10.0.0.1 table=101\n"), "\(eno1)")
        #expect(eno1.contains("ipv4.routing-rules:priority 100 from 10.0.0.0/24 table 101"), "\(eno1)")
        let eth0 = try #require(byName["eth0"])
        #expect(eth0.contains("ipv4.routes:0.0.0.0/0 9.9.9.9 onlink=true\n"), "\(eth0)")
        #expect(eth0.contains("ipv6.routes:::/0 2001:cafe:face::1 onlink=true\n"), "\(eth0)")
        let enred = try #require(byName["enred"])
        #expect(enred.contains("ipv4.method:auto") && enred.contains("ipv4.route-metric:100") && enred.contains("ipv4.dhcp-client-id:mac"), "\(enred)")
        #expect(try #require(byName["enp9s0"]).contains("ipv4.method:disabled"))
    }

    /// systemd-networkd reads the same routes, rule and DHCP settings without a complaint, and a card the boot does
    /// not wait for is not required for online.
    @Test func networkdReadsRoutes() throws {
        let folder = try TemporaryDirectory("networkd-routes")
        let files = try ExampleCases.plannedFiles(try RoutingCases.profile(.networkd), into: folder)
        #expect(try networkdComplaints(folder, files: files).isEmpty)
        func file(_ name: String) throws -> String { try #require(files.first { $0.text.contains("Name=\(name)\n") }).text }
        let eno1 = try file("eno1")
        #expect(eno1.contains("[Route]\nDestination=0.0.0.0/0\nGateway=10.0.0.1\nMetric=100\n"), "\(eno1)")
        #expect(eno1.contains("[Route]\nDestination=192.168.3.0/24\nGateway=10.0.0.1\nTable=101\n"))
        #expect(eno1.contains("[RoutingPolicyRule]\nFrom=10.0.0.0/24\nTable=101\nPriority=100\n"))
        let eth0 = try file("eth0")
        #expect(eth0.contains("Gateway=2001:cafe:face::1\nGatewayOnLink=yes\n"), "\(eth0)")
        let enred = try file("enred")
        #expect(enred.contains("[Link]\nRequiredForOnline=no\n") && enred.contains("[DHCPv4]\nRouteMetric=100\nClientIdentifier=mac\n"), "\(enred)")
        #expect(try file("enp9s0").contains("DHCP=no\n"))
    }

    /// ifupdown: `ifup -n` would add each route with its metric, table and onlink, and the rule; an optional card is
    /// brought up when it appears but is not in the boot's `auto` list; dhclient gets the route metric.
    @Test func ifupdownReadsRoutes() throws {
        let folder = try TemporaryDirectory("ifupdown-routes")
        // ifupdown tells its DHCP client no client identifier (refused, see NetplanExampleStackTests).
        let document = RoutingCases.document.replacingOccurrences(of: "      dhcp-identifier: mac\n", with: "")
        _ = try ExampleCases.plannedFiles(try ExampleCases.profile(document, stack: .ifupdown), into: folder)
        let path = folder.file("etc/network/interfaces.d/imprint")
        let auto = try runProcess("/usr/sbin/ifquery", ["-i", path, "--list"])
        #expect(auto.output.split(separator: "\n").filter { $0 != "lo" } == ["eno1", "enp9s0", "eth0"], "\(auto.output) \(auto.error)")
        let hotplug = try runProcess("/usr/sbin/ifquery", ["-i", path, "--list", "--allow", "hotplug"])
        #expect(hotplug.output.contains("enred\n"), "\(hotplug.output)")
        let state = try TemporaryDirectory("ifstate")
        let up = try runProcess("/usr/sbin/ifup", ["-n", "-a", "--allow", "hotplug", "-i", path, "--state-dir", state.path])
        #expect(up.status == 0 && !up.error.contains("ifup:"), "\(up.error)")
        // With -n, ifup prints the commands unexpanded ($IFACE), in the order it would run them: a route comes
        // after the card's last address of its family, so its gateway is reachable.
        let lines = up.error.split(separator: "\n").map(String.init)
        func position(_ command: String) -> Int { lines.firstIndex { $0.hasPrefix(command) } ?? -1 }
        for command in [
            "ip route add 0.0.0.0/0 via 10.0.0.1 metric 100 dev $IFACE", "ip route add 0.0.0.0/0 via 11.0.0.1 metric 200 dev $IFACE",
            "ip route add 192.168.3.0/24 via 10.0.0.1 table 101 dev $IFACE", "ip rule add priority 100 from 10.0.0.0/24 table 101",
        ] {
            #expect(position(command) > position("ip addr add 11.0.0.11/"), "\(command): \(up.error)")
        }
        #expect(position("ip route add 0.0.0.0/0 via 9.9.9.9 onlink dev $IFACE") > position("ip addr add 10.10.10.1/"))
        #expect(position("ip -6 route add ::/0 via 2001:cafe:face::1 onlink dev $IFACE") > position("ip -6 addr add 2001:cafe:face:beef::dead:dead/64"))
        #expect(lines.contains { $0.contains("dhclient -4") && $0.contains("enred") && $0.hasSuffix("-e IF_METRIC=100") }, "\(up.error)")
    }

    /// Imprint's own netplan template (a unit without a pasted document) carries the same settings: `netplan
    /// generate` writes them into its networkd files.
    @Test func netplanTemplateCarriesRoutes() throws {
        let folder = try TemporaryDirectory("netplan-routes")
        _ = try NetworkCases.render(try NetplanV2.interfaces(RoutingCases.document), stack: .netplan, into: folder)
        let result = try runProcess("/usr/sbin/netplan", ["generate", "--root-dir", folder.path])
        #expect(result.status == 0 && result.error.isEmpty, "\(result.error)")
        let generated = folder.file("run/systemd/network/")
        let eno1 = try String(contentsOfFile: generated + "10-netplan-eno1.network", encoding: .utf8)
        #expect(eno1.contains("Gateway=11.0.0.1\nMetric=200\n") && eno1.contains("Table=101") && eno1.contains("[RoutingPolicyRule]"), "\(eno1)")
        let eth0 = try String(contentsOfFile: generated + "10-netplan-eth0.network", encoding: .utf8)
        #expect(eth0.contains("GatewayOnLink=true"), "\(eth0)")
        let enred = try String(contentsOfFile: generated + "10-netplan-enred.network", encoding: .utf8)
        #expect(enred.contains("RouteMetric=100") && enred.contains("ClientIdentifier=mac") && enred.contains("RequiredForOnline=no"), "\(enred)")
    }

    /// NetworkManager applies netplan's offload example through its [ethtool] settings.
    @Test func networkManagerSetsOffloads() throws {
        let folder = try TemporaryDirectory("nm-offload")
        let text = try String(contentsOfFile: ExampleCases.folder + "offload.yaml", encoding: .utf8)
        _ = try ExampleCases.plannedFiles(try ExampleCases.profile(text, stack: .networkManager), into: folder)
        let result = try networkManagerShow(
            folder, profiles: ["imprint-0"], fields: "connection.interface-name,ipv4.method,ethtool.feature-rx,ethtool.feature-tx,ethtool.feature-gro,ethtool.feature-lro,ethtool.feature-tx-tcp6-segmentation")
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "connection.interface-name:ens1\nipv4.method:disabled\nethtool.feature-rx:off\nethtool.feature-tx:on\n"
            + "ethtool.feature-gro:on\nethtool.feature-lro:on\nethtool.feature-tx-tcp6-segmentation:on\n", "\(result.output)")
    }

    /// A route whose gateway is outside the card's subnets is refused unless it says on-link; a rule without a table
    /// is refused; what a stack cannot carry is refused naming the stack, e.g. a rule without priority for
    /// NetworkManager.
    @Test func refusals() throws {
        #expect {
            try NetplanV2.interfaces("network: {ethernets: {eth0: {addresses: [10.0.0.2/24], routes: [{to: 0.0.0.0/0, via: 9.9.9.9, metric: 5}]}}}")
        } throws: { "\($0)".contains("outside the subnet") && "\($0)".contains("on-link") }
        #expect {
            try NetplanV2.interfaces("network: {ethernets: {eth0: {dhcp4: true, routing-policy: [{from: 10.0.0.0/24}]}}}")
        } throws: { "\($0)".contains("needs a 'table' number") }
        #expect {
            try NetplanV2.interfaces("network: {ethernets: {eth0: {dhcp4: true, routes: [{to: 10.1.0.0/16, via: 10.0.0.1, mtu: 1400}]}}}")
        } throws: { "\($0)".contains("'mtu'") }
        let text = try String(contentsOfFile: ExampleCases.folder + "source_routing.yaml", encoding: .utf8)
        let refusal = try ExampleCases.refusal(text, stack: .networkManager)
        #expect(refusal.contains("for the networkmanager stack") && refusal.contains("needs a 'priority'"), "\(refusal)")
        #expect(refusal.contains("force netplan or networkd"), "\(refusal)")
    }
}

import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintTestSupport
import Testing

/// A corpus beyond netplan's examples: documents made from random valid combinations of the keys Imprint reads
/// (cards by MAC or name, DHCP or static IPv4, IPv6, DHCPv6, name servers, MTU, routes with metrics, `optional`,
/// `dhcp4-overrides`, `dhcp-identifier`, Wi-Fi with a passphrase or open, a bridge or a bond, a VLAN on it), from
/// fixed seeds so that a failure names the document that caused it.
struct CorpusDocument: CustomStringConvertible, Sendable {
    var seed: UInt64
    var text: String

    var description: String { "seed \(seed)" }

    /// SplitMix64: small, and the same numbers on every machine.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }
        mutating func pick(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    }

    init(seed: UInt64) {
        self.seed = seed
        var random = Generator(state: seed)
        var lines = ["network:", "  version: 2", "  ethernets:"]
        let cards = random.pick(1...3)
        let bridged = cards > 1 && random.chance(25)
        let bonded = cards > 1 && !bridged && random.chance(35)
        // A VLAN on the bridge or the bond, named as ifupdown's vlan package reads it.
        let tagged = (bridged || bonded) && random.chance(50)
        // One default route per family in the whole document (netplan warns about two without metrics).
        var hasDefault4 = false
        var hasDefault6 = false
        for card in 0..<cards {
            if (bridged || bonded) && card == cards - 1 {
                // The bridge's or bond's member, by name: no settings of its own.
                lines.append("    enp\(card + 1)s0: {}")
                continue
            }
            let byName = random.chance(40)
            lines.append(byName ? "    enp\(card + 1)s0:" : "    lan\(card):")
            if !byName { lines.append("      match: {macaddress: \"3c:52:82:20:0\(card):\(String(format: "%02x", random.pick(1...250)))\"}") }
            var addresses: [String] = []
            let subnet = 20 + card
            if random.chance(50) {
                lines.append("      dhcp4: true")
                if random.chance(30) { lines.append("      dhcp4-overrides: {route-metric: \(random.pick(50...500))}") }
                if random.chance(20) { lines.append("      dhcp-identifier: mac") }
            } else {
                addresses.append("10.\(subnet).4.\(random.pick(2...250))/24")
                if random.chance(30) { addresses.append("10.\(subnet).5.\(random.pick(2...250))/24") }
            }
            let ipv6 = random.chance(40)
            if ipv6 { addresses.append("\"2001:db8:\(subnet)::\(random.pick(2...4000))/64\"") }
            if random.chance(30) { lines.append("      dhcp6: true") }
            if !addresses.isEmpty { lines.append("      addresses: [\(addresses.joined(separator: ", "))]") }
            var routes: [String] = []
            if addresses.contains(where: { $0.hasPrefix("10.") }) {
                if !hasDefault4 && random.chance(70) {
                    routes.append("{to: default, via: 10.\(subnet).4.1}")
                    hasDefault4 = true
                }
                if random.chance(40) { routes.append("{to: 192.168.\(random.pick(0...250)).0/24, via: 10.\(subnet).4.254, metric: \(random.pick(1...900))}") }
            }
            if ipv6 && !hasDefault6 && random.chance(50) {
                routes.append("{to: \"::/0\", via: \"2001:db8:\(subnet)::1\"}")
                hasDefault6 = true
            }
            if !routes.isEmpty { lines.append("      routes: [\(routes.joined(separator: ", "))]") }
            if random.chance(40) {
                lines.append("      nameservers: {addresses: [10.\(subnet).0.53\(ipv6 ? ", \"2001:db8::53\"" : "")], search: [room\(card).school.example.org]}")
            }
            if random.chance(30) { lines.append("      mtu: \([1500, 1280, 9000][random.pick(0...2)])") }
            if random.chance(20) { lines.append("      optional: true") }
        }
        if bridged {
            lines += ["  bridges:", "    br0:", "      interfaces: [enp\(cards)s0]", "      dhcp4: true"]
            if random.chance(50) { lines.append("      parameters: {stp: \(random.chance(50))}") }
        }
        if bonded {
            let mode = ["active-backup", "balance-rr", "802.3ad"][random.pick(0...2)]
            lines += ["  bonds:", "    bond0:", "      interfaces: [enp\(cards)s0]", "      dhcp4: true",
                      "      parameters: {mode: \(mode), mii-monitor-interval: \(random.pick(1...10) * 50)}"]
        }
        if tagged {
            let id = random.pick(2...4000)
            lines += ["  vlans:", "    vlan\(id):", "      id: \(id)", "      link: \(bridged ? "br0" : "bond0")",
                      "      addresses: [10.99.\(random.pick(0...250)).\(random.pick(2...250))/24]"]
        }
        if random.chance(30) {
            lines += ["  wifis:", "    wlan0:", "      match: {macaddress: \"3c:52:82:20:14:\(String(format: "%02x", random.pick(1...250)))\"}",
                      "      dhcp4: true", "      access-points:"]
            lines.append(random.chance(60) ? "        \"Room \(random.pick(1...40))\": {password: \"passphrase-\(random.pick(1000...9999))\"}"
                                           : "        \"Library open\": {}")
        }
        text = lines.joined(separator: "\n") + "\n"
    }

    static let all = (1...24).map { CorpusDocument(seed: UInt64($0) &* 7919) }
}

@Suite struct NetplanCorpusTests {
    /// Every generated document reads, and for every stack it is either planned and accepted by that stack's real
    /// tool (`netplan generate` for the document as given and for Imprint's own netplan template, the NetworkManager
    /// daemon, systemd-networkd, `ifquery` and `ifup -n`, bash for ifcfg), or refused at plan time naming the
    /// setting and the stack.
    @Test(arguments: CorpusDocument.all)
    func generatedDocumentRendersOrIsRefused(_ document: CorpusDocument) throws {
        let interfaces = try NetplanV2.interfaces(document.text)
        #expect(!interfaces.isEmpty)
        for stack in NetworkStack.allCases {
            let folder = try TemporaryDirectory("corpus")
            let files: [RenderedFile]
            do {
                files = try ExampleCases.plannedFiles(try ExampleCases.profile(document.text, stack: stack), into: folder)
            } catch {
                let message = "\(error)"
                #expect(message.contains("for the \(stack.rawValue) stack") || message.contains("cannot join a Wi-Fi network"),
                        "\(stack.rawValue): \(message)\n\(document.text)")
                continue
            }
            #expect(!files.isEmpty)
            let complaints = try ExampleCases.complaints(stack, files: files, folder: folder)
            #expect(complaints == [], "\(stack.rawValue): \(complaints)\n\(document.text)")
        }
        // Imprint's own netplan template (a record without a pasted document), unless the document has a bridge.
        if !interfaces.contains(where: { $0.virtual != nil }) {
            let folder = try TemporaryDirectory("corpus-template")
            let profile = try NetworkCases.profile(interfaces, stack: .netplan)
            do {
                let files = try ExampleCases.plannedFiles(profile, into: folder)
                let complaints = try ExampleCases.complaints(.netplan, files: files, folder: folder)
                #expect(complaints == [], "template: \(complaints)\n\(document.text)")
            } catch {
                #expect("\(error)".contains("for the netplan stack"), "template: \(error)\n\(document.text)")
            }
        }
    }

    /// What the corpus found: netplan's networkd backend refuses a Wi-Fi card found by `match:` and a DHCPv6 card
    /// with `dhcp4-overrides: {route-metric}`, so a document written as given would fail `netplan generate` on the
    /// unit. The plan refuses it naming the card and the way out; on an image whose own netplan file hands every card
    /// to NetworkManager (a desktop's `01-network-manager-all.yaml`) the same document is written, and netplan
    /// generates both files.
    @Test(arguments: [
        ("  wifis:\n    wlan0:\n      match: {macaddress: \"3c:52:82:20:14:07\"}\n      dhcp4: true\n      access-points: {Lab: {password: \"passphrase-1\"}}\n",
         "network match of wifis wlan0"),
        ("  ethernets:\n    lan0:\n      match: {macaddress: \"3c:52:82:20:04:07\"}\n      dhcp4: true\n      dhcp6: true\n      dhcp4-overrides: {route-metric: 200}\n",
         "network dhcp4-overrides of ethernets lan0"),
    ])
    func netplanBackendLimits(_ body: String, _ named: String) throws {
        let text = "network:\n  version: 2\n" + body
        let folder = try TemporaryDirectory("corpus-backend")
        #expect {
            try ExampleCases.plannedFiles(try ExampleCases.profile(text, stack: .netplan), into: folder)
        } throws: { error in
            "\(error)".contains(named) && "\(error)".contains("for the netplan stack") && "\(error)".contains("renderer: NetworkManager")
        }
        let desktop = try TemporaryDirectory("corpus-desktop")
        let all = try desktop.write("etc/netplan/01-network-manager-all.yaml", "network:\n  version: 2\n  renderer: NetworkManager\n")
        chmod(all, 0o600)
        let files = try ExampleCases.plannedFiles(try ExampleCases.profile(text, stack: .netplan), into: desktop)
        #expect(files.map(\.path) == ["/etc/netplan/90-imprint.yaml"])
        #expect(try ExampleCases.complaints(.netplan, files: files, folder: desktop) == [])
    }

    /// The corpus is not a handful of one shape: it holds each feature the generator can make, and each stack
    /// renders some of it.
    @Test func corpusCoversTheKeys() throws {
        let texts = CorpusDocument.all.map(\.text)
        for key in ["dhcp4: true", "addresses:", "dhcp6: true", "metric:", "nameservers:", "mtu:", "optional: true",
                    "dhcp4-overrides", "dhcp-identifier", "bridges:", "bonds:", "vlans:", "access-points:", "password:", "enp1s0:",
                    "macaddress:"] {
            #expect(texts.contains { $0.contains(key) }, "no generated document has \(key)")
        }
        for stack in NetworkStack.allCases {
            let rendered = try CorpusDocument.all.filter { document in
                let folder = try TemporaryDirectory("corpus-count")
                return (try? ExampleCases.plannedFiles(try ExampleCases.profile(document.text, stack: stack), into: folder)) != nil
            }
            #expect(rendered.count >= 4, "\(stack.rawValue) renders only \(rendered.count) documents")
        }
    }
}

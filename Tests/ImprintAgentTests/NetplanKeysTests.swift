import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintInventory
import ImprintTestSupport
import Testing

/// What a rendered network means for the keys a netplan document may hold, read from what the stack's own tool
/// makes of it where it has one: DHCP for IPv4, DHCPv6, MTU, and the addresses, gateways, DNS servers and search
/// domains `NetworkMeaning` reads.
struct KeyMeaning: Equatable, CustomStringConvertible {
    var dhcp4 = false
    /// DHCPv6 on: networkd `DHCP=yes|ipv6`, ifupdown's `dhclient -6`, ifcfg `DHCPV6C=yes`. NetworkManager has no
    /// switch of its own: `ipv6.method=auto` runs DHCPv6 as the router's advertisements say, and is what netplan and
    /// cloud-init write for `dhcp6: true`; so for it this reads "method auto or dhcp".
    var dhcp6 = false
    var mtu: String?
    var rest = NetworkMeaning("")

    var description: String { "dhcp4 \(dhcp4) dhcp6 \(dhcp6) mtu \(mtu ?? "-") \(rest)" }

    /// From systemd-networkd `.network` files.
    init(networkd texts: [String]) {
        for line in texts.joined(separator: "\n").split(separator: "\n") {
            if line.hasPrefix("DHCP=") {
                let value = line.dropFirst("DHCP=".count)
                dhcp4 = ["yes", "true", "both", "ipv4"].contains(value)
                dhcp6 = ["yes", "true", "both", "ipv6"].contains(value)
            } else if line.hasPrefix("MTUBytes=") {
                mtu = String(line.dropFirst("MTUBytes=".count))
            }
        }
        rest = NetworkMeaning(texts.joined(separator: "\n"))
    }

    /// From a keyfile as `nmcli --offline` writes it back (NetworkManager's defaults filled in).
    init(networkManager text: String) {
        var section = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("[") { section = String(line); continue }
            switch (section, line) {
            case ("[ipv4]", "method=auto"): dhcp4 = true
            case ("[ipv6]", "method=auto"), ("[ipv6]", "method=dhcp"): dhcp6 = true
            case (_, let line) where line.hasPrefix("mtu=") && section != "[ipv4]" && section != "[ipv6]":
                mtu = String(line.dropFirst("mtu=".count))
            default: break
            }
        }
        rest = NetworkMeaning(text)
    }

    /// From the commands `ifup -n` would run (its standard error) and the stanzas.
    init(ifupCommands commands: String, stanzas: String) {
        for line in commands.split(separator: "\n") {
            if line.contains("dhclient -6") { dhcp6 = true } else if line.contains("dhclient") { dhcp4 = true }
            if let match = line.firstMatch(of: #/ip link set dev \S+ mtu (\d+)/#) { mtu = String(match.1) }
        }
        rest = NetworkMeaning(stanzas)
    }

    /// From ifcfg files, their values read by bash as the network scripts read them.
    init(ifcfg paths: [String]) throws {
        let script = paths.map { ". '\($0)'; " }.joined() + #"printf '%s\n' "${BOOTPROTO-}" "${DHCPV6C-}" "${MTU-}""#
        let result = try runProcess("/bin/bash", ["-c", "set -eu; " + script])
        guard result.status == 0 else { throw TestSupportError("bash cannot read \(paths): \(result.error)") }
        let values = result.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        dhcp4 = values[0] == "dhcp"
        dhcp6 = values[1] == "yes"
        mtu = values[2].isEmpty ? nil : values[2]
        rest = NetworkMeaning(ifcfg: try paths.map { try String(contentsOfFile: $0, encoding: .utf8) }.joined(separator: "\n"))
    }
}

/// One netplan document and what it means.
struct KeyCase: CustomStringConvertible, Sendable {
    var name: String
    var keys: String
    var dhcp4: Bool
    var dhcp6: Bool
    var mtu: String?
    var addresses: Set<String> = []
    var gateways: Set<String> = []
    var dns: Set<String> = []
    var search: Set<String> = []

    var description: String { name }

    /// The document, its one card `lan` matched by MAC (routes say `0.0.0.0/0` and `::/0`: this cloud-init refuses
    /// `to: default`).
    var document: String {
        "network:\n  version: 2\n  ethernets:\n    lan:\n      match: {macaddress: \"3c:52:82:20:04:07\"}\n"
            + keys.split(separator: "\n").map { "      " + $0 + "\n" }.joined()
    }

    /// What `stack` must say the document means.
    func expected(_ stack: NetworkStack) -> KeyMeaning {
        var meaning = KeyMeaning(networkd: [])
        meaning.dhcp4 = dhcp4
        // NetworkManager runs router advertisements (and DHCPv6 as they say) without a static IPv6 address too.
        meaning.dhcp6 = dhcp6 || (stack == .networkManager && !addresses.contains { $0.contains(":") })
        meaning.mtu = mtu
        meaning.rest.addresses = addresses
        meaning.rest.gateways = gateways
        meaning.rest.dns = dns
        meaning.rest.search = search
        return meaning
    }

    static let all: [KeyCase] = [
        KeyCase(name: "dhcp4", keys: "dhcp4: true", dhcp4: true, dhcp6: false),
        KeyCase(name: "dhcp4 and dhcp6, mtu", keys: "dhcp4: true\ndhcp6: true\nmtu: 1500", dhcp4: true, dhcp6: true, mtu: "1500"),
        KeyCase(
            name: "static IPv4, dhcp6, DNS", keys: """
                dhcp6: true
                addresses: [10.20.4.107/24]
                routes: [{to: 0.0.0.0/0, via: 10.20.4.1}]
                nameservers: {addresses: [10.20.0.53], search: [school.example.org]}
                """,
            dhcp4: false, dhcp6: true, addresses: ["10.20.4.107/24"], gateways: ["10.20.4.1"], dns: ["10.20.0.53"],
            search: ["school.example.org"]),
        KeyCase(
            name: "static IPv4 and IPv6, gateway4 and gateway6, DNS, mtu", keys: """
                addresses: [10.20.4.107/24, "2001:db8:4::107/64"]
                gateway4: 10.20.4.1
                gateway6: "2001:db8:4::1"
                nameservers: {addresses: [10.20.0.53, "2001:db8::53"], search: [school.example.org, example.org]}
                mtu: 9000
                """,
            dhcp4: false, dhcp6: false, mtu: "9000", addresses: ["10.20.4.107/24", "2001:db8:4::107/64"],
            gateways: ["10.20.4.1", "2001:db8:4::1"], dns: ["10.20.0.53", "2001:db8::53"], search: ["school.example.org", "example.org"]),
        KeyCase(
            name: "dhcp6 only, IPv6 DNS and search", keys: """
                dhcp6: true
                nameservers: {addresses: ["2001:db8::53"], search: [school.example.org]}
                """,
            dhcp4: false, dhcp6: true, dns: ["2001:db8::53"], search: ["school.example.org"]),
        KeyCase(
            name: "static IPv4 and IPv6 with dhcp6, routes, mtu", keys: """
                dhcp6: yes
                addresses: [10.20.4.107/24, "2001:db8:4::107/64"]
                routes: [{to: 0.0.0.0/0, via: 10.20.4.1}, {to: "::/0", via: "2001:db8:4::1"}]
                mtu: 1500
                """,
            dhcp4: false, dhcp6: true, mtu: "1500", addresses: ["10.20.4.107/24", "2001:db8:4::107/64"],
            gateways: ["10.20.4.1", "2001:db8:4::1"]),
    ]
}

@Suite struct NetplanKeysTests {
    static let stacks: [NetworkStack] = [.netplan, .networkManager, .networkd, .ifupdown, .ifcfg]

    /// An IPv4 DNS server on a card without IPv4 is refused for NetworkManager at plan time, naming the server and
    /// the way out: its `ipv4.method=disabled` refuses `dns=` (nmcli says so), which would leave the card without a
    /// profile. systemd-networkd writes the same document.
    @Test func ipv4ServerOnACardWithoutIPv4() throws {
        let document = "network: {version: 2, ethernets: {lan: {match: {macaddress: \"3c:52:82:20:04:07\"}, dhcp6: true, "
            + "nameservers: {addresses: [10.20.0.53, \"2001:db8::53\"]}}}}"
        let refusal = try ExampleCases.refusal(document, stack: .networkManager)
        for words in ["network nameservers of 3c:52:82:20:04:07", "10.20.0.53", "cannot be written for the networkmanager stack",
                      "give the card an IPv4 address or dhcp4, or name only IPv6 servers on it"] {
            #expect(refusal.contains(words), "\(refusal)")
        }
        let folder = try TemporaryDirectory("nameservers")
        let files = try ExampleCases.plannedFiles(try ExampleCases.profile(document, stack: .networkd), into: folder)
        #expect(files.contains { $0.text.contains("DNS=10.20.0.53") }, "\(files.map(\.text))")
    }

    /// Every key of a pasted netplan document keeps its meaning on every stack: the stack's real tool accepts
    /// Imprint's file and reads back DHCP, DHCPv6, MTU, addresses, gateways and DNS as the document says, and
    /// `cloud-init devel net-convert` renders the same document to the same meaning.
    @Test(arguments: KeyCase.all, stacks)
    func keyKeepsItsMeaning(_ key: KeyCase, _ stack: NetworkStack) throws {
        let interfaces = try NetplanV2.interfaces(key.document)
        let folder = try TemporaryDirectory("keys")
        let files = try NetworkCases.render(interfaces, stack: stack, into: folder)
        let ours = try meaning(
            stack, root: folder.path, paths: files.map { folder.file(String($0.path.dropFirst())) }, card: "eth9=imprint0", strict: true)
        #expect(ours == key.expected(stack), "Imprint's \(stack.rawValue) file:\n\(files.map(\.text).joined())")
        if stack == .networkd { #expect(try networkdComplaints(folder, files: files).isEmpty) }

        let input = try folder.write("input.yaml", key.document)
        let output = folder.file("cloud-init")
        let kind = [NetworkStack.netplan: "netplan", .networkManager: "network-manager", .networkd: "networkd", .ifupdown: "eni",
                    .ifcfg: "sysconfig"][stack]!
        let converted = try runProcess("/usr/bin/cloud-init", [
            "devel", "net-convert", "-p", input, "-k", "yaml", "-d", output,
            "-D", stack == .ifcfg ? "rhel" : stack == .netplan ? "ubuntu" : "debian", "-O", kind, "-m", "eth0,3c:52:82:20:04:07",
        ])
        try #require(converted.status == 0, "\(converted.error)")
        let theirPaths = try FileManager.default.subpathsOfDirectory(atPath: output).map { output + "/" + $0 }
            .filter { path in
                switch stack {
                case .netplan: return path.hasSuffix(".yaml")
                case .networkManager: return path.hasSuffix(".nmconnection")
                case .networkd: return path.hasSuffix(".network")
                case .ifupdown: return path.contains("/interfaces.d/")
                case .ifcfg: return path.contains("/ifcfg-") || path.contains("/route")
                }
            }
        var theirs = try meaning(stack, root: output, paths: theirPaths, card: "lan", strict: false)
        // Where cloud-init loses a key, the test says so (and notices when it no longer does).
        if stack == .ifupdown, key.dhcp4 || key.dhcp6, let mtu = key.mtu {
            // It puts `mtu` in the first stanza, `inet dhcp` or `inet6 dhcp`, where ifupdown has no such option.
            #expect(theirs.mtu == nil, "cloud-init's ENI now keeps the MTU: compare it")
            theirs.mtu = mtu
        }
        if stack == .networkManager, key.dhcp6, let gateway = key.gateways.first(where: { !$0.contains(":") }) {
            // With DHCPv6 it writes the IPv4 default route into [ipv6], where NetworkManager drops it.
            #expect(!theirs.rest.gateways.contains(gateway), "cloud-init's keyfile now keeps the IPv4 gateway: compare it")
            theirs.rest.gateways.insert(gateway)
        }
        let ipv6Only = !key.dhcp4 && !key.addresses.contains { !$0.contains(":") }
        if stack == .networkManager, ipv6Only, !key.dns.isEmpty {
            // Its keyfile for a card without IPv4 has no [ipv4], so NetworkManager's default runs the DHCPv4 the
            // document does not ask for, and it leaves out the card's DNS servers and search domains: Imprint's
            // keyfile (ipv4.method=disabled, both in [ipv6]) is the right one.
            #expect(theirs.dhcp4 && theirs.rest.dns.isEmpty, "cloud-init's keyfile now keeps IPv4 off or the DNS: compare it")
            theirs.dhcp4 = false
            (theirs.rest.dns, theirs.rest.search) = (key.dns, key.search)
        }
        if stack == .ifcfg, ipv6Only, !key.dns.isEmpty {
            // It writes a card's servers and search domains to the system's /etc/resolv.conf instead of the card's
            // file (DNS1=, DOMAIN=): the same meaning while the card is the only one.
            let resolver = try String(contentsOfFile: output + "/etc/resolv.conf", encoding: .utf8)
            #expect(theirs.rest.dns.isEmpty, "cloud-init's ifcfg file now holds the DNS: compare it")
            #expect(key.dns.allSatisfy { resolver.contains("nameserver \($0)") } && key.search.allSatisfy { resolver.contains($0) }, "\(resolver)")
            (theirs.rest.dns, theirs.rest.search) = (key.dns, key.search)
        }
        let theirTexts = try theirPaths.map { try String(contentsOfFile: $0, encoding: .utf8) }.joined()
        #expect(theirs == ours, "cloud-init's \(kind) output:\n\(theirTexts)")
    }

    /// The meaning of the `stack` files at `paths` under `root`, read through the stack's tool: `netplan generate
    /// --root-dir` (exit 0, empty stderr) and its networkd files, `nmcli --offline`, `ifup -n` for `card`, bash for
    /// ifcfg; networkd's own files as written (the daemon's check is separate). `strict`: netplan may not warn (it
    /// warns about cloud-init's `gateway4`).
    func meaning(_ stack: NetworkStack, root: String, paths: [String], card: String, strict: Bool) throws -> KeyMeaning {
        let texts = try paths.map { try String(contentsOfFile: $0, encoding: .utf8) }
        switch stack {
        case .netplan:
            // netplan warns about a file others can read, as cloud-init's is.
            for path in paths { chmod(path, 0o600) }
            let generated = try runProcess("/usr/sbin/netplan", ["generate", "--root-dir", root])
            guard generated.status == 0, generated.error.isEmpty || !strict else { throw TestSupportError("netplan generate: \(generated.error)") }
            let folder = root + "/run/systemd/network"
            return KeyMeaning(networkd: try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".network") }
                .map { try String(contentsOfFile: folder + "/" + $0, encoding: .utf8) })
        case .networkManager:
            guard texts.count == 1 else { throw TestSupportError("one keyfile expected: \(paths)") }
            let read = try runProcess("/usr/bin/nmcli", ["--offline", "connection", "modify", "connection.id", "checked"], input: texts[0])
            guard read.status == 0 else { throw TestSupportError("nmcli --offline: \(read.error)") }
            return KeyMeaning(networkManager: read.output)
        case .networkd:
            return KeyMeaning(networkd: texts)
        case .ifupdown:
            guard paths.count == 1 else { throw TestSupportError("one interfaces file expected: \(paths)") }
            let list = try runProcess("/usr/sbin/ifquery", ["-i", paths[0], "--list", "--allow", "hotplug"])
            guard list.status == 0, list.error.isEmpty else { throw TestSupportError("ifquery --list: \(list.error)") }
            let state = try TemporaryDirectory("ifstate")
            let up = try runProcess("/usr/sbin/ifup", ["-n", "-i", paths[0], "--state-dir", state.path, card])
            // With -n, stderr lists the commands ifup would run; its own complaints start with "ifup:".
            guard up.status == 0, !up.error.contains("ifup:") else { throw TestSupportError("ifup -n: \(up.error)") }
            return KeyMeaning(ifupCommands: up.error, stanzas: texts[0])
        case .ifcfg:
            let (ifcfg, routes) = (paths.filter { $0.contains("/ifcfg-") }, paths.filter { !$0.contains("/ifcfg-") })
            var meaning = try KeyMeaning(ifcfg: ifcfg)
            // cloud-init writes the default routes to route-NAME (`ADDRESS0=0.0.0.0`, `GATEWAY0=...`) and route6-NAME
            // (`::/0 via GATEWAY dev NAME`).
            let routeText = try routes.map { try String(contentsOfFile: $0, encoding: .utf8) }.joined(separator: "\n")
            meaning.rest.gateways.formUnion(NetworkMeaning(ifcfg: routeText).gateways)
            for line in routeText.split(separator: "\n") {
                if let match = line.firstMatch(of: #/^GATEWAY[0-9]+=(.+)$/#) { meaning.rest.gateways.insert(String(match.1)) }
            }
            return meaning
        }
    }
}

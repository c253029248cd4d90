import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintTestSupport
import Testing

/// Imprint against cloud-init on what the examples' devices and routes mean, judged by NetworkManager itself: both
/// tools' keyfiles for the same netplan example are loaded by one real NetworkManager daemon, and what it reads
/// (type, members, bond options, VLAN id and parent, addresses, gateways, routes with metrics, DHCP route metric)
/// is compared card by card.
@Suite struct CloudInitDevicesTests {
    /// The fields compared, as `nmcli -t -f` names them.
    static let fields = [
        "connection.uuid", "connection.interface-name", "connection.type", "connection.master", "connection.slave-type",
        "bond.options", "vlan.id", "vlan.parent", "ipv4.method", "ipv4.addresses", "ipv4.gateway", "ipv4.routes",
        "ipv4.route-metric", "ipv6.addresses", "ipv6.gateway", "ipv6.routes",
    ]

    /// Where cloud-init loses what the document says, by example and field: the test checks that it still does
    /// (so a newer cloud-init that keeps it is noticed), and that Imprint keeps it.
    static let cloudInitLoses: [String: [String: String]] = [
        // dhcp4-overrides: {route-metric}: cloud-init's keyfile has no route-metric; NetworkManager uses its default.
        "route_metric.yaml": ["ipv4.route-metric": "-1"],
        // Two default routes told apart by their metrics lose the metrics: NetworkManager gets two equal routes.
        "static_singlenic_multiip_multigateway.yaml": ["ipv4.routes": "0.0.0.0/0 10.0.0.1, 0.0.0.0/0 11.0.0.1"],
        // A gateway outside the card's subnet loses on-link, so the route cannot be added.
        "direct_connect_gateway.yaml": ["ipv4.routes": "0.0.0.0/0 9.9.9.9"],
    ]

    /// (bonding_router.yaml is left out: this cloud-init refuses its `to: default` routes.)
    @Test(arguments: ["bonding.yaml", "bridge.yaml", "bridge_vlan.yaml", "route_metric.yaml",
                      "static_singlenic_multiip_multigateway.yaml", "direct_connect_gateway.yaml"])
    func sameMeaningAsCloudInit(_ file: String) throws {
        let text = try String(contentsOfFile: ExampleCases.folder + file, encoding: .utf8)
        let folder = try TemporaryDirectory("cloud-init-devices")
        let ours = try ExampleCases.plannedFiles(try ExampleCases.profile(text, stack: .networkManager), into: folder)
            .filter { $0.path.hasSuffix(".nmconnection") }
        let output = folder.file("cloud-init")
        let converted = try runProcess("/usr/bin/cloud-init", [
            "devel", "net-convert", "-p", ExampleCases.folder + file, "-k", "yaml", "-d", output, "-D", "debian", "-O", "network-manager",
        ])
        try #require(converted.status == 0, "\(converted.error)")
        let theirFolder = output + "/etc/NetworkManager/system-connections"
        let theirFiles = try FileManager.default.contentsOfDirectory(atPath: theirFolder).filter { $0.hasSuffix(".nmconnection") }
        for name in theirFiles {
            let path = try folder.write("etc/NetworkManager/system-connections/" + name, try String(contentsOfFile: theirFolder + "/" + name, encoding: .utf8))
            chmod(path, 0o600)
        }
        let ourIDs = ours.map { (($0.path as NSString).lastPathComponent as NSString).deletingPathExtension }
        let theirIDs = try theirFiles.map { name in
            let text = try String(contentsOfFile: theirFolder + "/" + name, encoding: .utf8)
            return String(try #require(text.firstMatch(of: #/\nid=(.+)\n/#)?.1))
        }
        let shown = try networkManagerShow(folder, profiles: ourIDs + theirIDs, fields: Self.fields.joined(separator: ","))
        try #require(shown.status == 0, "\(shown.error)")
        let profiles = Self.profiles(shown.output, count: ourIDs.count + theirIDs.count)
        try #require(profiles.count == ourIDs.count + theirIDs.count, "\(shown.output)")
        var mine = Self.byCard(Array(profiles.prefix(ourIDs.count)), all: profiles)
        var theirs = Self.byCard(Array(profiles.dropFirst(ourIDs.count)), all: profiles)
        #expect(Set(mine.keys) == Set(theirs.keys), "cards: Imprint \(mine.keys.sorted()), cloud-init \(theirs.keys.sorted())")
        for (field, value) in Self.cloudInitLoses[file] ?? [:] {
            for card in theirs.keys.sorted() where mine[card]?[field] != value {
                #expect(theirs[card]?[field] == value, "cloud-init now keeps \(field) of \(card): compare it")
                theirs[card]?[field] = mine[card]?[field]
            }
        }
        for card in mine.keys.sorted() {
            mine[card]?["connection.uuid"] = nil
            theirs[card]?["connection.uuid"] = nil
            #expect(mine[card] == theirs[card], "\(file) \(card): Imprint \(mine[card] ?? [:])\ncloud-init \(theirs[card] ?? [:])")
        }
    }

    /// For systemd-networkd cloud-init loses the devices themselves: its files for a bond, a bridge or a VLAN over
    /// a bridge hold no `.netdev` and no `Bond=`, `Bridge=` or `VLAN=`, so networkd never makes the device and the
    /// members come up as plain cards (cloud-init 22.4; the test notices a cloud-init that starts writing them).
    /// Imprint's files make each device the document names, put each member in it, and networkd reads them without
    /// a complaint.
    @Test(arguments: [
        ("bonding.yaml", ["bond0": "bond"], ["enp3s0": "Bond=bond0", "enp4s0": "Bond=bond0"]),
        ("bridge.yaml", ["br0": "bridge"], ["enp3s0": "Bridge=br0"]),
        ("bridge_vlan.yaml", ["br0": "bridge", "vlan15": "vlan"], ["enp0s25": "VLAN=vlan15", "vlan15": "Bridge=br0"]),
    ])
    func networkdKeepsTheDevicesCloudInitLoses(_ file: String, _ devices: [String: String], _ members: [String: String]) throws {
        let folder = try TemporaryDirectory("cloud-init-networkd")
        let output = folder.file("cloud-init")
        let converted = try runProcess("/usr/bin/cloud-init", [
            "devel", "net-convert", "-p", ExampleCases.folder + file, "-k", "yaml", "-d", output, "-D", "debian", "-O", "networkd",
        ])
        try #require(converted.status == 0, "\(converted.error)")
        let theirFolder = output + "/etc/systemd/network"
        let theirNames = try FileManager.default.contentsOfDirectory(atPath: theirFolder)
        let theirs = try theirNames.map { try String(contentsOfFile: theirFolder + "/" + $0, encoding: .utf8) }.joined(separator: "\n")
        #expect(!theirNames.contains { $0.hasSuffix(".netdev") }, "cloud-init now writes .netdev files for \(file): compare them")
        for key in ["Bond=", "Bridge=", "VLAN="] { #expect(!theirs.contains(key), "cloud-init now writes \(key) for \(file)") }

        let text = try String(contentsOfFile: ExampleCases.folder + file, encoding: .utf8)
        let ours = try ExampleCases.plannedFiles(try ExampleCases.profile(text, stack: .networkd), into: folder)
        let netdevs = ours.filter { $0.path.hasSuffix(".netdev") }.map(\.text)
        for (name, kind) in devices {
            #expect(netdevs.contains { $0.contains("Name=\(name)\n") && $0.contains("Kind=\(kind)\n") }, "\(file): no .netdev makes \(name)")
        }
        let networks = ours.filter { $0.path.hasSuffix(".network") }.map(\.text)
        for (card, key) in members {
            #expect(networks.contains { $0.contains("Name=\(card)\n") && $0.contains(key + "\n") }, "\(file): \(card) lacks \(key)")
        }
        #expect(try networkdComplaints(folder, files: ours) == [])
    }

    /// ifupdown and ifcfg files mean what cloud-init's mean for the same document (`net-convert -O eni` and `-O
    /// sysconfig`), as `ifquery` and bash read both: each bond's mode and members, each bridge's ports, each VLAN's
    /// id and parent, and each device's DHCP or address. Where they differ, Imprint is right: cloud-init's
    /// bridge_vlan.yaml has no `auto vlan15` and puts it after br0, so nothing makes the VLAN at boot (bridge-utils
    /// makes only `PARENT.ID` ports) and the bridge comes up without its port; Imprint brings vlan15 up first.
    @Test(arguments: ["bonding.yaml", "bridge.yaml", "bridge_vlan.yaml"])
    func ifupdownAndIfcfgMeanWhatCloudInitMeans(_ file: String) throws {
        let text = try String(contentsOfFile: ExampleCases.folder + file, encoding: .utf8)
        let folder = try TemporaryDirectory("cloud-init-ifupdown")
        for (stack, renderer, distro) in [(NetworkStack.ifupdown, "eni", "debian"), (.ifcfg, "sysconfig", "centos")] {
            let output = folder.file("cloud-init-\(renderer)")
            let converted = try runProcess("/usr/bin/cloud-init", [
                "devel", "net-convert", "-p", ExampleCases.folder + file, "-k", "yaml", "-d", output, "-D", distro, "-O", renderer,
            ])
            try #require(converted.status == 0, "\(converted.error)")
            let ours = try TemporaryDirectory("imprint-\(renderer)")
            let files = try ExampleCases.plannedFiles(try ExampleCases.profile(text, stack: stack), into: ours)
            if stack == .ifupdown {
                let theirs = output + "/etc/network/interfaces.d/50-cloud-init"
                #expect(try DeviceMeaning(ifupdown: ours.file("etc/network/interfaces.d/imprint")) == DeviceMeaning(ifupdown: theirs), "\(file)")
                if file == "bridge_vlan.yaml" {
                    #expect(try NetworkDevicesTests.autoList(theirs) == ["enp0s25", "br0"], "cloud-init now brings vlan15 up: compare the order")
                    #expect(try NetworkDevicesTests.autoList(ours.file("etc/network/interfaces.d/imprint")) == ["enp0s25", "vlan15", "br0"])
                }
            } else {
                let scripts = output + "/etc/sysconfig/network-scripts"
                let theirs = try FileManager.default.contentsOfDirectory(atPath: scripts).filter { $0.hasPrefix("ifcfg-") }.map { scripts + "/" + $0 }
                let mine = files.filter { $0.path.contains("/ifcfg-") }.map { ours.file(String($0.path.dropFirst())) }
                #expect(try DeviceMeaning(ifcfg: mine) == DeviceMeaning(ifcfg: theirs), "\(file)")
            }
        }
    }

    /// The `nmcli -t` output of `count` profiles, one field per line, as dictionaries in order.
    static func profiles(_ output: String, count: Int) -> [[String: String]] {
        var result: [[String: String]] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let field = String(line[..<colon])
            if field == fields[0] { result.append([:]) }
            result[result.count - 1][field] = String(line[line.index(after: colon)...])
        }
        return result
    }

    /// Profiles by the card (interface name) they configure, with a controller or parent named by its interface
    /// name whether the profile gives a name or a UUID.
    static func byCard(_ profiles: [[String: String]], all: [[String: String]]) -> [String: [String: String]] {
        let names = Dictionary(all.compactMap { profile in profile["connection.uuid"].map { ($0, profile["connection.interface-name"] ?? "") } }) { first, _ in first }
        var result: [String: [String: String]] = [:]
        for var profile in profiles {
            for field in ["connection.master", "vlan.parent"] {
                if let value = profile[field], let name = names[value] { profile[field] = name }
            }
            result[profile["connection.interface-name"] ?? ""] = profile
        }
        return result
    }
}

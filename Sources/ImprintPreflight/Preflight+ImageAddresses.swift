import Foundation
import ImprintCore

extension Preflight {
    /// Where the network stacks read their configuration, in the image: folders (every file in them) and files.
    static let networkConfigFolders = [
        "/etc/netplan", "/etc/NetworkManager/system-connections", "/etc/systemd/network", "/etc/network/interfaces.d",
        "/etc/sysconfig/network-scripts",
    ]
    static let networkConfigFiles = ["/etc/network/interfaces"]

    /// A unit's static address that the image configures too, in a network file the unit keeps (one the agent
    /// neither moves aside nor writes: the master's own static configuration bound by a card's name, or a file
    /// copied from another unit). Every unit of the image would claim that address beside its own.
    static func imageAddressFindings(_ plan: Plan, profile: UnitProfile, request: PreflightRequest) -> [PreflightFinding] {
        let name = profile.hostname.value
        let own = Set(profile.interfaces.flatMap(\.addresses).map(\.address.value))
        var findings: [PreflightFinding] = []
        for (path, addresses) in keptImageAddresses(plan, root: request.root) {
            for address in addresses {
                let others = Set(request.addressOwners[address] ?? []).subtracting([name]).sorted()
                let whose = own.contains(address) ? "the unit's own address" : others.isEmpty ? nil : "the address of \(others.joined(separator: ", "))"
                guard let whose else { continue }
                findings.append(PreflightFinding(
                    "address",
                    "the image's \(path) configures \(address), \(whose), and the unit keeps that file: every unit of the image would claim it",
                    fix: "remove the static address from \(path) on the master (or bind that file to the master's MAC, so the agent moves it "
                        + "aside) and capture it again"))
            }
        }
        return findings
    }

    /// The host addresses configured in the image's network files that `plan` leaves as they are, by file.
    static func keptImageAddresses(_ plan: Plan, root: TargetRoot) -> [(path: String, addresses: [String])] {
        let touched = Set(plan.changes.filter { $0.step == .network }.map(\.path))
        var paths = networkConfigFiles.filter(root.exists)
        for folder in networkConfigFolders {
            paths += ((try? root.listFolder(folder)) ?? []).sorted().map { folder + "/" + $0 }
        }
        return paths.filter { !touched.contains($0) }.compactMap { path in
            guard let data = try? root.readFile(path) else { return nil }
            let addresses = configuredAddresses(String(decoding: data, as: UTF8.self), path: path)
            return addresses.isEmpty ? nil : (path, addresses)
        }
    }

    /// The host addresses a network file configures (not its gateways or DNS servers): netplan's `addresses` of
    /// any device (ethernets, bridges, bonds, vlans...; not `nameservers: addresses`), NetworkManager's
    /// `addressN=`, systemd-networkd's `Address=`, ifupdown's `address`, ifcfg's `IPADDRn=`.
    static func configuredAddresses(_ text: String, path: String) -> [String] {
        if path.hasPrefix("/etc/netplan/") { return path.hasSuffix(".yaml") ? netplanAddresses(text) : [] }
        var addresses: [String] = []
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard let match = trimmed.firstMatch(of: #/^(?:address[0-9]*|Address|IPADDR[0-9]*)\s*[=\s]\s*"?([0-9A-Fa-f:.]+)/#) else { continue }
            if let address = try? IPAddress(String(match.1)) { addresses.append(address.value) }
        }
        return addresses
    }

    /// The `addresses` of a netplan document, read line by line (block style, or a flow list on the key's line):
    /// this module does not parse YAML, and the agent's own reader takes ethernets and wifis only.
    static func netplanAddresses(_ text: String) -> [String] {
        var addresses: [String] = []
        var parents: [(indent: Int, key: String)] = []
        var list: Int?
        for line in text.split(separator: "\n") {
            let body = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let trimmed = body.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            let indent = body.prefix { $0 == " " }.count
            if let level = list, indent > level || (indent == level && trimmed.hasPrefix("- ")), trimmed.hasPrefix("- ") {
                addresses += hostAddresses(String(trimmed.dropFirst(2)))
                continue
            }
            list = nil
            guard let colon = trimmed.firstIndex(of: ":"), !trimmed.hasPrefix("- ") else { continue }
            let key = String(trimmed[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
            while let last = parents.last, last.indent >= indent { parents.removeLast() }
            let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if key == "addresses" && parents.last?.key != "nameservers" {
                if value.isEmpty { list = indent } else {
                    addresses += value.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",").flatMap { hostAddresses(String($0)) }
                }
            }
            parents.append((indent, key))
        }
        return addresses
    }

    /// The address in one netplan `addresses` item (`10.0.0.5/24`, quoted, or a mapping's key), or none.
    private static func hostAddresses(_ item: String) -> [String] {
        let text = item.trimmingCharacters(in: CharacterSet(charactersIn: "\"' {}")).split(separator: "/").first.map(String.init) ?? ""
        return (try? IPAddress(text.trimmingCharacters(in: .whitespaces))).map { [$0.value] } ?? []
    }
}

import Foundation
import ImprintCore

extension NetworkStep {
    /// The master's network state a clone must not keep. Every file found is removed through the plan, so the run
    /// backs it up and `imprint rollback` puts it back; nothing is deleted outright.
    enum Cleanup {
        /// Always removed: they name the master's cards or hold its leases and secrets.
        static let persistentNetRules = "/etc/udev/rules.d/70-persistent-net.rules"
        static let leaseFolders = ["/var/lib/dhcp", "/var/lib/dhclient", "/var/lib/NetworkManager"]
        static let networkManagerSecret = "/var/lib/NetworkManager/secret_key"

        /// Plans the removals. The master's card-bound configuration is only removed when Imprint rendered the
        /// unit's own (so a unit is never left with no network configuration at all); Imprint's own files that
        /// the current plan no longer writes (another stack, a card since removed) always go.
        static func plan(root: TargetRoot, keeping: Set<String>, renderedSomething: Bool) throws(CoreError) -> Result {
            var removals = Removals(root: root, keeping: keeping, renderedSomething: renderedSomething)
            try removals.netplanFiles()
            try removals.networkManagerProfiles()
            try removals.networkdFiles()
            try removals.ifupdownStanzas()
            try removals.ifupdownSourcesImprint()
            try removals.ifcfgFiles()
            var notes: [String] = []
            if !removals.skipped.isEmpty {
                notes.append("network: the master's card configuration is kept (\(removals.skipped.joined(separator: ", "))) "
                    + "because nothing was rendered to replace it")
            }

            try removals.remove(persistentNetRules, "names the master's cards by MAC; the unit's cards would get other names")
            for folder in leaseFolders {
                for name in try root.listFolder(folder) where name.hasSuffix(".lease") || name.hasSuffix(".leases") {
                    try removals.remove(folder + "/" + name, "the master's DHCP lease: a clone must ask for its own")
                }
            }
            try removals.remove(networkManagerSecret, "NetworkManager derives stable addresses from it; each unit makes its own", secret: true)
            return Result(changes: removals.changes, notes: notes)
        }

        /// The removals planned so far, one stack at a time: Imprint's own files the plan no longer writes, and the
        /// master's card-bound files when something was rendered to replace them.
        private struct Removals {
            let root: TargetRoot
            /// Files the current plan writes.
            let keeping: Set<String>
            let renderedSomething: Bool
            var changes: [FileChange] = []
            /// The master's files kept because nothing was rendered to replace them.
            var skipped: [String] = []

            mutating func remove(_ path: String, _ reason: String, secret: Bool = false) throws(CoreError) {
                guard !keeping.contains(path), let before = try root.readFile(path) else { return }
                changes.append(FileChange(step: .network, path: path, reason: reason, action: .remove, before: before, secret: secret))
            }

            mutating func removeMasters(_ path: String, _ reason: String, secret: Bool = false) throws(CoreError) {
                if renderedSomething {
                    try remove(path, reason, secret: secret)
                } else if !keeping.contains(path) {
                    skipped.append(path)
                }
            }

            func text(_ path: String) throws(CoreError) -> String {
                String(decoding: try root.readFile(path) ?? Data(), as: UTF8.self)
            }

            mutating func netplanFiles() throws(CoreError) {
                for name in try Detection.yamlFiles(in: "/etc/netplan", root: root) {
                    let path = "/etc/netplan/" + name
                    if name == "90-imprint.yaml" {
                        try remove(path, "Imprint's netplan file, no longer used (the unit's stack changed)", secret: true)
                    } else if netplanBindsCards(try text(path)) {
                        try removeMasters(path, "the master's netplan configuration of its cards", secret: true)
                    }
                }
            }

            mutating func networkManagerProfiles() throws(CoreError) {
                let connections = "/etc/NetworkManager/system-connections/"
                for name in try root.listFolder(connections) {
                    if name.hasPrefix("imprint-") && name.hasSuffix(".nmconnection") {
                        try remove(connections + name, "Imprint's NetworkManager profile, no longer used", secret: true)
                    } else if keyfileBindsCard(try text(connections + name)) {
                        try removeMasters(connections + name, "the master's NetworkManager profile, bound to its card", secret: true)
                    }
                }
            }

            mutating func networkdFiles() throws(CoreError) {
                let networkd = "/etc/systemd/network/"
                for name in try root.listFolder(networkd) where name.hasSuffix(".network") {
                    if name.hasPrefix("10-imprint-") {
                        try remove(networkd + name, "Imprint's systemd-networkd file, no longer used")
                    } else if networkFileBindsCard(try text(networkd + name)) {
                        try removeMasters(networkd + name, "the master's systemd-networkd file, bound to its card")
                    }
                }
            }

            /// Imprint's old ifupdown file, and the master's card stanzas (loopback and the rest are kept).
            mutating func ifupdownStanzas() throws(CoreError) {
                try remove("/etc/network/interfaces.d/imprint", "Imprint's ifupdown file, no longer used", secret: true)
                var interfacesFiles = ["/etc/network/interfaces"]
                interfacesFiles += try root.listFolder("/etc/network/interfaces.d").filter { $0 != "imprint" }
                    .map { "/etc/network/interfaces.d/" + $0 }
                for path in interfacesFiles {
                    guard let before = try root.readFile(path) else { continue }
                    let edited = InterfacesFile.removingCards(String(decoding: before, as: UTF8.self))
                    guard !edited.removed.isEmpty else { continue }
                    guard renderedSomething else {
                        skipped.append(path)
                        continue
                    }
                    let reason = "the master's ifupdown stanzas for \(edited.removed.joined(separator: ", ")) (loopback and others kept)"
                    if path != "/etc/network/interfaces" && !InterfacesFile.hasStanzas(edited.text) {
                        changes.append(FileChange(step: .network, path: path, reason: reason, action: .remove, before: before, secret: true))
                    } else {
                        changes.append(FileChange(
                            step: .network, path: path, reason: reason,
                            action: .write(contents: Data(edited.text.utf8), metadata: nil), before: before))
                    }
                }
            }

            /// When Imprint writes ifupdown stanzas, /etc/network/interfaces must source the folder they are in.
            mutating func ifupdownSourcesImprint() throws(CoreError) {
                guard keeping.contains("/etc/network/interfaces.d/imprint") else { return }
                let main = try root.readFile("/etc/network/interfaces")
                let text = String(decoding: main ?? Data(), as: UTF8.self)
                let edited = changes.last { $0.path == "/etc/network/interfaces" }?.after.map { String(decoding: $0, as: UTF8.self) } ?? text
                guard !InterfacesFile.sourcesImprint(edited) else { return }
                changes.removeAll { $0.path == "/etc/network/interfaces" }
                let base = main == nil ? "auto lo\niface lo inet loopback\n" : edited
                let added = (base.isEmpty || base.hasSuffix("\n") ? base : base + "\n") + "\nsource /etc/network/interfaces.d/*\n"
                changes.append(FileChange(
                    step: .network, path: "/etc/network/interfaces",
                    reason: "ifup must read /etc/network/interfaces.d, where Imprint's stanzas are",
                    action: .write(contents: Data(added.utf8), metadata: nil), before: main))
            }

            mutating func ifcfgFiles() throws(CoreError) {
                let scripts = "/etc/sysconfig/network-scripts/"
                for name in try root.listFolder(scripts) {
                    if name.hasPrefix("ifcfg-imprint-") || name.hasPrefix("keys-imprint-") {
                        try remove(scripts + name, "Imprint's ifcfg file, no longer used", secret: name.hasPrefix("keys-"))
                    } else if name.hasPrefix("ifcfg-"), name != "ifcfg-lo", ifcfgBindsCard(try text(scripts + name)) {
                        try removeMasters(scripts + name, "the master's ifcfg file, bound to its card")
                        try removeMasters(scripts + "keys-" + name.dropFirst("ifcfg-".count), "the keys of the master's ifcfg file", secret: true)
                    }
                }
            }
        }

        /// Whether an interface name (or pattern) is a card's, such as eth0, enp3s0, eno1, wlp2s0 or en*, rather
        /// than loopback, a VPN, a tunnel or a virtual bridge.
        static func isCardName(_ name: String) -> Bool {
            let lower = name.lowercased()
            if ["en", "eth", "wl", "ww", "em", "ib"].contains(where: { lower.hasPrefix($0) }) { return true }
            // Old biosdevname slot names: p2p1, p3p1.
            return lower.first == "p" && lower.dropFirst().first?.isNumber == true
        }

        static func isUnrelatedName(_ name: String) -> Bool { !isCardName(name) }

        /// A netplan file that configures cards (ethernets, wifis, modems), not only tunnels or the renderer.
        static func netplanBindsCards(_ text: String) -> Bool {
            text.split(separator: "\n").contains { line in
                let key = line.trimmingCharacters(in: .whitespaces)
                return ["ethernets:", "wifis:", "modems:"].contains { key.hasPrefix($0) }
            }
        }

        /// A NetworkManager keyfile for a wired or Wi-Fi connection bound to a MAC or an interface name.
        static func keyfileBindsCard(_ text: String) -> Bool {
            let values = KeyValueFile.parse(text, separator: "=")
            let type = values["connection.type"] ?? ""
            guard ["ethernet", "802-3-ethernet", "wifi", "802-11-wireless"].contains(type) else { return false }
            let name = values["connection.interface-name"] ?? ""
            let mac = values["ethernet.mac-address"] ?? values["802-3-ethernet.mac-address"]
                ?? values["wifi.mac-address"] ?? values["802-11-wireless.mac-address"] ?? ""
            return !mac.isEmpty || !name.isEmpty
        }

        /// A .network file whose [Match] names a card by MAC or by a card's name.
        static func networkFileBindsCard(_ text: String) -> Bool {
            let values = KeyValueFile.parse(text, separator: "=", multi: true)
            if values["Match.MACAddress"].map({ !$0.isEmpty }) == true || values["Match.PermanentMACAddress"].map({ !$0.isEmpty }) == true {
                return true
            }
            let names = (values["Match.Name"] ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
            return names.contains(where: isCardName)
        }

        /// An ifcfg file for a card: it has HWADDR= or MACADDR=, or a card's DEVICE= name.
        static func ifcfgBindsCard(_ text: String) -> Bool {
            let values = KeyValueFile.parse(text, separator: "=")
            func value(_ key: String) -> String {
                (values[key] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
            }
            let type = value("TYPE").lowercased()
            if ["ipsec", "tunnel", "vpn", "wireguard"].contains(type) { return false }
            return !value("HWADDR").isEmpty || !value("MACADDR").isEmpty || isCardName(value("DEVICE"))
        }
    }

    /// `KEY=value` files with optional `[Section]` headers (NetworkManager keyfiles, systemd units, ifcfg), read
    /// only to decide what a file binds to.
    enum KeyValueFile {
        /// Values by `Section.Key` (or `Key` outside sections); with `multi`, repeated keys are joined by spaces.
        static func parse(_ text: String, separator: Character, multi: Bool = false) -> [String: String] {
            var section = ""
            var values: [String: String] = [:]
            for raw in text.split(separator: "\n") {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
                if line.hasPrefix("["), line.hasSuffix("]") {
                    section = String(line.dropFirst().dropLast())
                    continue
                }
                guard let index = line.firstIndex(of: separator) else { continue }
                let key = line[..<index].trimmingCharacters(in: .whitespaces)
                let value = line[line.index(after: index)...].trimmingCharacters(in: .whitespaces)
                let full = section.isEmpty ? key : "\(section).\(key)"
                if multi, let existing = values[full], !existing.isEmpty {
                    values[full] = value.isEmpty ? "" : existing + " " + value
                } else {
                    values[full] = value
                }
            }
            return values
        }
    }

    /// The stanzas of an ifupdown interfaces(5) file.
    enum InterfacesFile {
        struct Stanza {
            /// `iface`, `mapping`, `auto`, `allow-hotplug`, `source`...; empty for blank and comment lines.
            var keyword: String
            var names: [String]
            var lines: [String]
        }

        static let blockKeywords: Set<String> = ["iface", "mapping"]
        static let lineKeywords: Set<String> = ["auto", "source", "source-directory", "rename", "no-auto-down", "no-scripts"]

        static func stanzas(_ text: String) -> [Stanza] {
            var result: [Stanza] = []
            var lines = text.components(separatedBy: "\n")
            if lines.last == "" { lines.removeLast() }
            for line in lines {
                let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                let first = words.first ?? ""
                let startsLine = !(line.first == " " || line.first == "\t")
                if startsLine, blockKeywords.contains(first) {
                    result.append(Stanza(keyword: first, names: Array(words.dropFirst().prefix(1)), lines: [line]))
                } else if startsLine, lineKeywords.contains(first) || first.hasPrefix("allow-") {
                    let names = first.hasPrefix("source") ? [] : words.dropFirst().map { word in
                        String(word.split(separator: "=").first ?? "")
                    }
                    result.append(Stanza(keyword: first, names: names, lines: [line]))
                } else if !first.isEmpty, let last = result.last, blockKeywords.contains(last.keyword) {
                    result[result.count - 1].lines.append(line)
                } else {
                    result.append(Stanza(keyword: "", names: [], lines: [line]))
                }
            }
            return result
        }

        /// The text without the stanzas (and `auto`/`allow-` names) of cards; the names removed.
        static func removingCards(_ text: String) -> (text: String, removed: [String]) {
            var kept: [String] = []
            var removed: [String] = []
            for stanza in stanzas(text) {
                let cards = stanza.names.filter(NetworkStep.Cleanup.isCardName)
                if cards.isEmpty {
                    kept += stanza.lines
                    continue
                }
                for card in cards where !removed.contains(card) { removed.append(card) }
                if stanza.keyword == "auto" || stanza.keyword.hasPrefix("allow-") {
                    let others = stanza.names.filter { !NetworkStep.Cleanup.isCardName($0) }
                    if !others.isEmpty { kept.append(([stanza.keyword] + others).joined(separator: " ")) }
                }
            }
            return (kept.isEmpty ? "" : kept.joined(separator: "\n") + "\n", removed)
        }

        static func hasStanzas(_ text: String) -> Bool {
            stanzas(text).contains { !$0.keyword.isEmpty }
        }

        /// Whether a `source` line reads /etc/network/interfaces.d/imprint (the Debian default reads the folder).
        static func sourcesImprint(_ text: String) -> Bool {
            stanzas(text).contains { stanza in
                let words = stanza.lines[0].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard words.count >= 2 else { return false }
                if words[0] == "source" {
                    return ["/etc/network/interfaces.d/*", "/etc/network/interfaces.d/imprint", "interfaces.d/*"].contains(words[1])
                }
                return words[0] == "source-directory" && ["/etc/network/interfaces.d", "interfaces.d"].contains(words[1])
            }
        }
    }
}

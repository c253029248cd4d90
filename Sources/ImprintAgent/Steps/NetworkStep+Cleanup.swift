import Foundation
import ImprintCore

extension NetworkStep {
    /// The master's network state a clone must not keep. Every file found is removed through the plan, so the run
    /// backs it up and `imprint rollback` puts it back; nothing is deleted outright.
    enum Cleanup {
        /// Always removed: they name the master's cards or hold its leases and secrets (the identity-file table's
        /// entries, which generalization reads too).
        static let persistentNetRules = IdentityFile.udevPersistentNet.path
        static let leaseFolders = IdentityFile.dhcpLeases.folders
        static let networkManagerSecret = IdentityFile.networkManagerSecret.path

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
                let netplan = IdentityFile.netplanConfig.folder
                for name in try Detection.yamlFiles(in: netplan, root: root) {
                    let path = netplan + "/" + name
                    if name == "90-imprint.yaml" {
                        try remove(path, "Imprint's netplan file, no longer used (the unit's stack changed)", secret: true)
                    } else if CardBinding.netplan(try text(path)) {
                        try removeMasters(path, "the master's netplan configuration of its cards", secret: true)
                    }
                }
            }

            mutating func networkManagerProfiles() throws(CoreError) {
                let connections = IdentityFile.networkManagerProfiles.folder + "/"
                for name in try root.listFolder(connections) {
                    if name.hasPrefix("imprint-") && name.hasSuffix(".nmconnection") {
                        try remove(connections + name, "Imprint's NetworkManager profile, no longer used", secret: true)
                    } else if CardBinding.keyfile(try text(connections + name)) {
                        try removeMasters(connections + name, "the master's NetworkManager profile, bound to its card", secret: true)
                    }
                }
            }

            mutating func networkdFiles() throws(CoreError) {
                let networkd = IdentityFile.networkdConfig.folder + "/"
                for name in try root.listFolder(networkd) where name.hasPrefix("10-imprint-") && name.hasSuffix(".link") {
                    try remove(networkd + name, "Imprint's name for a card, no longer given (the record no longer renames it)")
                }
                for name in try root.listFolder(networkd) where name.hasPrefix("10-imprint-") && name.hasSuffix(".netdev") {
                    try remove(networkd + name, "Imprint's bond, bridge or VLAN, no longer in the unit's network")
                }
                for name in try root.listFolder(networkd) where name.hasSuffix(".network") {
                    if name.hasPrefix("10-imprint-") {
                        try remove(networkd + name, "Imprint's systemd-networkd file, no longer used")
                    } else if CardBinding.networkFile(try text(networkd + name)) {
                        try removeMasters(networkd + name, "the master's systemd-networkd file, bound to its card")
                    }
                }
            }

            /// Imprint's old ifupdown file, and the master's card stanzas (loopback and the rest are kept).
            mutating func ifupdownStanzas() throws(CoreError) {
                try remove("/etc/network/interfaces.d/imprint", "Imprint's ifupdown file, no longer used", secret: true)
                let interfacesD = IdentityFile.interfacesConfig.patterns[1].folder
                var interfacesFiles = [IdentityFile.interfacesConfig.path]
                interfacesFiles += try root.listFolder(interfacesD).filter { $0 != "imprint" }.map { interfacesD + "/" + $0 }
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
                let scripts = IdentityFile.ifcfgConfig.folder + "/"
                for name in try root.listFolder(scripts) {
                    if name.hasPrefix("ifcfg-imprint-") || name.hasPrefix("keys-imprint-") {
                        try remove(scripts + name, "Imprint's ifcfg file, no longer used", secret: name.hasPrefix("keys-"))
                    } else if name.hasPrefix("ifcfg-"), name != "ifcfg-lo", CardBinding.ifcfg(try text(scripts + name)) {
                        try removeMasters(scripts + name, "the master's ifcfg file, bound to its card")
                        try removeMasters(scripts + "keys-" + name.dropFirst("ifcfg-".count), "the keys of the master's ifcfg file", secret: true)
                    }
                }
            }
        }

        /// Whether an interface name is not a card's (loopback, a VPN, a tunnel, a bridge).
        static func isUnrelatedName(_ name: String) -> Bool { !CardBinding.isCardName(name) }
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
                let cards = stanza.names.filter(CardBinding.isCardName)
                if cards.isEmpty {
                    kept += stanza.lines
                    continue
                }
                for card in cards where !removed.contains(card) { removed.append(card) }
                if stanza.keyword == "auto" || stanza.keyword.hasPrefix("allow-") {
                    let others = stanza.names.filter { !CardBinding.isCardName($0) }
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

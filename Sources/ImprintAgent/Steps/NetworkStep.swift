import Foundation
import ImprintCore

/// Plans the unit's network configuration: one file per stack that Imprint owns (the stack the image uses, or the
/// one the group forces), every interface matched by MAC address; the master's interface-bound configuration, its
/// persistent-net rules, DHCP leases and NetworkManager secret key removed (so backed up by the run).
enum NetworkStep {
    struct Result {
        var changes: [FileChange]
        var notes: [String]
    }

    /// - Parameters:
    ///   - cards: the cards the machine's facts list, to say which configured card it lacks; nil when unknown.
    static func plan(_ profile: UnitProfile, root: TargetRoot, cards: [NetworkInterfaceFact]? = nil) throws -> Result {
        let interfaces = try resolveInterfaces(profile, cards: cards)
        var notes: [String] = []
        var changes: [FileChange] = []
        let chosen = try Detection.choose(forced: profile.networkStack, root: root)
        var owned: [RenderedFile] = []
        if let chosen {
            notes.append("network: \(chosen.stack.rawValue) (\(chosen.reason))")
            if interfaces.list.isEmpty {
                notes.append("network: the unit has no MAC address in the inventory, so no interface is configured; "
                    + "add one with 'imprint inventory set \(profile.hostname.value) --mac ...'")
            } else {
                if chosen.stack == .netplan, let document = profile.netplan {
                    owned = [asGiven(document, unit: profile.hostname.value)]
                    notes.append("network: the unit's netplan document is written as given to \(owned[0].path); netplan renders it itself")
                    let left = interfaces.list.dropFirst(profile.interfaces.count).map(\.card)
                    if !left.isEmpty {
                        notes.append("network: \(left.joined(separator: ", ")) \(left.count == 1 ? "is" : "are") not in the document and "
                            + "left unconfigured, as the document leaves \(left.count == 1 ? "it" : "them")")
                    }
                } else {
                    owned = try Renderer(unit: profile.hostname.value, stack: chosen.stack, interfaces: interfaces.list, root: root)
                        .files()
                }
                if chosen.stack == .netplan, let file = owned.first(where: { $0.path.hasPrefix("/etc/netplan/") }),
                    let problem = NetplanV2.networkdBackendProblem(file.text, imageRenderer: try imageNetplanRenderer(root, besides: file.path))
                {
                    throw CoreError.invalidValue(
                        field: "network \(problem.key) of \(problem.card)", value: problem.key,
                        reason: "cannot be written for the netplan stack: \(problem.why); or force networkmanager for this unit or its group")
                }
                notes += Renderer.deviceNotes(interfaces.list, stack: chosen.stack, root: root)
                let authenticated = interfaces.list.filter { $0.auth != nil || $0.accessPoints.contains { $0.eap != nil } }
                if !authenticated.isEmpty, !root.exists("/usr/sbin/wpa_supplicant"), !root.exists("/sbin/wpa_supplicant") {
                    notes.append("network: 802.1X on \(authenticated.map(\.card).joined(separator: ", ")) needs wpa_supplicant, which "
                        + "the image lacks; install wpasupplicant in the image, or the network refuses the card")
                }
                if chosen.stack == .netplan, interfaces.list.contains(where: { $0.wifi != nil }),
                    !root.exists("/usr/sbin/NetworkManager")
                {
                    notes.append("network: netplan joins Wi-Fi by MAC only through NetworkManager, which the image lacks; "
                        + "install network-manager in the image, or the Wi-Fi card stays down")
                }
            }
        } else {
            notes.append("network: no network stack found in the image (no netplan, NetworkManager, systemd-networkd, "
                + "ifupdown or ifcfg files); nothing rendered; set the group's network stack to force one")
        }
        notes += interfaces.notes
        for file in owned {
            changes.append(FileChange(
                step: .network, path: file.path, reason: file.reason,
                action: .write(contents: Data(file.text.utf8), metadata: FileMetadata(mode: file.mode)),
                before: try root.readFile(file.path), secret: file.secret))
        }
        let cleanup = try Cleanup.plan(root: root, keeping: Set(owned.map(\.path)), renderedSomething: !owned.isEmpty)
        changes += cleanup.changes
        notes += cleanup.notes
        return Result(changes: changes, notes: notes)
    }

    /// The renderer the image's own netplan files set for every card (the last one in netplan's order), or nil: a
    /// desktop image's `01-network-manager-all.yaml` hands every card to NetworkManager. Imprint's file and the
    /// master's files that bind cards (which the run removes) are left out.
    static func imageNetplanRenderer(_ root: TargetRoot, besides ours: String) throws -> String? {
        var renderer: String?
        for name in try root.listFolder("/etc/netplan").sorted() where name.hasSuffix(".yaml") && "/etc/netplan/" + name != ours {
            guard let data = try root.readFile("/etc/netplan/" + name) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            if !CardBinding.netplan(text), let set = NetplanV2.globalRenderer(text) { renderer = set }
        }
        return renderer
    }

    /// The unit's netplan document as netplan reads it, so that nothing is lost in translation: 0600 (netplan
    /// refuses readable files, and it may hold passwords), and secret when it holds one.
    static func asGiven(_ document: String, unit: String) -> RenderedFile {
        RenderedFile(
            path: "/etc/netplan/90-imprint.yaml",
            text: NetplanV2.fileText(document, header: "# Written by Imprint for \(unit) from the unit's netplan document, as given: "
                + "change the unit in the inventory, not this file.\n"),
            mode: 0o600, reason: "the unit's netplan document, as given (0600: netplan refuses readable files)",
            secret: NetplanV2.holdsSecret(document))
    }

    /// The interfaces to render, in order: the configured ones, then (in DHCP mode) every other MAC the unit is
    /// known by, with DHCP. In a static group the MACs without settings are left out, except when the unit has no
    /// configured interface at all (a machine just enrolled into a static group): then every MAC gets DHCP, so
    /// the unit can be reached until an address is given, and the plan says so. A configured interface without a
    /// static IPv4 address uses DHCP in either mode, also with a note in a static group.
    ///
    /// A card bound by name has a MAC only the machine's facts tell: the other MACs get DHCP only when the facts
    /// list the cards, so that no card is configured twice.
    static func resolveInterfaces(
        _ profile: UnitProfile, cards: [NetworkInterfaceFact]? = nil
    ) throws -> (list: [InterfaceConfig], notes: [String]) {
        var seen = Set<MACAddress>()
        var names = Set<InterfaceName>()
        for interface in profile.interfaces {
            if let mac = interface.mac, !seen.insert(mac).inserted {
                throw CoreError.invalidValue(
                    field: "interfaces", value: mac.value,
                    reason: "two interfaces of \(profile.hostname.value) have this MAC; give each card once")
            }
            if let name = interface.name, !names.insert(name).inserted {
                throw CoreError.invalidValue(
                    field: "interfaces", value: name.value,
                    reason: "two interfaces of \(profile.hostname.value) have this name; give each card once")
            }
        }
        var list = profile.interfaces
        var notes = bindingNotes(list, cards: cards)
        // A bond's, bridge's or VLAN's name is the device the stack makes, not a card.
        names = Set(list.filter { $0.virtual == nil }.compactMap(\.name))
        // The MACs of the cards bound by name, when the facts tell them all.
        let factMACs = Dictionary((cards ?? []).compactMap { card in (try? MACAddress(card.mac)).map { (card.name, $0) } }) { first, _ in first }
        // Facts that list the cards tell which MAC each name is, and that a name they lack is no card of theirs.
        let unresolved = cards == nil ? names : []
        for name in names { if let mac = factMACs[name.value] { seen.insert(mac) } }
        var others = try profile.identifiers.filter { $0.kind == .mac }
            .map { identifier throws(CoreError) in try MACAddress(identifier.value) }
            .filter { !seen.contains($0) }
        if !unresolved.isEmpty, !others.isEmpty {
            notes.append("network: \(unresolved.map(\.value).sorted().joined(separator: ", ")) \(unresolved.count == 1 ? "is" : "are") bound by name "
                + "and the machine's facts do not say which MAC \(unresolved.count == 1 ? "it has" : "they have"), so "
                + "\(others.map(\.value).joined(separator: ", ")) \(others.count == 1 ? "is" : "are") left unconfigured rather than "
                + "risk configuring a card twice; match the cards by MAC to configure them all")
            others = []
        }
        let hint = "give it one with 'imprint inventory set \(profile.hostname.value) --interface MAC --ipv4 ADDRESS/PREFIX'"
        if profile.networkMode == .dhcp || list.isEmpty {
            for mac in others where seen.insert(mac).inserted {
                list.append(try InterfaceConfig(mac: mac))
            }
            if profile.networkMode == .static, !list.isEmpty {
                notes.append("network: the group is static but unit \(profile.hostname.value) has no address, so "
                    + "\(list.map(\.card).joined(separator: ", ")) use DHCP for now; \(hint)")
            }
        } else {
            for interface in list where interface.usesDHCP4 {
                notes.append("network: the group is static but \(interface.card) has no IPv4 address, so it uses DHCP; \(hint)")
            }
            if !others.isEmpty {
                notes.append("network: static group: \(others.map(\.value).joined(separator: ", ")) \(others.count == 1 ? "has" : "have") "
                    + "no settings and \(others.count == 1 ? "is" : "are") left unconfigured")
            }
        }
        return (list, notes)
    }

    /// What the plan says about how each configured card is found: by name as the document says, renamed, or
    /// bound to a card the machine's facts do not list (its settings wait for that card).
    static func bindingNotes(_ interfaces: [InterfaceConfig], cards: [NetworkInterfaceFact]?) -> [String] {
        let present = (cards ?? []).map { "\($0.name) (\($0.mac))" }.joined(separator: ", ")
        let has = present.isEmpty ? "it lists no card" : "it has \(present)"
        var notes: [String] = []
        for interface in interfaces where interface.virtual == nil {
            if let name = interface.name {
                notes.append("network: bound to \(name) by name, as the document says"
                    + (interface.mac.map { " (and to the MAC \($0))" } ?? ""))
            }
            if let mac = interface.mac, let setName = interface.setName {
                notes.append("network: the card \(mac) is named \(setName), as the document's set-name says")
            }
            guard let cards else { continue }
            if let mac = interface.mac, !cards.contains(where: { (try? MACAddress($0.mac)) == mac }) {
                notes.append("network: the machine's facts have no card with the MAC \(mac) (\(has)); its settings are "
                    + "written and wait for that card; fix the MAC in the unit's record if it is wrong")
            } else if interface.mac == nil, let name = interface.name, !cards.contains(where: { $0.name == name.value }) {
                notes.append("network: the machine's facts have no card named \(name) (\(has)); its settings are "
                    + "written and wait for that card; match the card by MAC if its name differs on this model")
            }
        }
        return notes
    }
}

/// A file Imprint renders and owns.
struct RenderedFile: Equatable {
    var path: String
    var text: String
    var mode: UInt32
    var reason: String
    var secret: Bool
}

import Yams

/// A unit's network as netplan (and cloud-init's network config "version 2") writes it, YAML or JSON, read into the
/// interfaces Imprint renders for every stack.
///
/// Imprint renders what its interface model holds: ethernets and wifis bound to a card by `match: macaddress`, by
/// `match: name` or by their id (the card's kernel name, as netplan reads an id without `match:`), renamed by
/// `set-name`, DHCP or static IPv4 (or none), DHCPv6 and static IPv6 addresses, default gateways, routes with metrics,
/// `on-link` and tables, `routing-policy`, `dhcp4-overrides: {route-metric}`, `dhcp-identifier`, `optional`,
/// `regulatory-domain`, offload settings, name servers, search domains, MTU, wired 802.1X (`auth`), and Wi-Fi
/// access points that are open, WPA-PSK or WPA-Enterprise (802.1X with TLS, PEAP or TTLS), bonds, bridges, VLANs,
/// IP tunnels and GSM or CDMA modems. The stacks that cannot carry one of these refuse it when the run is planned.
/// Anything else (VRFs, a name pattern, `accept-ra`) is refused with a message naming it, so nothing an
/// admin pasted is silently lost. `renderer` is read and left to the image: the stack the image uses (or the group
/// forces) renders the card.
public enum NetplanV2 {
    static let interfaceKeys = Set<String>([
        "match", "set-name", "dhcp4", "dhcp6", "addresses", "gateway4", "gateway6", "routes", "nameservers", "mtu",
        "access-points", "optional", "renderer", "routing-policy", "dhcp4-overrides", "dhcp-identifier", "regulatory-domain",
        "auth",
    ]).union(Offload.allCases.map(\.rawValue))

    /// A modem's settings beside the interface keys, as netplan names them.
    static let modemKeys: Set<String> = [
        "apn", "auto-config", "device-id", "network-id", "number", "password", "pin", "sim-id", "sim-operator-id", "username",
    ]

    /// Keys netplan knows that no stack Imprint renders carries as netplan means them, and what to do instead.
    static let refusedKeys: [String: String] = [
        "accept-ra": "Imprint leaves router advertisements to each stack's own default; remove 'accept-ra'",
    ]

    /// The most values a document may expand to. An alias repeats a value without repeating its text, so a few
    /// hundred bytes of aliases of aliases expand to billions ("billion laughs"): 381 bytes took 18 s to read.
    static let maxValues = 100_000

    /// Whether `node`, its aliases expanded, has at most `budget` values; stops counting once it has more.
    static func fits(_ node: Node, budget: inout Int) -> Bool {
        budget -= 1
        guard budget >= 0 else { return false }
        switch node {
        case .scalar, .alias: return true
        case .sequence(let sequence): return sequence.allSatisfy { fits($0, budget: &budget) }
        case .mapping(let mapping): return mapping.allSatisfy { fits($0.key, budget: &budget) && fits($0.value, budget: &budget) }
        }
    }

    /// The interfaces `text` describes, in the order of the document (ethernets, then wifis).
    /// - Parameters:
    ///   - text: a netplan document (`network: {version: 2, ...}`) or its inner mapping, in YAML or JSON.
    public static func interfaces(_ text: String) throws(CoreError) -> [InterfaceConfig] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw .invalidValue(field: "netplan", value: excerpt(text), reason: "is not YAML or JSON: \(error)")
        }
        var budget = maxValues
        if let root, !fits(root, budget: &budget) {
            throw .invalidValue(
                field: "netplan", value: excerpt(text),
                reason: "expands to more than \(maxValues) values (YAML aliases repeating aliases); write the values out")
        }
        let document = root?.any
        guard var network = document as? [String: Any] else {
            throw .invalidValue(field: "netplan", value: excerpt(text), reason: "must be a mapping with 'network: {version: 2, ...}'")
        }
        if let inner = network["network"] as? [String: Any] { network = inner }
        // netplan itself reads a document without 'version' (its vrf.yaml and vxlan.yaml examples), as version 2.
        if let version = network["version"], "\(version)" != "2" {
            throw .invalidValue(field: "netplan version", value: "\(version)", reason: "must be 2 (netplan and cloud-init v2)")
        }
        let sections = ["ethernets", "wifis", "modems", "bonds", "bridges", "vlans", "tunnels"]
        if let unsupported = network.keys.sorted().first(where: { !(["version", "renderer"] + sections).contains($0) }) {
            throw .invalidValue(
                field: "netplan", value: unsupported,
                reason: "is not supported: Imprint renders ethernets, wifis, modems, bonds, bridges, vlans and tunnels; configure \(unsupported) in the image")
        }
        // Members of a bond or bridge carry no address; a member's 'accept-ra: false' says no more than that.
        let members = Set(["bonds", "bridges"].flatMap { section in
            ((network[section] as? [String: Any]) ?? [:]).values.flatMap { (($0 as? [String: Any])?["interfaces"] as? [Any]) ?? [] }.map { "\($0)" }
        })
        var result: [InterfaceConfig] = []
        var ids: [String: Int] = [:]
        for section in sections {
            guard let entries = network[section] else { continue }
            guard let mapping = entries as? [String: Any] else {
                throw .invalidValue(field: "netplan", value: section, reason: "must be a mapping of interface ids")
            }
            for id in mapping.keys.sorted() {
                guard var settings = mapping[id] as? [String: Any] else {
                    throw .invalidValue(field: "netplan \(section)", value: id, reason: "must be a mapping of settings")
                }
                if members.contains(id), try boolean(settings["accept-ra"], field: "netplan interface \(id) accept-ra") == false {
                    settings["accept-ra"] = nil
                }
                let kind = VirtualDevice.Kind.allCases.first { $0.section == section }
                let parsed: InterfaceConfig
                if let kind {
                    parsed = try virtualInterface(settings, id: id, kind: kind)
                } else if section == "modems" {
                    let modemSettings = settings.filter { modemKeys.contains($0.key) }
                    var card = try interface(settings.filter { !modemKeys.contains($0.key) }, id: id, wifi: false)
                    card.modem = try modem(modemSettings, field: "netplan modem \(id)")
                    parsed = card
                } else {
                    parsed = try interface(settings, id: id, wifi: section == "wifis")
                }
                if ids[id] != nil {
                    throw .invalidValue(field: "netplan \(section)", value: id, reason: "is defined twice; give each interface one id")
                }
                ids[id] = result.count
                if let mac = parsed.mac, result.contains(where: { $0.mac == mac }) {
                    throw .invalidValue(
                        field: "netplan interface \(id)", value: mac.value,
                        reason: "another interface already matches this MAC; give each card once")
                }
                if let name = parsed.name, result.contains(where: { $0.name == name || $0.setName == name }) {
                    throw .invalidValue(
                        field: "netplan interface \(id)", value: name.value,
                        reason: "another interface already has this name; give each card once")
                }
                result.append(parsed)
            }
        }
        try link(&result, ids: ids, network: network)
        return result
    }

    /// Joins the document's devices: each bond's and bridge's members (which carry no address of their own), a
    /// bond's primary member, and each VLAN's parent (which must have a name the stacks can refer to).
    static func link(_ result: inout [InterfaceConfig], ids: [String: Int], network: [String: Any]) throws(CoreError) {
        for (index, interface) in result.enumerated() {
            guard let virtual = interface.virtual, virtual.kind != .tunnel, let name = interface.name else { continue }
            let id = name.value
            let field = "netplan \(virtual.kind.section) \(id)"
            let settings = ((network[virtual.kind.section] as? [String: Any])?[id] as? [String: Any]) ?? [:]
            if virtual.kind == .vlan {
                guard let parentID = settings["link"].map({ "\($0)" }), let parent = ids[parentID] else {
                    throw .invalidValue(field: "\(field) link", value: "\(settings["link"] ?? "")", reason: "names no interface of the document")
                }
                guard let parentName = result[parent].kernelName else {
                    throw .invalidValue(
                        field: "\(field) link", value: parentID,
                        reason: "is a card found by its MAC alone; give it a 'set-name' so the VLAN can name its parent")
                }
                result[index].virtual?.link = parentName
                result[parent].vlans.append(name)
                continue
            }
            let memberIDs = try strings(settings["interfaces"], field: "\(field) interfaces")
            let primary = virtual.parameters["primary"]
            if let primary, !memberIDs.contains(primary) {
                throw .invalidValue(field: "\(field) primary", value: primary, reason: "is not one of the bond's interfaces")
            }
            for memberID in memberIDs {
                guard let member = ids[memberID] else {
                    throw .invalidValue(field: "\(field) interfaces", value: memberID, reason: "names no interface of the document")
                }
                let card = result[member]
                if let other = card.membership {
                    throw .invalidValue(field: "\(field) interfaces", value: memberID, reason: "is already a member of \(other.controller)")
                }
                if !card.addresses.isEmpty || card.usesDHCP4 || card.dhcp6 || !card.routes.isEmpty || !card.dns.isEmpty || card.wifi != nil {
                    throw .invalidValue(
                        field: "\(field) interfaces", value: memberID,
                        reason: "has addresses, DHCP, routes, DNS or Wi-Fi of its own; a member of a \(virtual.kind.rawValue) carries none, "
                            + "give them to \(id)")
                }
                result[member].membership = Membership(controller: name, kind: virtual.kind, primary: memberID == primary)
                if memberID == primary {
                    guard let primaryName = card.kernelName else {
                        throw .invalidValue(
                            field: "\(field) primary", value: memberID,
                            reason: "is a card found by its MAC alone; give it a 'set-name' so the bond can name it")
                    }
                    result[index].virtual?.parameters["primary"] = primaryName.value
                }
            }
        }
    }

    /// A modem's connection settings: each a single line of text (the PIN digits only), the password and PIN never
    /// shown in a message.
    static func modem(_ settings: [String: Any], field: String) throws(CoreError) -> Modem {
        func text(_ key: String, secret: Bool = false) throws(CoreError) -> String? {
            guard let value = settings[key] else { return nil }
            let text = "\(value)"
            guard !text.isEmpty, text.count <= 256, !text.unicodeScalars.contains(where: FieldText.isForbidden) else {
                throw .invalidValue(
                    field: "\(field) \(key)", value: secret ? "********" : String(text.prefix(60)),
                    reason: "must be 1 to 256 characters with no line breaks or tabs")
            }
            return text
        }
        var modem = Modem()
        modem.apn = try text("apn")
        modem.username = try text("username")
        modem.password = try text("password", secret: true)
        modem.number = try text("number")
        modem.networkID = try text("network-id")
        modem.deviceID = try text("device-id")
        modem.pin = try text("pin", secret: true)
        if let pin = modem.pin, !(4...8).contains(pin.count) || !pin.allSatisfy(\.isASCII) || !pin.allSatisfy(\.isNumber) {
            throw .invalidValue(field: "\(field) pin", value: "********", reason: "a SIM PIN is 4 to 8 digits")
        }
        modem.simID = try text("sim-id")
        modem.simOperatorID = try text("sim-operator-id")
        modem.autoConfig = try boolean(settings["auto-config"], field: "\(field) auto-config")
        return modem
    }

    /// An IP tunnel's mode and its outer addresses (IPv4: netplan's `local` and `remote`), checked before anything
    /// else, so a WireGuard or VXLAN tunnel is refused for its mode, never for its keys.
    static func tunnel(_ settings: [String: Any], field: String) throws(CoreError) -> VirtualDevice {
        let modeText = "\(settings["mode"] ?? "")"
        guard let mode = TunnelMode(rawValue: modeText) else {
            throw .invalidValue(
                field: "\(field) mode", value: modeText,
                reason: "is not rendered: Imprint renders \(TunnelMode.allCases.map(\.rawValue).joined(separator: ", ")) tunnels; "
                    + "configure this one in the image")
        }
        var device = VirtualDevice(kind: .tunnel, parameters: ["mode": mode.rawValue])
        for key in ["local", "remote"] {
            guard let text = settings[key].map({ "\($0)" }) else {
                throw .invalidValue(field: "\(field) \(key)", value: "", reason: "is missing: a \(mode.rawValue) tunnel needs 'local' and 'remote'")
            }
            let address = try IPAddress(text, field: "\(field) \(key)")
            guard address.family == .ipv4 else {
                throw .invalidValue(field: "\(field) \(key)", value: text, reason: "must be an IPv4 address (the tunnel's outer address)")
            }
            device.parameters[key] = address.value
        }
        return device
    }

    /// Bond parameters Imprint renders, with the values each takes; netplan's misspelt `gratuitious-arp` is read as
    /// `gratuitous-arp`, as netplan reads it.
    static let bondParameters: [String: Set<String>?] = [
        "mode": ["balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"],
        "mii-monitor-interval": nil, "gratuitous-arp": nil, "primary": nil,
        "lacp-rate": ["slow", "fast"], "transmit-hash-policy": ["layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4"],
    ]

    /// A bond, bridge or VLAN: its own addresses and routes as a card has them, named by its id, and its
    /// parameters; members and the VLAN's parent are joined by `link`.
    static func virtualInterface(_ settings: [String: Any], id: String, kind: VirtualDevice.Kind) throws(CoreError) -> InterfaceConfig {
        let field = "netplan \(kind.section) \(id)"
        if kind == .tunnel {
            let device = try tunnel(settings, field: field)
            var result = try interface(settings.filter { !["mode", "local", "remote"].contains($0.key) }, id: id, wifi: false)
            result.virtual = device
            return result
        }
        let own: Set<String> = kind == .vlan ? ["id", "link"] : ["interfaces", "parameters"]
        if let other = settings.keys.sorted().first(where: { ["match", "set-name", "access-points", "regulatory-domain"].contains($0) }) {
            throw .invalidValue(field: field, value: other, reason: "is not supported on a \(kind.rawValue); it is named by its id")
        }
        var device = VirtualDevice(kind: kind)
        if kind == .vlan {
            guard let vlanID = settings["id"] as? Int, (1...4094).contains(vlanID) else {
                throw .invalidValue(field: "\(field) id", value: "\(settings["id"] ?? "")", reason: "must be a VLAN id from 1 to 4094")
            }
            device.vlanID = vlanID
        } else if let value = settings["parameters"] {
            guard let parameters = value as? [String: Any] else {
                throw .invalidValue(field: "\(field) parameters", value: "\(value)", reason: "must be a mapping")
            }
            for key in parameters.keys.sorted() {
                let name = key == "gratuitious-arp" ? "gratuitous-arp" : key
                let text = "\(parameters[key] ?? "")"
                if kind == .bridge {
                    guard name == "stp" else {
                        throw .invalidValue(field: "\(field) parameters", value: key, reason: "is not supported: Imprint renders a bridge's 'stp'")
                    }
                    device.parameters[name] = try boolean(parameters[key], field: "\(field) stp") == true ? "true" : "false"
                    continue
                }
                guard let allowed = bondParameters[name] else {
                    throw .invalidValue(
                        field: "\(field) parameters", value: key,
                        reason: "is not supported: Imprint renders a bond's \(bondParameters.keys.sorted().joined(separator: ", "))")
                }
                if let allowed, !allowed.contains(text) {
                    throw .invalidValue(field: "\(field) \(key)", value: text, reason: "must be one of \(allowed.sorted().joined(separator: ", "))")
                }
                if allowed == nil, name != "primary", !(parameters[key] is Int) {
                    throw .invalidValue(field: "\(field) \(key)", value: text, reason: "must be a whole number (milliseconds for an interval)")
                }
                device.parameters[name] = text
            }
        }
        var result = try interface(settings.filter { !own.contains($0.key) }, id: id, wifi: false)
        result.virtual = device
        return result
    }

    static func interface(_ settings: [String: Any], id: String, wifi: Bool) throws(CoreError) -> InterfaceConfig {
        let field = "netplan interface \(id)"
        if let refused = settings.keys.sorted().first(where: { refusedKeys[$0] != nil }), let why = refusedKeys[refused] {
            throw .invalidValue(field: field, value: refused, reason: "is not supported: \(why)")
        }
        if let unknown = settings.keys.sorted().first(where: { !interfaceKeys.contains($0) }) {
            throw .invalidValue(
                field: field, value: unknown,
                reason: "is not supported; Imprint renders \(interfaceKeys.sorted().joined(separator: ", "))")
        }
        let (mac, name) = try binding(settings, id: id, field: field)
        let setName = try settings["set-name"].map { value throws(CoreError) in try interfaceName("\(value)", field: "\(field) set-name") }
        if setName != nil && mac == nil {
            throw .invalidValue(
                field: "\(field) set-name", value: "\(settings["set-name"] ?? "")",
                reason: "renames a card found by its MAC; add 'match: {macaddress: ...}'")
        }
        var addresses: [IPPrefix] = []
        for text in try strings(settings["addresses"], field: "\(field) addresses") {
            addresses.append(try IPPrefix(text, field: "\(field) address"))
        }
        let (gateway4, gateway6, routes) = try gateways(settings, field: field)
        let (dns, search) = try nameServers(settings["nameservers"], field: field)
        var mtu: Int?
        if let value = settings["mtu"] {
            guard let number = value as? Int else {
                throw .invalidValue(field: "\(field) mtu", value: "\(value)", reason: "must be a whole number such as 1500")
            }
            mtu = number
        }
        // As netplan reads it: DHCPv4 only when asked for; a card without it and without an IPv4 address has no IPv4.
        let dhcp4 = try boolean(settings["dhcp4"], field: "\(field) dhcp4") ?? false
        let dhcp6 = try boolean(settings["dhcp6"], field: "\(field) dhcp6") ?? false
        let networks = try accessPoints(settings, field: field, wifi: wifi)
        var result: InterfaceConfig
        do {
            result = try InterfaceConfig(
                mac: mac, name: name, setName: setName, addresses: addresses, dhcp4: dhcp4, dhcp6: dhcp6, gateway4: gateway4,
                gateway6: gateway6, dns: dns, search: search, mtu: mtu, wifi: networks.first)
        } catch {
            guard case let .invalidValue(inner, value, reason) = error else { throw error }
            throw .invalidValue(field: "\(field) \(inner)", value: value, reason: reason)
        }
        result.accessPoints = networks
        if let auth = settings["auth"] {
            guard !wifi else {
                throw .invalidValue(
                    field: "\(field) auth", value: "auth", reason: "belongs to each access point of a Wi-Fi card; move it under its SSID")
            }
            result.auth = try wiredAuth(auth, field: "\(field) auth")
        }
        result.routes = routes
        result.routingPolicy = try routingPolicy(settings["routing-policy"], field: field)
        result.optional = try boolean(settings["optional"], field: "\(field) optional") ?? false
        result.dhcp4RouteMetric = try dhcpOverrides(settings["dhcp4-overrides"], field: field)
        result.dhcpIdentifier = settings["dhcp-identifier"].map { "\($0)" }
        result.regulatoryDomain = settings["regulatory-domain"].map { "\($0)" }
        for setting in Offload.allCases {
            if let value = try boolean(settings[setting.rawValue], field: "\(field) \(setting.rawValue)") { result.offload[setting] = value }
        }
        do {
            try result.checkRoutes()
        } catch {
            guard case let .invalidValue(inner, value, reason) = error else { throw error }
            throw .invalidValue(field: "\(field) \(inner)", value: value, reason: reason)
        }
        return result
    }

    /// `dhcp4-overrides`: only `route-metric`, which every stack but ifcfg carries; the others change what a DHCP
    /// answer is used for, which Imprint leaves to each stack.
    static func dhcpOverrides(_ value: Any?, field: String) throws(CoreError) -> Int? {
        guard let value else { return nil }
        guard let overrides = value as? [String: Any] else {
            throw .invalidValue(field: "\(field) dhcp4-overrides", value: "\(value)", reason: "must be a mapping such as {route-metric: 100}")
        }
        if let other = overrides.keys.sorted().first(where: { $0 != "route-metric" }) {
            throw .invalidValue(
                field: "\(field) dhcp4-overrides", value: other,
                reason: "is not supported: Imprint renders 'route-metric' only; set the others in the image")
        }
        guard let metric = overrides["route-metric"] as? Int else {
            throw .invalidValue(field: "\(field) dhcp4-overrides route-metric", value: "\(overrides["route-metric"] ?? "")", reason: "must be a whole number")
        }
        return metric
    }

    /// `routing-policy`: rules with `from` and/or `to`, a `table` and an optional `priority`.
    static func routingPolicy(_ value: Any?, field: String) throws(CoreError) -> [RoutingRule] {
        guard let value else { return [] }
        guard let list = value as? [Any] else {
            throw .invalidValue(field: "\(field) routing-policy", value: "\(value)", reason: "must be a list")
        }
        return try list.map { item throws(CoreError) in
            guard let rule = item as? [String: Any] else {
                throw .invalidValue(field: "\(field) routing-policy", value: "\(item)", reason: "must be a mapping such as {from: 10.0.0.0/24, table: 101}")
            }
            if let other = rule.keys.sorted().first(where: { !["from", "to", "table", "priority"].contains($0) }) {
                throw .invalidValue(
                    field: "\(field) routing-policy", value: other,
                    reason: "is not supported: Imprint renders 'from', 'to', 'table' and 'priority'; set the others in the image")
            }
            guard let table = rule["table"] as? Int else {
                throw .invalidValue(field: "\(field) routing-policy", value: describe(rule), reason: "needs a 'table' number")
            }
            let from = try rule["from"].map { text throws(CoreError) in try prefix("\(text)", field: "\(field) routing-policy from") }
            let to = try rule["to"].map { text throws(CoreError) in try prefix("\(text)", field: "\(field) routing-policy to") }
            let priority = try rule["priority"].map { number throws(CoreError) -> Int in
                guard let number = number as? Int else {
                    throw .invalidValue(field: "\(field) routing-policy priority", value: "\(number)", reason: "must be a whole number")
                }
                return number
            }
            return try RoutingRule(from: from, to: to, table: table, priority: priority)
        }
    }

    /// A prefix, or a single address as the host prefix (/32, /128) as netplan reads it.
    static func prefix(_ text: String, field: String) throws(CoreError) -> IPPrefix {
        if text.contains("/") { return try IPPrefix(text, field: field) }
        let address = try IPAddress(text, field: field)
        return try IPPrefix("\(address.value)/\(address.family == .ipv4 ? 32 : 128)", field: field)
    }

    /// The card an interface is bound to: `match: {macaddress: ...}`, `match: {name: ...}` (one card, not a
    /// pattern) or both; without `match:`, netplan takes the id as the card's kernel name, and so does Imprint.
    static func binding(_ settings: [String: Any], id: String, field: String) throws(CoreError) -> (MACAddress?, InterfaceName?) {
        guard let value = settings["match"] else {
            return (nil, try interfaceName(id, field: field))
        }
        guard let match = value as? [String: Any], !match.isEmpty else {
            throw .invalidValue(field: "\(field) match", value: "\(value)", reason: "must be a mapping with 'macaddress' or 'name'")
        }
        if let other = match.keys.sorted().first(where: { !["macaddress", "name"].contains($0) }) {
            throw .invalidValue(
                field: "\(field) match", value: other,
                reason: "is not supported: Imprint binds a card by 'macaddress' or 'name'; use one of them")
        }
        let mac = try match["macaddress"].map { text throws(CoreError) in try MACAddress("\(text)") }
        let name = try match["name"].map { text throws(CoreError) in try interfaceName("\(text)", field: "\(field) match name") }
        return (mac, name)
    }

    /// A card's kernel name, refusing a pattern (`en*`), which would bind one interface's addresses to many cards.
    static func interfaceName(_ text: String, field: String) throws(CoreError) -> InterfaceName {
        if text.contains(where: { "*?[]".contains($0) }) {
            throw .invalidValue(
                field: field, value: text,
                reason: "is a pattern, which could give one address to several cards; name one card or match its MAC")
        }
        do {
            return try InterfaceName(text)
        } catch {
            guard case let .invalidValue(_, _, reason) = error else { throw error }
            throw .invalidValue(field: field, value: text, reason: reason)
        }
    }

    /// The default gateways (`gateway4`/`gateway6`, or a plain default route `to: default, via: GATEWAY`, one of
    /// each family) and the other routes: with a metric, `on-link`, a table, another destination, or a second
    /// default route.
    static func gateways(_ settings: [String: Any], field: String) throws(CoreError) -> (IPAddress?, IPAddress?, [Route]) {
        var gateway4 = try settings["gateway4"].map { value throws(CoreError) in try IPAddress("\(value)", field: "\(field) gateway4") }
        var gateway6 = try settings["gateway6"].map { value throws(CoreError) in try IPAddress("\(value)", field: "\(field) gateway6") }
        guard let value = settings["routes"] else { return (gateway4, gateway6, []) }
        guard let list = value as? [Any] else {
            throw .invalidValue(field: "\(field) routes", value: "\(value)", reason: "must be a list")
        }
        var routes: [Route] = []
        for item in list {
            guard let route = item as? [String: Any] else {
                throw .invalidValue(field: "\(field) route", value: "\(item)", reason: "must be a mapping such as {to: default, via: 10.0.0.1}")
            }
            if let other = route.keys.sorted().first(where: { !["to", "via", "metric", "on-link", "table"].contains($0) }) {
                throw .invalidValue(
                    field: "\(field) route", value: other,
                    reason: "is not supported: Imprint renders a route's 'to', 'via', 'metric', 'on-link' and 'table'; "
                        + "add such routes in the image")
            }
            let via = try route["via"].map { text throws(CoreError) in try IPAddress("\(text)", field: "\(field) route via") }
            let destination = route["to"].map { "\($0)" } ?? "default"
            let isDefault = ["default", "0.0.0.0/0", "::/0"].contains(destination)
            let to = isDefault ? nil : try prefix(destination, field: "\(field) route to")
            let family: IPAddress.Family? = destination == "0.0.0.0/0" ? .ipv4 : destination == "::/0" ? .ipv6 : nil
            func number(_ key: String) throws(CoreError) -> Int? {
                guard let value = route[key] else { return nil }
                guard let number = value as? Int else {
                    throw .invalidValue(field: "\(field) route \(key)", value: "\(value)", reason: "must be a whole number")
                }
                return number
            }
            let parsed: Route
            do {
                parsed = try Route(
                    to: to, via: via, family: family ?? via?.family, metric: number("metric"),
                    onLink: boolean(route["on-link"], field: "\(field) route on-link") ?? false, table: number("table"))
            } catch {
                guard case let .invalidValue(inner, value, reason) = error else { throw error }
                throw .invalidValue(field: "\(field) \(inner)", value: value, reason: reason)
            }
            let plain = parsed.to == nil && parsed.metric == nil && !parsed.onLink && parsed.table == nil
            if plain, let via, via.family == .ipv4, gateway4 == nil {
                gateway4 = via
            } else if plain, let via, via.family == .ipv6, gateway6 == nil {
                gateway6 = via
            } else {
                routes.append(parsed)
            }
        }
        return (gateway4, gateway6, routes)
    }

    /// `nameservers: {addresses: [...], search: [...]}`.
    static func nameServers(_ value: Any?, field: String) throws(CoreError) -> ([IPAddress], [DomainName]) {
        guard let value else { return ([], []) }
        guard let servers = value as? [String: Any], Set(servers.keys).isSubset(of: ["addresses", "search"]) else {
            throw .invalidValue(field: "\(field) nameservers", value: "\(value)", reason: "takes 'addresses' and 'search' lists")
        }
        var dns: [IPAddress] = []
        var search: [DomainName] = []
        for text in try strings(servers["addresses"], field: "\(field) nameservers") {
            dns.append(try IPAddress(text, field: "\(field) DNS server"))
        }
        for text in try strings(servers["search"], field: "\(field) search") {
            search.append(try DomainName(text, field: "\(field) search domain"))
        }
        return (dns, search)
    }

    /// A Wi-Fi card's access points, by SSID: open, WPA-PSK (`password`, or `auth` with
    /// `key-management: psk`) or WPA-Enterprise (`auth` with `key-management: eap`); empty for a wired card (which
    /// must not have any).
    static func accessPoints(_ settings: [String: Any], field: String, wifi: Bool) throws(CoreError) -> [WifiNetwork] {
        guard wifi else {
            if settings["access-points"] != nil {
                throw .invalidValue(field: field, value: "access-points", reason: "belongs under 'wifis', not 'ethernets'")
            }
            return []
        }
        guard let points = settings["access-points"] as? [String: Any], !points.isEmpty else {
            throw .invalidValue(field: "\(field) access-points", value: "", reason: "give the Wi-Fi networks the card joins, by SSID")
        }
        return try points.keys.sorted().map { ssid throws(CoreError) in
            let point = points[ssid] as? [String: Any] ?? [:]
            let pointField = "\(field) access point \(ssid)"
            if let extra = point.keys.sorted().first(where: { !["password", "auth"].contains($0) }) {
                throw .invalidValue(field: pointField, value: extra, reason: "is not supported; Imprint renders 'password' and 'auth'")
            }
            var passphrase = point["password"].map { "\($0)" }
            var eap: EAPAuth?
            if let auth = point["auth"] {
                guard let mapping = auth as? [String: Any] else {
                    throw .invalidValue(field: "\(pointField) auth", value: "auth", reason: "must be a mapping with 'key-management'")
                }
                switch "\(mapping["key-management"] ?? "")" {
                case "none":
                    if passphrase != nil || mapping["password"] != nil {
                        throw .invalidValue(field: "\(pointField) auth", value: "none", reason: "is an open network, which has no password")
                    }
                case "psk":
                    if let other = mapping.keys.sorted().first(where: { !["key-management", "password"].contains($0) }) {
                        throw .invalidValue(field: "\(pointField) auth", value: other, reason: "does not go with 'key-management: psk'")
                    }
                    passphrase = passphrase ?? mapping["password"].map { "\($0)" }
                case "eap":
                    eap = try eapAuth(mapping, field: "\(pointField) auth")
                case let other:
                    throw .invalidValue(
                        field: "\(pointField) auth key-management", value: other,
                        reason: "is not rendered; Imprint renders none, psk and eap on Wi-Fi (802.1x on a wired card)")
                }
            }
            return try WifiNetwork(ssid: ssid, passphrase: passphrase, eap: eap)
        }
    }

    /// A wired card's `auth`: `key-management: 802.1x` and its EAP settings.
    static func wiredAuth(_ value: Any, field: String) throws(CoreError) -> EAPAuth {
        guard let mapping = value as? [String: Any] else {
            throw .invalidValue(field: field, value: "auth", reason: "must be a mapping with 'key-management: 802.1x'")
        }
        let management = "\(mapping["key-management"] ?? "")"
        guard management == "802.1x" else {
            throw .invalidValue(
                field: "\(field) key-management", value: management,
                reason: "must be 802.1x on a wired card (psk and eap are for Wi-Fi access points)")
        }
        return try eapAuth(mapping, field: field)
    }

    /// The EAP settings of an `auth` mapping, every key checked.
    static func eapAuth(_ mapping: [String: Any], field: String) throws(CoreError) -> EAPAuth {
        let known: Set<String> = [
            "key-management", "method", "identity", "anonymous-identity", "password", "ca-certificate", "client-certificate",
            "client-key", "client-key-password", "phase2-auth",
        ]
        if let other = mapping.keys.sorted().first(where: { !known.contains($0) }) {
            throw .invalidValue(field: field, value: other, reason: "is not supported; Imprint renders \(known.sorted().joined(separator: ", "))")
        }
        let methodText = "\(mapping["method"] ?? "")"
        guard let method = EAPAuth.Method(rawValue: methodText.lowercased()) else {
            throw .invalidValue(
                field: "\(field) method", value: methodText,
                reason: "must be tls, peap or ttls (leap and pwd are not rendered)")
        }
        func text(_ key: String) -> String? { mapping[key].map { "\($0)" } }
        do {
            return try EAPAuth(
                method: method, identity: text("identity") ?? "", anonymousIdentity: text("anonymous-identity"),
                password: text("password"), caCertificate: text("ca-certificate"), clientCertificate: text("client-certificate"),
                clientKey: text("client-key"), clientKeyPassword: text("client-key-password"), phase2Auth: text("phase2-auth"))
        } catch {
            guard case let .invalidValue(inner, value, reason) = error else { throw error }
            throw .invalidValue(field: "\(field) (\(inner))", value: value, reason: reason)
        }
    }

    static func strings(_ value: Any?, field: String) throws(CoreError) -> [String] {
        guard let value else { return [] }
        guard let list = value as? [Any] else {
            throw .invalidValue(field: field, value: "\(value)", reason: "must be a list")
        }
        return try list.map { item throws(CoreError) in
            guard item is String || item is Int || item is Double else {
                throw .invalidValue(field: field, value: "\(item)", reason: "must be a plain value, such as 10.0.4.21/24")
            }
            return "\(item)"
        }
    }

    /// A netplan boolean (`true`, `false`, and YAML 1.1's `yes`, `no`, `on`, `off`), or nil when absent.
    static func boolean(_ value: Any?, field: String) throws(CoreError) -> Bool? {
        switch value {
        case nil: return nil
        case let bool as Bool: return bool
        case let text as String where ["true", "yes", "on"].contains(text.lowercased()): return true
        case let text as String where ["false", "no", "off"].contains(text.lowercased()): return false
        default: throw .invalidValue(field: field, value: "\(value ?? "")", reason: "must be true or false")
        }
    }

    /// What netplan itself would refuse in `text` when its networkd backend renders a card: a Wi-Fi card found by
    /// `match:` (that backend joins Wi-Fi by interface name only), and `dhcp4-overrides: {route-metric}` on a card
    /// with DHCPv6 (it needs the same metric in `dhcp6-overrides`, which Imprint does not read). A card's renderer
    /// is its own `renderer`, else the document's, else `imageRenderer` (what the image's other netplan files set),
    /// else networkd. Nil when there is nothing to refuse.
    /// - Returns: the section and id of the card, the key, and why.
    public static func networkdBackendProblem(_ text: String, imageRenderer: String?) -> (card: String, key: String, why: String)? {
        guard var network = (try? Yams.compose(yaml: text))?.any as? [String: Any] else { return nil }
        if let inner = network["network"] as? [String: Any] { network = inner }
        let global = network["renderer"].map { "\($0)" } ?? imageRenderer ?? "networkd"
        for section in ["ethernets", "wifis", "modems", "bonds", "bridges", "vlans", "tunnels"] {
            let cards = network[section] as? [String: Any] ?? [:]
            for id in cards.keys.sorted() {
                guard let settings = cards[id] as? [String: Any], (settings["renderer"].map { "\($0)" } ?? global) == "networkd" else {
                    continue
                }
                if section == "modems" {
                    return ("\(section) \(id)", "modems", "netplan's networkd backend does not drive a modem (netplan generate "
                        + "refuses it); add 'renderer: NetworkManager' to \(id) or to the document")
                }
                if section == "wifis", settings["match"] != nil {
                    return ("\(section) \(id)", "match", "netplan's networkd backend joins Wi-Fi by interface name only "
                        + "(netplan generate refuses it); add 'renderer: NetworkManager' to \(id), or name the card without 'match:'")
                }
                let overrides = settings["dhcp4-overrides"] as? [String: Any]
                if (try? boolean(settings["dhcp6"], field: "")) == true, overrides?["route-metric"] != nil {
                    return ("\(section) \(id)", "dhcp4-overrides", "netplan's networkd backend needs the same route-metric in "
                        + "dhcp6-overrides, which Imprint does not read; drop the route-metric or DHCPv6, or add 'renderer: NetworkManager' to \(id)")
                }
            }
        }
        return nil
    }

    /// The global `renderer` of a netplan file's text, nil when it sets none.
    public static func globalRenderer(_ text: String) -> String? {
        guard var network = (try? Yams.compose(yaml: text))?.any as? [String: Any] else { return nil }
        if let inner = network["network"] as? [String: Any] { network = inner }
        return network["renderer"].map { "\($0)" }
    }

    /// Keys whose values are secrets wherever they appear in a document: Wi-Fi and 802.1X passwords, a private
    /// key's password, WireGuard keys, a modem's password and PIN.
    static let secretKeys: Set<String> = ["password", "client-key-password", "key", "private", "shared", "pin", "psk"]

    /// Whether `text` holds a value under one of `secretKeys`, so its file is shown in no diff, log or JSON.
    public static func holdsSecret(_ text: String) -> Bool {
        func walk(_ node: Node) -> Bool {
            switch node {
            case .scalar, .alias: return false
            case .sequence(let sequence): return sequence.contains(where: walk)
            case .mapping(let mapping):
                return mapping.contains { pair in (pair.key.string.map { secretKeys.contains($0) } ?? false) || walk(pair.value) }
            }
        }
        // A document that does not read was refused when it was stored; treat it as secret rather than show it.
        guard let root = try? Yams.compose(yaml: text) else { return true }
        return walk(root)
    }

    /// `text` as netplan reads it from /etc/netplan: as given, under a first comment line; cloud-init's inner
    /// mapping (without `network:`) is put under `network:`, every line indented, which keeps YAML and JSON alike.
    public static func fileText(_ text: String, header: String) -> String {
        let body = text.hasSuffix("\n") ? text : text + "\n"
        let root = try? Yams.compose(yaml: text)
        if root?["network"] != nil { return header + body }
        let indented = body.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            .map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n")
        return header + "network:\n" + indented + "\n"
    }

    /// A mapping as `key: value` pairs in key order, for a message (never one that may hold a secret).
    static func describe(_ value: Any) -> String {
        guard let mapping = value as? [String: Any] else { return "\(value)" }
        return mapping.keys.sorted().map { "\($0): \(mapping[$0] ?? "")" }.joined(separator: ", ")
    }

    static func excerpt(_ text: String) -> String {
        text.count > 40 ? String(text.prefix(40)) + "..." : text
    }
}

import Crypto
import Foundation
import ImprintCore
import ImprintTemplates

extension NetworkStep {
    /// Renders a unit's interfaces for one stack from the templates under Templates/network (or the root's
    /// overrides). Addresses, MACs, domains and MTUs are already validated values that cannot break any of these
    /// formats; the only free text, an SSID and a passphrase, is escaped where the format has an escape and
    /// refused where it has none.
    struct Renderer {
        var unit: String
        var stack: NetworkStack
        var interfaces: [InterfaceConfig]
        var root: TargetRoot

        /// The template each stack renders its files from.
        static let templateNames: [NetworkStack: String] = [
            .netplan: "imprint-netplan.yaml", .networkManager: "imprint.nmconnection", .networkd: "imprint.network",
            .ifupdown: "interfaces-imprint", .ifcfg: "ifcfg-imprint",
        ]

        /// The files of `stack`, with their paths, modes and reasons. An admin's override that writes the same files
        /// with and without the cards' DHCPv6 where the built-in template does not (an override made before Imprint
        /// rendered DHCPv6) is refused, so that a card's `dhcp6` is never silently lost.
        func files() throws -> [RenderedFile] {
            for interface in interfaces { try Self.checkExpressible(interface, on: stack) }
            let files = try render(interfaces, overridesIn: root)
            let asking = interfaces.filter(\.dhcp6)
            let name = Self.templateNames[stack] ?? stack.rawValue
            if !asking.isEmpty, case let source = try Template.load(name, root: root).source, source != "built-in" {
                let without = interfaces.map { interface in
                    var copy = interface
                    copy.dhcp6 = false
                    return copy
                }
                let builtInCarriesIt = try render(interfaces, overridesIn: nil) != render(without, overridesIn: nil)
                if builtInCarriesIt, try render(without, overridesIn: root) == files {
                    throw CoreError.invalidValue(
                        field: "template", value: source,
                        reason: "writes the same \(stack.rawValue) files with and without DHCPv6, so DHCPv6 on "
                            + "\(asking.map(\.card).joined(separator: ", ")) would be lost; render 'dhcp6' in it as the "
                            + "built-in \(name) does (see Templates/README.md), or remove the override")
                }
            }
            return files
        }

        /// The files of `stack` for `interfaces`, from the templates of `root` (the admin's overrides) or, for nil,
        /// the built-in ones.
        private func render(_ given: [InterfaceConfig], overridesIn root: TargetRoot?) throws -> [RenderedFile] {
            // ifupdown and ifcfg name a bond's or bridge's members by kernel name: a member found by its MAC alone gets one.
            let interfaces = Self.namingMembers(given, stack: stack)
            switch stack {
            case .netplan: return try renderNetplan(interfaces, overridesIn: root)
            case .networkManager: return try renderNetworkManager(interfaces, overridesIn: root) + renderLinks(given, overridesIn: root)
            case .networkd: return try renderNetworkd(interfaces, overridesIn: root) + renderLinks(given, overridesIn: root)
            case .ifupdown: return try renderIfupdown(interfaces, overridesIn: root) + renderLinks(given, overridesIn: root)
            case .ifcfg: return try renderIfcfg(interfaces, overridesIn: root) + renderLinks(given, overridesIn: root)
            }
        }

        /// A systemd .link file for each card the document renames (`set-name`), or Imprint names (a member found by
        /// its MAC alone, see `memberName`): udev names the card when it appears, whichever stack configures it then
        /// (netplan writes its own, so the netplan stack needs none).
        private func renderLinks(_ interfaces: [InterfaceConfig], overridesIn root: TargetRoot?) throws -> [RenderedFile] {
            let template = try Template.load("imprint.link", root: root)
            return try interfaces.enumerated().compactMap { index, interface in
                let given = Self.memberName(interface, index: index, stack: stack)
                guard let mac = interface.mac, let setName = interface.setName ?? given else { return nil }
                var card = interface
                card.setName = setName
                let why = given == nil ? "as the document's set-name says"
                    : "so that \(stack.rawValue) can name it as a member of \(interface.membership.map(\.controller.value) ?? "")"
                return RenderedFile(
                    path: "/etc/systemd/network/10-imprint-\(index).link", text: template.render(try values(card, index: index)),
                    mode: 0o644, reason: "names the card \(mac) \(setName), \(why)", secret: false)
            }
        }

        /// One netplan file for every card, Wi-Fi apart from Ethernet.
        private func renderNetplan(_ interfaces: [InterfaceConfig], overridesIn root: TargetRoot?) throws -> [RenderedFile] {
            // Bonds, bridges, VLANs and tunnels come from a pasted document, which the netplan stack writes as given.
            if let device = interfaces.first(where: { $0.virtual != nil || $0.membership != nil }) {
                throw CoreError.invalidValue(
                    field: "network", value: device.card,
                    reason: "is a bond, bridge, VLAN or tunnel (or a member), which Imprint's netplan template does not write; give the "
                        + "unit its netplan document ('imprint inventory set UNIT --netplan-file ...'), which is written as given")
            }
            let items = try interfaces.enumerated().map { index, interface in try values(interface, index: index) }
            let ethernets = items.filter { $0["isWifi"] as? Bool != true }
            let wifis = items.filter { $0["isWifi"] as? Bool == true }
            let text = try Template.load("imprint-netplan.yaml", root: root).render([
                "unit": unit, "ethernets": ethernets, "wifis": wifis,
                "hasEthernets": !ethernets.isEmpty, "hasWifis": !wifis.isEmpty,
            ])
            return [RenderedFile(
                path: "/etc/netplan/90-imprint.yaml", text: text, mode: 0o600,
                reason: "the unit's network for netplan (0600: netplan refuses readable files)",
                secret: interfaces.contains(where: \.holdsSecret))]
        }

        /// One NetworkManager keyfile per card, and one more for each further Wi-Fi network the card may join
        /// (NetworkManager picks among a card's profiles the network in range).
        private func renderNetworkManager(_ interfaces: [InterfaceConfig], overridesIn root: TargetRoot?) throws -> [RenderedFile] {
            let template = try Template.load("imprint.nmconnection", root: root)
            var files: [RenderedFile] = []
            for (index, interface) in interfaces.enumerated() {
                var item = try values(interface, index: index)
                item["id"] = "imprint-\(index)"
                files.append(RenderedFile(
                    path: "/etc/NetworkManager/system-connections/imprint-\(index).nmconnection",
                    text: template.render(item), mode: 0o600,
                    reason: "NetworkManager profile for the card \(interface.card) (0600: NetworkManager ignores readable keyfiles)",
                    secret: interface.holdsSecret))
                for (offset, network) in interface.accessPoints.enumerated().dropFirst() {
                    var more = item.merging(try accessPointValues(network)) { _, new in new }
                    more["id"] = "imprint-\(index)-\(offset)"
                    more["uuid"] = Self.connectionUUID(unit: unit, card: interface, network: network)
                    files.append(RenderedFile(
                        path: "/etc/NetworkManager/system-connections/imprint-\(index)-\(offset).nmconnection",
                        text: template.render(more), mode: 0o600,
                        reason: "NetworkManager profile for the card \(interface.card) on the Wi-Fi network \(network.ssid)",
                        secret: interface.holdsSecret))
                }
            }
            return files
        }

        /// One systemd-networkd file per card (and a .netdev file that makes each bond, bridge, VLAN or tunnel); networkd
        /// cannot join a Wi-Fi network on its own.
        private func renderNetworkd(_ interfaces: [InterfaceConfig], overridesIn root: TargetRoot?) throws -> [RenderedFile] {
            let template = try Template.load("imprint.network", root: root)
            let netdev = try Template.load("imprint.netdev", root: root)
            let devices = try interfaces.enumerated().compactMap { index, interface -> RenderedFile? in
                guard let device = interface.virtual else { return nil }
                return RenderedFile(
                    path: "/etc/systemd/network/10-imprint-\(index).netdev", text: netdev.render(try values(interface, index: index)),
                    mode: 0o644, reason: "makes the \(device.kind.rawValue) \(interface.card)", secret: false)
            }
            return try devices + interfaces.enumerated().map { index, interface in
                if let wifi = interface.wifi {
                    throw CoreError.invalidValue(
                        field: "Wi-Fi SSID", value: wifi.ssid,
                        reason: "systemd-networkd cannot join a Wi-Fi network on its own; force the netplan or "
                            + "networkmanager stack for this group, or remove the Wi-Fi settings of \(interface.card)")
                }
                return RenderedFile(
                    path: "/etc/systemd/network/10-imprint-\(index).network",
                    text: template.render(try values(interface, index: index)), mode: 0o644,
                    reason: "systemd-networkd configuration for the card \(interface.card)", secret: false)
            }
        }

        /// One interfaces.d file with a stanza per card and device, each device after the cards and devices it is
        /// made of.
        private func renderIfupdown(_ interfaces: [InterfaceConfig], overridesIn root: TargetRoot?) throws -> [RenderedFile] {
            let items = try Self.bringUpOrder(interfaces).map { index in
                var item = try values(interfaces[index], index: index)
                item.merge(Self.ifupdownValues(interfaces[index], among: interfaces)) { _, new in new }
                // A member's stanza is its kernel name's, not a MAC pattern's: a bond gives its members its own MAC.
                if interfaces[index].membership != nil { item["mac"] = nil }
                return item
            }
            return [RenderedFile(
                path: "/etc/network/interfaces.d/imprint",
                text: try Template.load("interfaces-imprint", root: root).render(["unit": unit, "interfaces": items]),
                mode: interfaces.contains(where: \.holdsSecret) ? 0o600 : 0o644,
                reason: "ifupdown stanzas for the unit's cards",
                secret: interfaces.contains(where: \.holdsSecret))]
        }

        /// One ifcfg file per card, and a keys file beside it for a Wi-Fi passphrase or an 802.1X password.
        private func renderIfcfg(_ interfaces: [InterfaceConfig], overridesIn root: TargetRoot?) throws -> [RenderedFile] {
            let template = try Template.load("ifcfg-imprint", root: root)
            var files: [RenderedFile] = []
            for (index, interface) in interfaces.enumerated() {
                var item = try values(interface, index: index)
                item["id"] = "imprint-\(index)"
                files.append(RenderedFile(
                    path: "/etc/sysconfig/network-scripts/ifcfg-imprint-\(index)", text: template.render(item),
                    mode: 0o644, reason: "ifcfg file for the card \(interface.card)", secret: false))
                if interface.holdsSecret {
                    files.append(RenderedFile(
                        path: "/etc/sysconfig/network-scripts/keys-imprint-\(index)",
                        text: try Template.load("keys-imprint", root: root).render(item), mode: 0o600,
                        reason: "the passwords for ifcfg-imprint-\(index), readable by root only", secret: true))
                }
            }
            return files
        }

        /// The template values of one interface: the card, its addresses, its name servers and its Wi-Fi network.
        func values(_ interface: InterfaceConfig, index: Int) throws -> [String: Any] {
            var item: [String: Any] = [
                "unit": unit,
                // ifupdown's logical interface: the card's own name when the document binds it by name.
                "id": interface.mac == nil ? interface.name?.value ?? "imprint\(index)" : "imprint\(index)",
                "uuid": Self.connectionUUID(unit: unit, card: interface),
                "type": interface.virtual.map { $0.kind == .tunnel ? "ip-tunnel" : $0.kind.rawValue }
                    ?? interface.modem.map { $0.isGSM ? "gsm" : "cdma" } ?? (interface.wifi == nil ? "ethernet" : "wifi"),
                "isWifi": interface.wifi != nil,
                "isEthernet": interface.wifi == nil && interface.virtual == nil && interface.modem == nil,
                "isVirtual": interface.virtual != nil,
                "isBond": interface.virtual?.kind == .bond,
                "isBridge": interface.virtual?.kind == .bridge,
                "isVLAN": interface.virtual?.kind == .vlan,
                "isTunnel": interface.virtual?.kind == .tunnel,
                "vlanNames": interface.vlans.map(\.value),
            ]
            item.merge(Self.deviceValues(interface)) { _, new in new }
            // Absent, not empty, when not given: an empty string is a true Mustache section.
            if let mac = interface.mac { item["mac"] = mac.value }
            if let name = interface.name { item["name"] = name.value }
            if let setName = interface.setName { item["setName"] = setName.value }
            item.merge(Self.addressValues(interface)) { _, new in new }
            item.merge(Self.nameServerValues(interface)) { _, new in new }
            if let mtu = interface.mtu { item["mtu"] = String(mtu) }
            // The first (or only) access point's values stand at the card's level too, for the stacks that join one
            // network and for templates written before a card could have several.
            let points = try interface.accessPoints.map { network in try accessPointValues(network) }
            if let first = points.first { item.merge(first) { _, new in new } }
            item["accessPoints"] = points
            if let auth = interface.auth { item["auth"] = try authValues(auth, keyManagement: "802.1x") }
            if let modem = interface.modem { item["modem"] = try modemValues(modem) }
            return item
        }

        /// The template values of a modem's connection, each escaped as the stack's file needs it.
        func modemValues(_ modem: Modem) throws -> [String: Any] {
            var item: [String: Any] = ["isGSM": modem.isGSM]
            let settings: [(String, String?, Bool)] = [
                ("apn", modem.apn, false), ("username", modem.username, false), ("password", modem.password, true),
                ("number", modem.number, false), ("networkID", modem.networkID, false), ("deviceID", modem.deviceID, false),
                ("pin", modem.pin, true), ("simID", modem.simID, false), ("simOperatorID", modem.simOperatorID, false),
            ]
            for (key, value, secret) in settings {
                if let value { item[key] = try escape(value, field: "modem \(key)", secret: secret) }
            }
            if let autoConfig = modem.autoConfig { item["autoConfig"] = autoConfig ? "true" : "false" }
            return item
        }

        /// The template values of one Wi-Fi network: its SSID, and its passphrase or 802.1X settings.
        func accessPointValues(_ network: WifiNetwork) throws -> [String: Any] {
            var item: [String: Any] = ["ssid": try escape(network.ssid, field: "Wi-Fi SSID", isSSID: true, secret: false)]
            if let passphrase = network.passphrase {
                item["passphrase"] = try escape(passphrase, field: "Wi-Fi passphrase", secret: true)
            }
            item["hasPassphrase"] = network.passphrase != nil
            item["isOpen"] = network.passphrase == nil && network.eap == nil
            // False, not absent: a section looks a missing key up in the card's values, which hold the first network's.
            item["auth"] = try network.eap.map { eap in try authValues(eap, keyManagement: "eap") } ?? false
            return item
        }

        /// The template values of 802.1X settings, in the shapes the stacks write them: netplan's words, NetworkManager's
        /// (`eap=ttls;`, `phase2-auth=mschapv2`) and wpa_supplicant's and ifcfg's (`TTLS`, `auth=MSCHAPV2`).
        func authValues(_ auth: EAPAuth, keyManagement: String) throws -> [String: Any] {
            var item: [String: Any] = [
                "keyManagement": keyManagement, "method": auth.method.rawValue, "methodUpper": auth.method.upper,
                "identity": try escape(auth.identity, field: "802.1X identity", secret: false),
            ]
            if let anonymous = auth.anonymousIdentity {
                item["anonymousIdentity"] = try escape(anonymous, field: "802.1X anonymous-identity", secret: false)
            }
            if let password = auth.password { item["password"] = try escape(password, field: "802.1X password", secret: true) }
            if let password = auth.clientKeyPassword {
                item["clientKeyPassword"] = try escape(password, field: "802.1X client-key-password", secret: true)
            }
            if let path = auth.caCertificate { item["caCertificate"] = path }
            if let path = auth.clientCertificate { item["clientCertificate"] = path }
            if let path = auth.clientKey { item["clientKey"] = path }
            if let phase2 = auth.phase2Auth {
                item["phase2Auth"] = phase2
                item["phase2Upper"] = phase2.uppercased()
            }
            return item
        }

        /// NetworkManager's bond option and systemd-networkd's [Bond] key for each bond parameter Imprint reads.
        static let bondKeys: [String: (networkManager: String, networkd: String)] = [
            "mode": ("mode", "Mode"), "mii-monitor-interval": ("miimon", "MIIMonitorSec"), "gratuitous-arp": ("num_grat_arp", "GratuitousARP"),
            "lacp-rate": ("lacp_rate", "LACPTransmitRate"), "transmit-hash-policy": ("xmit_hash_policy", "TransmitHashPolicy"),
            "primary": ("primary", ""),
        ]

        /// The template values of a bond, bridge or VLAN, and of a member of a bond or bridge.
        static func deviceValues(_ interface: InterfaceConfig) -> [String: Any] {
            var item: [String: Any] = [:]
            if let membership = interface.membership {
                item["memberOf"] = [
                    "controller": membership.controller.value, "kind": membership.kind.rawValue, "primary": membership.primary,
                    "memberKey": membership.kind == .bond ? "Bond" : "Bridge", "ofBond": membership.kind == .bond,
                ] as [String: Any]
            }
            guard let device = interface.virtual else { return item }
            let parameters = device.parameters.keys.sorted()
            item["bondOptions"] = parameters.compactMap { key in
                bondKeys[key].map { ["key": $0.networkManager, "value": device.parameters[key] ?? ""] }
            }
            // ifcfg's BONDING_OPTS takes the kernel's names as NetworkManager does; ifenslave's options are the same
            // names with dashes (bond-miimon, bond-num-grat-arp).
            item["bondingOpts"] = parameters.compactMap { key in
                bondKeys[key].map { "\($0.networkManager)=\(device.parameters[key] ?? "")" }
            }.joined(separator: " ")
            item["ifupdownBond"] = parameters.compactMap { key in
                bondKeys[key].map { ["key": "bond-" + $0.networkManager.replacingOccurrences(of: "_", with: "-"), "value": device.parameters[key] ?? ""] }
            }
            // The primary member says so in its own .network file (PrimarySlave=); an interval is in milliseconds.
            item["networkdBond"] = parameters.compactMap { key -> [String: String]? in
                guard let name = bondKeys[key]?.networkd, !name.isEmpty, let value = device.parameters[key] else { return nil }
                return ["key": name, "value": key == "mii-monitor-interval" ? value + "ms" : value]
            }
            // systemd-networkd's Kind=: a tunnel's is its mode (sit, gre, ipip).
            item["netdevKind"] = device.kind == .tunnel ? device.parameters["mode"] ?? "" : device.kind.rawValue
            if device.kind == .tunnel, let mode = device.parameters["mode"].flatMap(TunnelMode.init(rawValue:)) {
                item["tunnelMode"] = mode.rawValue
                item["tunnelModeNumber"] = String(mode.networkManagerMode)
                item["tunnelLocal"] = device.parameters["local"] ?? ""
                item["tunnelRemote"] = device.parameters["remote"] ?? ""
                return item
            }
            if let stp = device.parameters["stp"] {
                item["stp"] = stp
                // bridge-utils reads anything but on or yes as off.
                item["stpOnOff"] = stp == "true" ? "on" : "off"
            }
            if let vlanID = device.vlanID { item["vlanID"] = String(vlanID) }
            if let link = device.link { item["vlanLink"] = link.value }
            return item
        }

        /// The template values of an interface's DHCP, addresses and gateways, in the shapes the stacks write them.
        static func addressValues(_ interface: InterfaceConfig) -> [String: Any] {
            let ipv4 = interface.addresses.filter { $0.address.family == .ipv4 }
            let ipv6 = interface.addresses.filter { $0.address.family == .ipv6 }
            let routes = [interface.gateway4, interface.gateway6].compactMap { $0?.value }
            func routeValues(_ list: [Route]) -> [[String: Any]] {
                list.enumerated().map { offset, route in
                    var values: [String: Any] = [
                        "number": offset + 1, "to": route.to?.description ?? "default", "destination": route.destination,
                        "ip": route.family == .ipv4 ? "ip" : "ip -6", "onLink": route.onLink,
                    ]
                    if let via = route.via { values["via"] = via.value }
                    if let metric = route.metric { values["metric"] = String(metric) }
                    if let table = route.table { values["table"] = String(table) }
                    // NetworkManager's routeN_options.
                    let options = [route.onLink ? "onlink=true" : nil, route.table.map { "table=\($0)" }].compactMap { $0 }
                    if !options.isEmpty { values["nmOptions"] = options.joined(separator: ",") }
                    // NetworkManager's routeN=DEST[,GATEWAY[,METRIC]]: a metric without a gateway keeps its place with
                    // the zero address.
                    let none = route.family == .ipv4 ? "0.0.0.0" : "::"
                    values["nmRoute"] = [route.destination, route.via?.value ?? (route.metric == nil ? nil : none), route.metric.map(String.init)]
                        .compactMap { $0 }.joined(separator: ",")
                    return values
                }
            }
            func ruleValues(_ list: [RoutingRule]) -> [[String: Any]] {
                list.enumerated().map { offset, rule in
                    var values: [String: Any] = ["number": offset + 1, "table": String(rule.table), "ip": rule.family == .ipv4 ? "ip" : "ip -6"]
                    if let from = rule.from { values["from"] = from.description }
                    if let to = rule.to { values["to"] = to.description }
                    if let priority = rule.priority { values["priority"] = String(priority) }
                    // ip-rule(8) and NetworkManager's routing-ruleN: "priority P from A to B table T".
                    values["words"] = [rule.priority.map { "priority \($0)" }, rule.from.map { "from \($0)" }, rule.to.map { "to \($0)" },
                                       "table \(rule.table)"].compactMap { $0 }.joined(separator: " ")
                    return values
                }
            }
            let routes4 = interface.routes.filter { $0.family == .ipv4 }
            let routes6 = interface.routes.filter { $0.family == .ipv6 }
            var item: [String: Any] = [
                "dhcp4": interface.usesDHCP4,
                "dhcp6": interface.dhcp6,
                // systemd-networkd's DHCP= value.
                "dhcp": interface.usesDHCP4 ? (interface.dhcp6 ? "yes" : "ipv4") : (interface.dhcp6 ? "ipv6" : "no"),
                "static6": !ipv6.isEmpty,
                // Router advertisements (and DHCPv6 as they say) for NetworkManager's method=auto and ifcfg's
                // IPV6_AUTOCONF: with DHCPv6, or without a static IPv6 address.
                "ipv6Auto": interface.dhcp6 || ipv6.isEmpty,
                "addresses": interface.addresses.map(\.description),
                "hasAddresses": !interface.addresses.isEmpty,
                "ipv4": ipv4.enumerated().map { offset, prefix in
                    ["number": offset + 1, "index": offset, "address": prefix.description,
                     "ip": prefix.address.value, "prefix": prefix.length] as [String: Any]
                },
                "ipv6": ipv6.enumerated().map { offset, prefix in
                    ["number": offset + 1, "address": prefix.description] as [String: Any]
                },
                "firstIPv4": ipv4.first?.description ?? "",
                "moreIPv4": ipv4.dropFirst().map(\.description),
                "firstIPv6": ipv6.first?.description ?? "",
                "moreIPv6List": ipv6.dropFirst().map(\.description),
                "moreIPv6": ipv6.dropFirst().map(\.description).joined(separator: " "),
                "hasMoreIPv6": ipv6.count > 1,
                "routes": routes,
                "hasRoutes": !routes.isEmpty || !interface.routes.isEmpty,
                "noIPv4": interface.noIPv4,
                // Routes beyond the plain default gateways, all and by family, and policy rules.
                "extraRoutes": routeValues(interface.routes),
                "routes4": routeValues(routes4),
                "routes6": routeValues(routes6),
                "rules": ruleValues(interface.routingPolicy),
                "rules4": ruleValues(interface.routingPolicy.filter { $0.family == .ipv4 }),
                "rules6": ruleValues(interface.routingPolicy.filter { $0.family == .ipv6 }),
                "hasRules": !interface.routingPolicy.isEmpty,
                "hasRoutes4": !routes4.isEmpty || interface.routingPolicy.contains { $0.family == .ipv4 },
                "hasRoutes6": !routes6.isEmpty || interface.routingPolicy.contains { $0.family == .ipv6 },
                "optional": interface.optional,
                "offload": Offload.allCases.compactMap { setting in
                    interface.offload[setting].map { on -> [String: Any] in
                        ["key": setting.rawValue, "feature": setting.networkManagerFeature, "value": on ? "true" : "false"]
                    }
                },
                "hasOffload": !interface.offload.isEmpty,
            ]
            if let metric = interface.dhcp4RouteMetric { item["dhcp4RouteMetric"] = String(metric) }
            if let identifier = interface.dhcpIdentifier { item["dhcpIdentifier"] = identifier }
            if let domain = interface.regulatoryDomain { item["regulatoryDomain"] = domain }
            // systemd-networkd's [DHCPv4] section, when something goes in it.
            item["hasDHCP4Section"] = interface.dhcp4RouteMetric != nil || interface.dhcpIdentifier != nil
            if let gateway4 = interface.gateway4 { item["gateway4"] = gateway4.value }
            if let gateway6 = interface.gateway6 { item["gateway6"] = gateway6.value }
            return item
        }

        /// The template values of an interface's DNS servers and search domains, in the shapes the stacks write them.
        static func nameServerValues(_ interface: InterfaceConfig) -> [String: Any] {
            let dns4 = interface.dns.filter { $0.family == .ipv4 }
            let dns6 = interface.dns.filter { $0.family == .ipv6 }
            let search = interface.search.map(\.value)
            return [
                "dns": interface.dns.map(\.value),
                "dnsNumbered": interface.dns.enumerated().map { offset, address in
                    ["number": offset + 1, "address": address.value] as [String: Any]
                },
                "dnsWords": interface.dns.map(\.value).joined(separator: " "),
                "hasDNS": !interface.dns.isEmpty,
                "dns4": dns4.map { $0.value + ";" }.joined(),
                "hasDNS4": !dns4.isEmpty,
                "dns6": dns6.map { $0.value + ";" }.joined(),
                "hasDNS6": !dns6.isEmpty,
                "search": search,
                "searchWords": search.joined(separator: " "),
                "searchList": search.map { $0 + ";" }.joined(),
                "hasSearch": !search.isEmpty,
                "hasNameservers": !interface.dns.isEmpty || !search.isEmpty,
            ]
        }

        /// `text` as the stack's file format must carry it, or an error naming the character it cannot carry.
        /// Control characters never get here (WifiNetwork refuses them).
        /// - Parameters:
        ///   - isSSID: the text is an SSID (NetworkManager reads a ';' in one as a list of bytes).
        ///   - secret: the text is a passphrase or password, which a message masks.
        func escape(_ text: String, field: String, isSSID: Bool = false, secret: Bool) throws(CoreError) -> String {
            let shown = secret ? String(repeating: "*", count: min(text.count, 8)) : text
            func refuse(_ characters: String, _ why: String) throws(CoreError) {
                if let bad = text.first(where: { characters.contains($0) }) {
                    throw .invalidValue(
                        field: field, value: shown,
                        reason: "holds \(quoted(String(bad))), which \(why); change the \(isSSID ? "network's name" : field) "
                            + "or force another network stack")
                }
            }
            switch stack {
            case .netplan:
                // A YAML double-quoted scalar: backslash and quote have escapes.
                return text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            case .networkManager:
                // A GLib key file value: backslash escaped, a leading space as \s; in an SSID a ';' would read as
                // a list of bytes.
                if isSSID { try refuse(";", "a NetworkManager keyfile reads as a list separator in an SSID") }
                var escaped = text.replacingOccurrences(of: "\\", with: "\\\\")
                if escaped.hasPrefix(" ") { escaped = "\\s" + escaped.dropFirst() }
                return escaped
            case .ifupdown:
                // The rest of the line, trimmed, handed to wpa_supplicant inside double quotes.
                try refuse("\"\\", "ifupdown hands on to wpa_supplicant inside double quotes")
                if text.first == " " || text.last == " " {
                    throw .invalidValue(
                        field: field, value: shown,
                        reason: "starts or ends with a space, which ifupdown drops; change it or force another network stack")
                }
                return text
            case .ifcfg:
                // A shell-style single-quoted value: nothing inside is special but the quote itself.
                try refuse("'", "an ifcfg file cannot carry inside its single quotes")
                return text
            case .networkd:
                return text
            }
        }

        /// A UUID for the unit's connection on the card `card`, from its MAC (or, for a card bound by name alone,
        /// its name).
        static func connectionUUID(unit: String, card: InterfaceConfig) -> String {
            if let mac = card.mac { return connectionUUID(unit: unit, mac: mac) }
            return connectionUUID(unit: unit, key: "name:\(card.name?.value ?? "")")
        }

        /// A UUID for the unit's connection on the card to a further Wi-Fi network, from the card and the SSID.
        static func connectionUUID(unit: String, card: InterfaceConfig, network: WifiNetwork) -> String {
            connectionUUID(unit: unit, key: "\(card.mac?.value ?? "name:" + (card.name?.value ?? ""))/ssid:\(network.ssid)")
        }

        /// A UUID for the unit's connection on the card `mac`, the same on every run (a name-based UUID, version 5,
        /// from the unit's name and the MAC), so NetworkManager sees an edited profile, not a new one.
        static func connectionUUID(unit: String, mac: MACAddress) -> String {
            connectionUUID(unit: unit, key: mac.value)
        }

        private static func connectionUUID(unit: String, key: String) -> String {
            // The namespace is Imprint's own, made once at random.
            let namespace: [UInt8] = [
                0x5b, 0x1e, 0x8a, 0x62, 0x3f, 0x0d, 0x4c, 0x41, 0x9a, 0x77, 0x0e, 0x6f, 0x1c, 0x58, 0x2d, 0x93,
            ]
            var hash = Array(Insecure.SHA1.hash(data: namespace + Array("\(unit.lowercased())/\(key)".utf8)).prefix(16))
            hash[6] = (hash[6] & 0x0f) | 0x50
            hash[8] = (hash[8] & 0x3f) | 0x80
            let hex = hash.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
            let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
                String(hex[hex.index(hex.startIndex, offsetBy: range.lowerBound)..<hex.index(hex.startIndex, offsetBy: range.upperBound)])
            }
            return parts.joined(separator: "-")
        }
    }
}

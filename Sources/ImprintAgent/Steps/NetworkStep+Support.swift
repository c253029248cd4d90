import ImprintCore

extension NetworkStep.Renderer {
    /// A netplan setting beyond a plain card that a stack may be unable to carry, as the document names it.
    struct Feature {
        var key: String
        /// The setting as a message shows it, such as `metric: 100, to: 0.0.0.0/0, via: 10.0.0.1`.
        var detail: String
        /// The stacks that carry it, and why the others cannot.
        var carriedBy: Set<NetworkStack>
        var why: String
        /// What to change instead of removing the setting, when that is the way out.
        var remedy: String?
    }

    /// The settings of `interface` that not every stack carries.
    static func features(_ interface: InterfaceConfig) -> [Feature] {
        var features: [Feature] = []
        let all = Set(NetworkStack.allCases)
        // netplan gets the pasted document as given (Imprint's own netplan template refuses devices, see renderNetplan).
        if interface.virtual?.kind == .tunnel {
            features.append(Feature(
                key: "tunnels", detail: interface.card, carriedBy: [.netplan, .networkManager, .networkd],
                why: "Imprint does not write ifupdown or ifcfg tunnels"))
        }
        if let name = interface.name, let device = interface.virtual, device.kind == .vlan, let id = device.vlanID,
            let link = device.link, name.value.contains("."), name.value != "\(link).\(id)"
        {
            features.append(Feature(
                key: "vlans", detail: name.value, carriedBy: all.subtracting([.ifupdown]),
                why: "ifupdown reads a VLAN name with a dot as PARENT.ID, and this one is not \(link).\(id)",
                remedy: "name the VLAN \(link).\(id) or vlan\(id)"))
        }
        let dns4 = interface.dns.filter { $0.family == .ipv4 }
        if interface.noIPv4, interface.membership == nil, !dns4.isEmpty {
            features.append(Feature(
                key: "nameservers", detail: dns4.map(\.value).joined(separator: ", "), carriedBy: all.subtracting([.networkManager]),
                why: "NetworkManager takes no IPv4 DNS server on a card without IPv4 (its ipv4.method=disabled refuses dns=)",
                remedy: "give the card an IPv4 address or dhcp4, or name only IPv6 servers on it"))
        }
        if interface.modem != nil {
            features.append(Feature(
                key: "modems", detail: interface.card, carriedBy: [.netplan, .networkManager],
                why: "a modem is driven by ModemManager through NetworkManager; systemd-networkd, ifupdown and ifcfg do not dial one"))
        }
        if let route = interface.routes.first {
            features.append(Feature(
                key: "routes", detail: route.summary, carriedBy: all.subtracting([.ifcfg]),
                why: "an ifcfg file carries one default gateway per family; other routes go in route files keyed by the card's "
                    + "name, which a card found by its MAC does not have when the file is written"))
        }
        if let rule = interface.routingPolicy.first {
            var carriers = all.subtracting([.ifcfg])
            var why = "ifcfg files carry no policy routing rules"
            if interface.routingPolicy.contains(where: { $0.priority == nil }) {
                carriers.remove(.networkManager)
                why += ", and NetworkManager needs a 'priority' on every rule (give one)"
            }
            features.append(Feature(key: "routing-policy", detail: rule.summary, carriedBy: carriers, why: why))
        }
        if let metric = interface.dhcp4RouteMetric {
            features.append(Feature(
                key: "dhcp4-overrides", detail: "route-metric: \(metric)", carriedBy: all.subtracting([.ifcfg]),
                why: "the ifcfg network scripts have no metric for the routes DHCP gives"))
        }
        if let identifier = interface.dhcpIdentifier {
            features.append(Feature(
                key: "dhcp-identifier", detail: identifier, carriedBy: [.netplan, .networkManager, .networkd],
                why: "ifupdown's and ifcfg's DHCP clients are told no client identifier by their files"))
        }
        if interface.optional {
            // ifupdown's way (allow-hotplug without auto) waits for a card to appear, which a bond, bridge or VLAN never does.
            let virtual = interface.virtual != nil
            features.append(Feature(
                key: "optional", detail: "true", carriedBy: all.subtracting(virtual ? [.ifcfg, .ifupdown] : [.ifcfg]),
                why: "the ifcfg network service waits for every ONBOOT card"
                    + (virtual ? ", and ifupdown makes a bond, bridge or VLAN only from an 'auto' line, which the boot waits for" : "")))
        }
        if let domain = interface.regulatoryDomain {
            features.append(Feature(
                key: "regulatory-domain", detail: domain, carriedBy: [.netplan],
                why: "only netplan sets the Wi-Fi regulatory domain (with 'iw reg set' at boot); the other stacks leave it to "
                    + "the kernel's default or the image's /etc/default/crda"))
        }
        if let auth = interface.auth {
            features.append(Feature(
                key: "auth", detail: "802.1x \(auth.method.rawValue)", carriedBy: all.subtracting([.networkd]),
                why: "systemd-networkd does not authenticate a card itself (netplan starts wpa_supplicant beside it)"))
        }
        if interface.accessPoints.count > 1 {
            features.append(Feature(
                key: "access-points", detail: interface.accessPoints.map(\.ssid).joined(separator: ", "),
                carriedBy: [.netplan, .networkManager],
                why: "ifupdown and ifcfg join one Wi-Fi network per card (and systemd-networkd none)"))
        }
        if let hashed = ([interface.auth] + interface.accessPoints.map(\.eap)).compactMap({ $0 }).first(where: \.passwordIsHash) {
            features.append(Feature(
                key: "password", detail: "hash: (\(hashed.method.rawValue))", carriedBy: [.netplan],
                why: "only netplan hands wpa_supplicant a password's NT hash; NetworkManager, ifupdown and ifcfg need the password itself"))
        }
        if ([interface.auth] + interface.accessPoints.map(\.eap)).contains(where: { $0?.method == .ttls && $0?.phase2Auth == nil }) {
            features.append(Feature(
                key: "phase2-auth", detail: "none for ttls", carriedBy: [.netplan, .ifupdown],
                why: "NetworkManager (which also reads ifcfg files) needs the inner method of TTLS, where wpa_supplicant tries them",
                remedy: "add 'phase2-auth' (mschapv2 or pap, as the network's administrators say)"))
        }
        if let setting = Offload.allCases.first(where: { interface.offload[$0] != nil }) {
            features.append(Feature(
                key: setting.rawValue, detail: "offload settings", carriedBy: [.netplan, .networkManager],
                why: "systemd-networkd, ifupdown and ifcfg set offloads only outside their own files (a udev .link file, an "
                    + "ethtool hook), which Imprint does not write for them"))
        }
        return features
    }

    /// Refuses, at plan time, an interface with a setting `stack` cannot carry: the message names the setting, the
    /// stack and the stacks that carry it.
    static func checkExpressible(_ interface: InterfaceConfig, on stack: NetworkStack) throws(CoreError) {
        for feature in features(interface) where !feature.carriedBy.contains(stack) {
            let others = NetworkStack.allCases.filter { feature.carriedBy.contains($0) }.map(\.rawValue)
            throw .invalidValue(
                field: "network \(feature.key) of \(interface.card)", value: feature.detail,
                reason: "cannot be written for the \(stack.rawValue) stack: \(feature.why); force \(others.joined(separator: " or ")) "
                    + "for this unit or its group (--network-stack \(others.first ?? "netplan")), or \(feature.remedy ?? "remove '\(feature.key)'")")
        }
    }
}

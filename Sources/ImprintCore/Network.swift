/// The network stacks Imprint can render a unit's configuration for.
public enum NetworkStack: String, Sendable, Codable, CaseIterable {
    case netplan
    case networkManager = "networkmanager"
    case networkd
    case ifupdown
    case ifcfg

    public init(_ text: String) throws(CoreError) {
        guard let stack = NetworkStack(rawValue: text.trimmingSpaces().lowercased()) else {
            throw .invalidValue(
                field: "network stack", value: text,
                reason: "use one of \(NetworkStack.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = stack
    }
}

/// How an interface gets its IPv4 address when the unit's record gives none.
public enum NetworkMode: String, Sendable, Codable, CaseIterable {
    case dhcp
    case `static`

    public init(_ text: String) throws(CoreError) {
        guard let mode = NetworkMode(rawValue: text.trimmingSpaces().lowercased()) else {
            throw .invalidValue(field: "network mode", value: text, reason: "use 'dhcp' or 'static'")
        }
        self = mode
    }
}

/// A Wi-Fi network an interface joins: SSID and optional WPA passphrase.
public struct WifiNetwork: Hashable, Sendable, Codable {
    public var ssid: String
    public var passphrase: String?

    /// Validates an SSID (1 to 32 bytes, no control characters) and a WPA passphrase (8 to 63 printable ASCII
    /// characters, or 64 hex digits).
    public init(ssid: String, passphrase: String?) throws(CoreError) {
        let ssid = try FieldText.check(ssid, field: "Wi-Fi SSID", maxLength: 32)
        guard !ssid.isEmpty, ssid.utf8.count <= 32 else {
            throw .invalidValue(field: "Wi-Fi SSID", value: ssid, reason: "must be 1 to 32 bytes long")
        }
        self.ssid = ssid
        if let passphrase, !passphrase.isEmpty {
            let printable = passphrase.unicodeScalars.allSatisfy { (0x20...0x7e).contains($0.value) }
            let hexKey = passphrase.count == 64 && passphrase.allSatisfy(\.isHexDigit)
            guard hexKey || (printable && (8...63).contains(passphrase.count)) else {
                throw .invalidValue(
                    field: "Wi-Fi passphrase", value: String(repeating: "*", count: min(passphrase.count, 8)),
                    reason: "WPA needs 8 to 63 printable ASCII characters, or 64 hex digits")
            }
            self.passphrase = passphrase
        } else {
            self.passphrase = nil
        }
    }
}

/// A kernel network interface name, such as `enp3s0` or `wlp2s0`: what netplan calls a card when a document names it
/// instead of matching its MAC, and what `set-name` renames a card to.
public struct InterfaceName: Hashable, Sendable, TextValue, CustomStringConvertible, Comparable {
    public let value: String

    /// Accepts 1 to 15 letters, digits, `-`, `_` and `.` (the kernel's limit, in characters every stack's file
    /// carries unquoted); refuses loopback, which belongs to the image.
    public init(_ text: String) throws(CoreError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        guard (1...15).contains(text.count), text.allSatisfy({ allowed.contains($0) }), text != ".", text != ".." else {
            throw .invalidValue(
                field: "interface name", value: text,
                reason: "must be 1 to 15 letters, digits, '-', '_' or '.', such as enp3s0; name one card, not a pattern")
        }
        guard text != "lo" else {
            throw .invalidValue(field: "interface name", value: text, reason: "is loopback, which the image configures; remove it")
        }
        value = text
    }

    public var description: String { value }
    public var text: String { value }
    public static func < (lhs: InterfaceName, rhs: InterfaceName) -> Bool { lhs.value < rhs.value }
}

/// One interface of a unit, bound to its card by MAC address or, as a netplan document may say, by the card's
/// kernel name: DHCP for IPv4 when it has no IPv4 address, static otherwise; DHCPv6 on request, beside the
/// router's advertisements and any static IPv6 address.
public struct InterfaceConfig: Hashable, Sendable, Codable {
    /// The card's MAC; nil for a card bound by its name alone.
    public var mac: MACAddress?
    /// The card's kernel name, when the document binds it by name (a netplan id without `match:`, or `match: name`).
    public var name: InterfaceName?
    /// The name the card bound by `mac` is given (netplan's `set-name`).
    public var setName: InterfaceName?
    public var addresses: [IPPrefix]
    /// Whether the card asks a DHCPv6 server for an address (netplan's `dhcp6: true`).
    public var dhcp6: Bool
    public var gateway4: IPAddress?
    public var gateway6: IPAddress?
    public var dns: [IPAddress]
    public var search: [DomainName]
    public var mtu: Int?
    public var wifi: WifiNetwork?

    /// Builds an interface and checks that its parts agree: it is bound to a card (by MAC, by name or both), a
    /// renamed card is bound by MAC, each gateway lies in a subnet of the interface's own addresses (an IPv6
    /// link-local gateway excepted), and the MTU is one the kernel accepts.
    public init(
        mac: MACAddress?, name: InterfaceName? = nil, setName: InterfaceName? = nil, addresses: [IPPrefix] = [],
        dhcp6: Bool = false, gateway4: IPAddress? = nil,
        gateway6: IPAddress? = nil, dns: [IPAddress] = [], search: [DomainName] = [], mtu: Int? = nil,
        wifi: WifiNetwork? = nil
    ) throws(CoreError) {
        self.mac = mac
        self.name = name
        self.setName = setName
        self.addresses = addresses
        self.dhcp6 = dhcp6
        self.gateway4 = gateway4
        self.gateway6 = gateway6
        self.dns = dns
        self.search = search
        self.mtu = mtu
        self.wifi = wifi
        guard mac != nil || name != nil else {
            throw .invalidValue(field: "interface", value: addresses.map(\.description).joined(separator: " "),
                                reason: "is bound to no card; give its MAC address or its name")
        }
        if let setName, mac == nil {
            throw .invalidValue(
                field: "set-name", value: setName.value,
                reason: "renames a card found by its MAC; add 'match: {macaddress: ...}' for the card \(name?.value ?? "")")
        }
        try check(gateway: gateway4, family: .ipv4, field: "IPv4 gateway")
        try check(gateway: gateway6, family: .ipv6, field: "IPv6 gateway")
        if let mtu {
            // The kernel turns IPv6 off on a link below 1280 bytes.
            let minimum = dhcp6 || addresses.contains { $0.address.family == .ipv6 } ? 1280 : 576
            guard (minimum...9216).contains(mtu) else {
                throw .invalidValue(field: "MTU", value: String(mtu), reason: "must be \(minimum) to 9216 for this interface")
            }
        }
        if Set(addresses).count != addresses.count {
            throw .invalidValue(
                field: "addresses", value: addresses.map(\.description).joined(separator: " "), reason: "lists an address twice")
        }
    }

    /// The card as messages and notes name it: its MAC, or its name when it is bound by name alone.
    public var card: String { mac?.value ?? name?.value ?? "" }

    /// DHCP for IPv4 when no static IPv4 address is given.
    public var usesDHCP4: Bool { !addresses.contains { $0.address.family == .ipv4 } }

    private func check(gateway: IPAddress?, family: IPAddress.Family, field: String) throws(CoreError) {
        guard let gateway else { return }
        guard gateway.family == family else {
            throw .invalidValue(field: field, value: gateway.value, reason: "is not an \(family == .ipv4 ? "IPv4" : "IPv6") address")
        }
        let subnets = addresses.filter { $0.address.family == family }
        if subnets.isEmpty {
            throw .invalidValue(
                field: field, value: gateway.value,
                reason: "is set but the interface \(card) has no static \(family == .ipv4 ? "IPv4" : "IPv6") address")
        }
        if gateway.isLinkLocal { return }
        if !subnets.contains(where: { gateway.isInside($0) }) {
            throw .invalidValue(
                field: field, value: gateway.value,
                reason: "is outside the subnet of \(subnets.map(\.description).joined(separator: ", ")); "
                    + "a gateway must be reachable on the link")
        }
    }
}

extension InterfaceConfig {
    private enum CodingKeys: String, CodingKey {
        case mac, name, setName, addresses, dhcp6, gateway4, gateway6, dns, search, mtu, wifi
    }

    /// Decodes through the validating initializer, so a gateway outside its subnet in pasted JSON is refused too.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            mac: container.decodeIfPresent(MACAddress.self, forKey: .mac),
            name: container.decodeIfPresent(InterfaceName.self, forKey: .name),
            setName: container.decodeIfPresent(InterfaceName.self, forKey: .setName),
            addresses: container.decodeIfPresent([IPPrefix].self, forKey: .addresses) ?? [],
            dhcp6: container.decodeIfPresent(Bool.self, forKey: .dhcp6) ?? false,
            gateway4: container.decodeIfPresent(IPAddress.self, forKey: .gateway4),
            gateway6: container.decodeIfPresent(IPAddress.self, forKey: .gateway6),
            dns: container.decodeIfPresent([IPAddress].self, forKey: .dns) ?? [],
            search: container.decodeIfPresent([DomainName].self, forKey: .search) ?? [],
            mtu: container.decodeIfPresent(Int.self, forKey: .mtu),
            wifi: container.decodeIfPresent(WifiNetwork.self, forKey: .wifi))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(mac, forKey: .mac)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(setName, forKey: .setName)
        if !addresses.isEmpty { try container.encode(addresses, forKey: .addresses) }
        if dhcp6 { try container.encode(dhcp6, forKey: .dhcp6) }
        try container.encodeIfPresent(gateway4, forKey: .gateway4)
        try container.encodeIfPresent(gateway6, forKey: .gateway6)
        if !dns.isEmpty { try container.encode(dns, forKey: .dns) }
        if !search.isEmpty { try container.encode(search, forKey: .search) }
        try container.encodeIfPresent(mtu, forKey: .mtu)
        try container.encodeIfPresent(wifi, forKey: .wifi)
    }
}

extension WifiNetwork {
    private enum CodingKeys: String, CodingKey { case ssid, passphrase }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            ssid: container.decode(String.self, forKey: .ssid),
            passphrase: container.decodeIfPresent(String.self, forKey: .passphrase))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ssid, forKey: .ssid)
        try container.encodeIfPresent(passphrase, forKey: .passphrase)
    }
}

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

/// How a card proves who it is before the network lets it in: IEEE 802.1X with EAP, as netplan's `auth` says it
/// (`key-management: 802.1x` on a wired card, `eap` on a Wi-Fi access point: WPA-Enterprise, eduroam). The
/// certificates and the private key are files the image carries, named by their paths in the unit's root.
public struct EAPAuth: Hashable, Sendable, Codable {
    /// The EAP methods every stack Imprint writes carries (netplan's `leap` and `pwd` are refused).
    public enum Method: String, Hashable, Sendable, Codable, CaseIterable {
        case tls, peap, ttls

        /// The name wpa_supplicant and the ifcfg files use.
        public var upper: String { rawValue.uppercased() }
    }

    /// The inner authentications netplan's `phase2-auth` takes for PEAP and TTLS.
    public static let phase2Methods = ["mschapv2", "mschap", "pap", "chap", "gtc", "md5"]

    public var method: Method
    public var identity: String
    public var anonymousIdentity: String?
    /// A secret: the password of PEAP or TTLS, or `hash:` and the password's NT hash (netplan and wpa_supplicant).
    public var password: String?
    public var caCertificate: String?
    public var clientCertificate: String?
    public var clientKey: String?
    /// A secret: the passphrase of the encrypted client key.
    public var clientKeyPassword: String?
    public var phase2Auth: String?

    /// Checks what each method needs: an identity always (NetworkManager and wpa_supplicant refuse none); a password
    /// for PEAP and TTLS (a unit at first boot has nobody to ask); a client certificate and key for TLS. Paths are
    /// absolute paths in the unit's root, of characters every stack's file carries unquoted.
    public init(
        method: Method, identity: String, anonymousIdentity: String? = nil, password: String? = nil,
        caCertificate: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil,
        clientKeyPassword: String? = nil, phase2Auth: String? = nil
    ) throws(CoreError) {
        self.method = method
        self.identity = try FieldText.check(identity, field: "802.1X identity", maxLength: 253)
        guard !self.identity.isEmpty else {
            throw .invalidValue(field: "802.1X identity", value: identity, reason: "is empty; give the account the network knows the unit by")
        }
        self.anonymousIdentity = try anonymousIdentity.map { text throws(CoreError) in
            try FieldText.check(text, field: "802.1X anonymous-identity", maxLength: 253)
        }
        self.password = try password.map { text throws(CoreError) in try Self.secret(text, field: "802.1X password") }
        self.clientKeyPassword = try clientKeyPassword.map { text throws(CoreError) in
            try Self.secret(text, field: "802.1X client-key-password")
        }
        self.caCertificate = try caCertificate.map { path throws(CoreError) in try Self.path(path, field: "802.1X ca-certificate") }
        self.clientCertificate = try clientCertificate.map { path throws(CoreError) in
            try Self.path(path, field: "802.1X client-certificate")
        }
        self.clientKey = try clientKey.map { path throws(CoreError) in try Self.path(path, field: "802.1X client-key") }
        if let phase2Auth {
            guard Self.phase2Methods.contains(phase2Auth.lowercased()) else {
                throw .invalidValue(
                    field: "802.1X phase2-auth", value: phase2Auth, reason: "must be one of \(Self.phase2Methods.joined(separator: ", "))")
            }
            guard method != .tls else {
                throw .invalidValue(field: "802.1X phase2-auth", value: phase2Auth, reason: "goes with peap or ttls, not tls; remove it")
            }
            self.phase2Auth = phase2Auth.lowercased()
        }
        switch method {
        case .tls:
            guard clientCertificate != nil, clientKey != nil else {
                throw .invalidValue(
                    field: "802.1X method", value: "tls", reason: "needs 'client-certificate' and 'client-key' (paths in the image)")
            }
        case .peap, .ttls:
            guard self.password != nil else {
                throw .invalidValue(
                    field: "802.1X method", value: method.rawValue,
                    reason: "needs a 'password': a unit at first boot has nobody to ask for one")
            }
        }
    }

    /// Whether the password is netplan's `hash:` form (the NT hash of an MSCHAPv2 password).
    public var passwordIsHash: Bool { password?.hasPrefix("hash:") ?? false }

    /// Whether a stack's file for this card holds a secret (a password or a key's passphrase).
    public var holdsSecret: Bool { password != nil || clientKeyPassword != nil }

    /// A password: no control characters, at most 256 characters; never shown in a message.
    private static func secret(_ text: String, field: String) throws(CoreError) -> String {
        guard !text.isEmpty, text.count <= 256, !text.unicodeScalars.contains(where: FieldText.isForbidden) else {
            throw .invalidValue(
                field: field, value: String(repeating: "*", count: min(text.count, 8)),
                reason: "must be 1 to 256 characters with no line breaks or tabs")
        }
        return text
    }

    private static func path(_ text: String, field: String) throws(CoreError) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./+@")
        guard text.hasPrefix("/"), text.count <= 255, text.allSatisfy({ allowed.contains($0) }),
            !text.split(separator: "/").contains(where: { $0 == ".." })
        else {
            throw .invalidValue(
                field: field, value: text,
                reason: "must be an absolute path in the image of letters, digits and '-_./+@', such as /etc/ssl/certs/campus-ca.pem")
        }
        return text
    }
}

/// A mobile broadband modem's connection (netplan's `modems`): what ModemManager, through NetworkManager, dials with.
/// A GSM (3G/LTE) modem has an APN or one of the SIM settings; a modem with none of them is a CDMA one.
public struct Modem: Hashable, Sendable, Codable {
    public var apn: String?
    public var username: String?
    /// The secret the carrier's network asks for; never shown.
    public var password: String?
    /// The number dialled (`*99#`).
    public var number: String?
    /// Only this network (MCC and MNC, such as `24005`).
    public var networkID: String?
    /// Only the modem of this ModemManager device id.
    public var deviceID: String?
    /// The SIM's PIN; never shown.
    public var pin: String?
    /// Only this SIM (its ICCID), or a SIM of this operator (MCC and MNC).
    public var simID: String?
    public var simOperatorID: String?
    /// Let ModemManager pick the APN and credentials from its provider database.
    public var autoConfig: Bool?

    public init() {}

    public var isGSM: Bool {
        apn != nil || autoConfig != nil || deviceID != nil || networkID != nil || pin != nil || simID != nil || simOperatorID != nil
    }

    public var holdsSecret: Bool { password != nil || pin != nil }
}

/// A Wi-Fi network an interface joins: SSID and an optional WPA passphrase (WPA-Personal) or 802.1X
/// authentication (WPA-Enterprise); neither is an open network.
public struct WifiNetwork: Hashable, Sendable, Codable {
    public var ssid: String
    public var passphrase: String?
    /// WPA-Enterprise: how the card authenticates (netplan's `key-management: eap`).
    public var eap: EAPAuth?

    /// Validates an SSID (1 to 32 bytes, no control characters) and a WPA passphrase (8 to 63 printable ASCII
    /// characters, or 64 hex digits).
    public init(ssid: String, passphrase: String?, eap: EAPAuth? = nil) throws(CoreError) {
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
        if eap != nil && self.passphrase != nil {
            throw .invalidValue(
                field: "Wi-Fi network", value: ssid, reason: "has both a WPA passphrase and 802.1X; give one ('psk' or 'eap')")
        }
        self.eap = eap
    }

    /// Whether the network's settings hold a secret.
    public var holdsSecret: Bool { passphrase != nil || eap?.holdsSecret == true }
}

/// A route of an interface beyond its plain default gateways (`gateway4`/`gateway6`): one with a metric, an
/// on-link gateway outside the interface's subnets, a destination other than the default, a routing table, or a
/// second default route (several gateways told apart by their metrics).
public struct Route: Hashable, Sendable, Codable {
    /// The destination; nil for the default route of `family`.
    public var to: IPPrefix?
    public var via: IPAddress?
    public var family: IPAddress.Family
    public var metric: Int?
    /// The gateway is on the link even though no address of the interface covers it.
    public var onLink: Bool
    public var table: Int?

    /// Checks that the destination and gateway are of one family, and that a route has a gateway or a destination.
    public init(
        to: IPPrefix?, via: IPAddress?, family: IPAddress.Family? = nil, metric: Int? = nil, onLink: Bool = false,
        table: Int? = nil
    ) throws(CoreError) {
        guard let family = family ?? to?.address.family ?? via?.family else {
            throw .invalidValue(field: "route", value: "default", reason: "needs a gateway ('via') or a destination ('to')")
        }
        if let to, to.address.family != family {
            throw .invalidValue(field: "route to", value: to.description, reason: "is not of the route's family")
        }
        if let via, via.family != family {
            throw .invalidValue(
                field: "route via", value: via.value, reason: "is not of the same family as the destination \(to?.description ?? "default")")
        }
        if let metric, !(0...4_294_967_295).contains(metric) {
            throw .invalidValue(field: "route metric", value: String(metric), reason: "must be 0 to 4294967295")
        }
        if let table, !(1...4_294_967_295).contains(table) || [253, 254, 255].contains(table) {
            throw .invalidValue(
                field: "route table", value: String(table),
                reason: "must be 1 to 4294967295 and not a table the kernel keeps (253 default, 254 main, 255 local)")
        }
        self.to = to
        self.via = via
        self.family = family
        self.metric = metric
        self.onLink = onLink
        self.table = table
    }

    /// The destination as the stacks write it: `0.0.0.0/0` or `::/0` for the default route.
    public var destination: String { to?.description ?? (family == .ipv4 ? "0.0.0.0/0" : "::/0") }

    /// The route as messages show it, as netplan writes it.
    public var summary: String {
        ["to: \(to?.description ?? "default")", via.map { "via: \($0)" }, metric.map { "metric: \($0)" },
            onLink ? "on-link: true" : nil, table.map { "table: \($0)" }].compactMap { $0 }.joined(separator: ", ")
    }
}

/// A policy routing rule (netplan's `routing-policy`): traffic from or to a prefix looks up another routing table.
public struct RoutingRule: Hashable, Sendable, Codable {
    public var from: IPPrefix?
    public var to: IPPrefix?
    public var table: Int
    public var priority: Int?

    public init(from: IPPrefix?, to: IPPrefix?, table: Int, priority: Int? = nil) throws(CoreError) {
        guard from != nil || to != nil else {
            throw .invalidValue(field: "routing-policy", value: "table: \(table)", reason: "needs 'from' or 'to'")
        }
        if let from, let to, from.address.family != to.address.family {
            throw .invalidValue(field: "routing-policy", value: "\(from) \(to)", reason: "'from' and 'to' are of different families")
        }
        guard (1...4_294_967_295).contains(table) else {
            throw .invalidValue(field: "routing-policy table", value: String(table), reason: "must be 1 to 4294967295")
        }
        if let priority, !(0...4_294_967_295).contains(priority) {
            throw .invalidValue(field: "routing-policy priority", value: String(priority), reason: "must be 0 to 4294967295")
        }
        self.from = from
        self.to = to
        self.table = table
        self.priority = priority
    }

    public var family: IPAddress.Family { from?.address.family ?? to?.address.family ?? .ipv4 }

    /// The rule as messages show it, as netplan writes it.
    public var summary: String {
        [from.map { "from: \($0)" }, to.map { "to: \($0)" }, "table: \(table)", priority.map { "priority: \($0)" }]
            .compactMap { $0 }.joined(separator: ", ")
    }
}

/// The offload settings netplan knows (`receive-checksum-offload: false`...), which a card's driver applies.
public enum Offload: String, Sendable, Codable, CaseIterable {
    case receiveChecksum = "receive-checksum-offload"
    case transmitChecksum = "transmit-checksum-offload"
    case tcpSegmentation = "tcp-segmentation-offload"
    case tcp6Segmentation = "tcp6-segmentation-offload"
    case genericSegmentation = "generic-segmentation-offload"
    case genericReceive = "generic-receive-offload"
    case largeReceive = "large-receive-offload"

    /// NetworkManager's `[ethtool]` feature key.
    public var networkManagerFeature: String {
        switch self {
        case .receiveChecksum: return "feature-rx"
        case .transmitChecksum: return "feature-tx"
        case .tcpSegmentation: return "feature-tx-tcp-segmentation"
        case .tcp6Segmentation: return "feature-tx-tcp6-segmentation"
        case .genericSegmentation: return "feature-gso"
        case .genericReceive: return "feature-gro"
        case .largeReceive: return "feature-lro"
        }
    }
}

/// A bond, bridge, VLAN or IP tunnel a document defines: a device the stack creates, named by its id (`bond0`),
/// with the cards (or other devices) that are its members.
public struct VirtualDevice: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        case bond, bridge, vlan, tunnel

        /// The netplan section that defines it.
        public var section: String { rawValue + "s" }
    }

    public var kind: Kind
    /// A bond's or bridge's `parameters`, by netplan's names (`mode`, `mii-monitor-interval`, `stp`...), checked; a
    /// tunnel's `mode`, `local` and `remote`.
    public var parameters: [String: String]
    /// A VLAN's id (1 to 4094) and the device it is tagged on, by its kernel name.
    public var vlanID: Int?
    public var link: InterfaceName?

    public init(kind: Kind, parameters: [String: String] = [:], vlanID: Int? = nil, link: InterfaceName? = nil) {
        self.kind = kind
        self.parameters = parameters
        self.vlanID = vlanID
        self.link = link
    }
}

/// The IP tunnels Imprint renders (netplan's `mode`), with NetworkManager's number for each; the outer addresses are
/// IPv4 for all three.
public enum TunnelMode: String, Sendable, CaseIterable {
    case ipip, gre, sit

    /// NetworkManager's `ip-tunnel.mode`.
    public var networkManagerMode: Int {
        switch self {
        case .ipip: return 1
        case .gre: return 2
        case .sit: return 3
        }
    }
}

/// A card's (or device's) place in a bond or bridge: it carries no address of its own.
public struct Membership: Hashable, Sendable, Codable {
    public var controller: InterfaceName
    public var kind: VirtualDevice.Kind
    /// The bond's primary member (netplan's `parameters: {primary: ...}`).
    public var primary: Bool

    public init(controller: InterfaceName, kind: VirtualDevice.Kind, primary: Bool = false) {
        self.controller = controller
        self.kind = kind
        self.primary = primary
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
    /// The Wi-Fi networks the card joins, in the document's order; empty for a wired card.
    public var accessPoints: [WifiNetwork] = []
    /// The first Wi-Fi network (the one the stacks that join a single network write).
    public var wifi: WifiNetwork? {
        get { accessPoints.first }
        set { accessPoints = newValue.map { [$0] } ?? [] }
    }
    /// Wired 802.1X: how the card authenticates to the switch port (netplan's `auth` on an ethernet).
    public var auth: EAPAuth?
    /// A mobile broadband modem's connection, for a card in netplan's `modems`.
    public var modem: Modem?
    /// Whether the card asks a DHCPv4 server for its address: by default exactly when it has no static IPv4
    /// address; false without one is a card with no IPv4 at all (netplan's `dhcp4: false`, a bond's member).
    public var usesDHCP4: Bool
    /// Routes beyond the plain default gateways: metrics, on-link gateways, other destinations, tables.
    public var routes: [Route] = []
    /// Policy routing rules (netplan's `routing-policy`).
    public var routingPolicy: [RoutingRule] = []
    /// The metric of the routes DHCPv4 gives (netplan's `dhcp4-overrides: {route-metric: N}`).
    public var dhcp4RouteMetric: Int?
    /// What the DHCP client identifies itself by: `mac` or `duid` (netplan's `dhcp-identifier`).
    public var dhcpIdentifier: String?
    /// The boot does not wait for this card (netplan's `optional: true`).
    public var optional: Bool = false
    /// The Wi-Fi regulatory domain, a two-letter country code (netplan's `regulatory-domain`).
    public var regulatoryDomain: String?
    /// Offload settings the card's driver is told, on or off.
    public var offload: [Offload: Bool] = [:]
    /// The bond, bridge or VLAN this interface is, rather than a card; its name is `name`.
    public var virtual: VirtualDevice?
    /// The bond or bridge this interface is a member of.
    public var membership: Membership?
    /// The VLANs tagged on this interface, by name.
    public var vlans: [InterfaceName] = []

    /// Builds an interface and checks that its parts agree: it is bound to a card (by MAC, by name or both), a
    /// renamed card is bound by MAC, each gateway lies in a subnet of the interface's own addresses (an IPv6
    /// link-local gateway excepted), and the MTU is one the kernel accepts.
    public init(
        mac: MACAddress?, name: InterfaceName? = nil, setName: InterfaceName? = nil, addresses: [IPPrefix] = [],
        dhcp4: Bool? = nil, dhcp6: Bool = false, gateway4: IPAddress? = nil,
        gateway6: IPAddress? = nil, dns: [IPAddress] = [], search: [DomainName] = [], mtu: Int? = nil,
        wifi: WifiNetwork? = nil
    ) throws(CoreError) {
        let hasIPv4 = addresses.contains { $0.address.family == .ipv4 }
        if dhcp4 == true && hasIPv4 {
            throw .invalidValue(
                field: "dhcp4", value: "true",
                reason: "with static IPv4 addresses; Imprint uses DHCP for IPv4 exactly when there is no static IPv4 address")
        }
        self.usesDHCP4 = dhcp4 ?? !hasIPv4
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
        self.accessPoints = wifi.map { [$0] } ?? []
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

    /// The kernel name the card (or device) has once it is up: its `set-name`, else the name the document binds it
    /// by; nil for a card found by its MAC alone.
    public var kernelName: InterfaceName? { setName ?? name }

    /// Whether a stack's file for this card holds a secret: a Wi-Fi passphrase, an 802.1X password or a key's
    /// passphrase. Such a file is 0600 and shown in no diff, log or JSON.
    public var holdsSecret: Bool {
        accessPoints.contains(where: \.holdsSecret) || auth?.holdsSecret == true || modem?.holdsSecret == true
    }

    /// Whether the card has no IPv4 at all: no DHCPv4 and no static IPv4 address.
    public var noIPv4: Bool { !usesDHCP4 && !addresses.contains { $0.address.family == .ipv4 } }

    /// Checks the routes and rules against the interface: a gateway must lie in a subnet of the interface's own
    /// addresses (or be IPv6 link-local), unless the route says `on-link`; a route of a family needs that family
    /// configured on the card.
    public func checkRoutes() throws(CoreError) {
        for route in routes {
            guard let via = route.via, !route.onLink, !via.isLinkLocal else { continue }
            let subnets = addresses.filter { $0.address.family == route.family }
            let dynamic = route.family == .ipv4 ? usesDHCP4 : true
            if subnets.isEmpty && dynamic { continue }
            if !subnets.contains(where: { via.isInside($0) }) {
                throw .invalidValue(
                    field: "route", value: route.summary,
                    reason: "its gateway is outside the subnet of \(subnets.map(\.description).joined(separator: ", ")); "
                        + "a gateway must be reachable on the link, or say 'on-link: true'")
            }
        }
        if let metric = dhcp4RouteMetric, !(0...4_294_967_295).contains(metric) {
            throw .invalidValue(field: "dhcp4-overrides route-metric", value: String(metric), reason: "must be 0 to 4294967295")
        }
        if dhcp4RouteMetric != nil && !usesDHCP4 {
            throw .invalidValue(field: "dhcp4-overrides", value: "route-metric", reason: "is set but the card \(card) does not use DHCPv4")
        }
        if let identifier = dhcpIdentifier, !["mac", "duid"].contains(identifier) {
            throw .invalidValue(field: "dhcp-identifier", value: identifier, reason: "must be 'mac' or 'duid'")
        }
        if let domain = regulatoryDomain, domain.count != 2 || !domain.allSatisfy({ $0.isASCII && $0.isLetter }) {
            throw .invalidValue(field: "regulatory-domain", value: domain, reason: "must be a two-letter country code such as GB")
        }
    }

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
        case mac, name, setName, addresses, dhcp4, dhcp6, gateway4, gateway6, dns, search, mtu, wifi, accessPoints, auth
        case routes, routingPolicy, dhcp4RouteMetric, dhcpIdentifier, optional, regulatoryDomain, offload
        case virtual, membership, vlans, modem
    }

    /// Decodes through the validating initializer, so a gateway outside its subnet in pasted JSON is refused too.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            mac: container.decodeIfPresent(MACAddress.self, forKey: .mac),
            name: container.decodeIfPresent(InterfaceName.self, forKey: .name),
            setName: container.decodeIfPresent(InterfaceName.self, forKey: .setName),
            addresses: container.decodeIfPresent([IPPrefix].self, forKey: .addresses) ?? [],
            dhcp4: container.decodeIfPresent(Bool.self, forKey: .dhcp4),
            dhcp6: container.decodeIfPresent(Bool.self, forKey: .dhcp6) ?? false,
            gateway4: container.decodeIfPresent(IPAddress.self, forKey: .gateway4),
            gateway6: container.decodeIfPresent(IPAddress.self, forKey: .gateway6),
            dns: container.decodeIfPresent([IPAddress].self, forKey: .dns) ?? [],
            search: container.decodeIfPresent([DomainName].self, forKey: .search) ?? [],
            mtu: container.decodeIfPresent(Int.self, forKey: .mtu),
            wifi: container.decodeIfPresent(WifiNetwork.self, forKey: .wifi))
        routes = try container.decodeIfPresent([Route].self, forKey: .routes) ?? []
        routingPolicy = try container.decodeIfPresent([RoutingRule].self, forKey: .routingPolicy) ?? []
        dhcp4RouteMetric = try container.decodeIfPresent(Int.self, forKey: .dhcp4RouteMetric)
        dhcpIdentifier = try container.decodeIfPresent(String.self, forKey: .dhcpIdentifier)
        optional = try container.decodeIfPresent(Bool.self, forKey: .optional) ?? false
        regulatoryDomain = try container.decodeIfPresent(String.self, forKey: .regulatoryDomain)
        for (key, value) in try container.decodeIfPresent([String: Bool].self, forKey: .offload) ?? [:] {
            guard let setting = Offload(rawValue: key) else {
                throw CoreError.invalidValue(field: "offload", value: key, reason: "is not an offload setting netplan knows")
            }
            offload[setting] = value
        }
        virtual = try container.decodeIfPresent(VirtualDevice.self, forKey: .virtual)
        membership = try container.decodeIfPresent(Membership.self, forKey: .membership)
        vlans = try container.decodeIfPresent([InterfaceName].self, forKey: .vlans) ?? []
        if let points = try container.decodeIfPresent([WifiNetwork].self, forKey: .accessPoints) { accessPoints = points }
        auth = try container.decodeIfPresent(EAPAuth.self, forKey: .auth)
        modem = try container.decodeIfPresent(Modem.self, forKey: .modem)
        try checkRoutes()
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
        // One network as `wifi`, as before there could be several.
        if accessPoints.count == 1 { try container.encode(accessPoints[0], forKey: .wifi) }
        if accessPoints.count > 1 { try container.encode(accessPoints, forKey: .accessPoints) }
        try container.encodeIfPresent(auth, forKey: .auth)
        // Only what differs from the defaults, so a plain card's JSON stays as it was.
        if noIPv4 { try container.encode(false, forKey: .dhcp4) }
        if !routes.isEmpty { try container.encode(routes, forKey: .routes) }
        if !routingPolicy.isEmpty { try container.encode(routingPolicy, forKey: .routingPolicy) }
        try container.encodeIfPresent(dhcp4RouteMetric, forKey: .dhcp4RouteMetric)
        try container.encodeIfPresent(dhcpIdentifier, forKey: .dhcpIdentifier)
        if optional { try container.encode(true, forKey: .optional) }
        try container.encodeIfPresent(regulatoryDomain, forKey: .regulatoryDomain)
        if !offload.isEmpty {
            try container.encode(Dictionary(uniqueKeysWithValues: offload.map { ($0.key.rawValue, $0.value) }), forKey: .offload)
        }
        try container.encodeIfPresent(virtual, forKey: .virtual)
        try container.encodeIfPresent(membership, forKey: .membership)
        if !vlans.isEmpty { try container.encode(vlans, forKey: .vlans) }
        try container.encodeIfPresent(modem, forKey: .modem)
    }
}

extension WifiNetwork {
    private enum CodingKeys: String, CodingKey { case ssid, passphrase, eap }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            ssid: container.decode(String.self, forKey: .ssid),
            passphrase: container.decodeIfPresent(String.self, forKey: .passphrase),
            eap: container.decodeIfPresent(EAPAuth.self, forKey: .eap))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ssid, forKey: .ssid)
        try container.encodeIfPresent(passphrase, forKey: .passphrase)
        try container.encodeIfPresent(eap, forKey: .eap)
    }
}

extension EAPAuth {
    private enum CodingKeys: String, CodingKey {
        case method, identity, anonymousIdentity, password, caCertificate, clientCertificate, clientKey, clientKeyPassword, phase2Auth
    }

    /// Decodes through the validating initializer.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            method: container.decode(Method.self, forKey: .method), identity: container.decode(String.self, forKey: .identity),
            anonymousIdentity: container.decodeIfPresent(String.self, forKey: .anonymousIdentity),
            password: container.decodeIfPresent(String.self, forKey: .password),
            caCertificate: container.decodeIfPresent(String.self, forKey: .caCertificate),
            clientCertificate: container.decodeIfPresent(String.self, forKey: .clientCertificate),
            clientKey: container.decodeIfPresent(String.self, forKey: .clientKey),
            clientKeyPassword: container.decodeIfPresent(String.self, forKey: .clientKeyPassword),
            phase2Auth: container.decodeIfPresent(String.self, forKey: .phase2Auth))
    }
}

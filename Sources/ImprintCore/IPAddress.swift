import Glibc

/// An IPv4 or IPv6 address, in the canonical text form `inet_ntop` gives (so `2001:DB8::0:1` becomes `2001:db8::1`).
public struct IPAddress: Hashable, Sendable, TextValue, CustomStringConvertible {
    public enum Family: String, Sendable, Codable { case ipv4, ipv6 }

    public let value: String
    public let family: Family
    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    public init(_ text: String) throws(CoreError) { try self.init(text, field: "IP address") }

    public init(_ text: String, field: String) throws(CoreError) {
        let candidate = text.trimmingSpaces()
        if let parsed = Self.parse(candidate, family: AF_INET, size: 4) {
            family = .ipv4
            bytes = parsed
        } else if let parsed = Self.parse(candidate, family: AF_INET6, size: 16) {
            family = .ipv6
            bytes = parsed
        } else {
            throw .invalidValue(field: field, value: text, reason: "expected an address such as 10.0.4.21 or 2001:db8::21")
        }
        value = Self.format(bytes, family: family == .ipv4 ? AF_INET : AF_INET6)
    }

    public var description: String { value }

    /// Whether this address lies in the network `prefix` belongs to.
    public func isInside(_ prefix: IPPrefix) -> Bool {
        guard family == prefix.address.family else { return false }
        var remaining = prefix.length
        for (mine, theirs) in zip(bytes, prefix.address.bytes) {
            guard remaining > 0 else { break }
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
            if mine & mask != theirs & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// Whether this is an IPv6 link-local address (fe80::/10), which a gateway may be whatever the subnet.
    public var isLinkLocal: Bool { family == .ipv6 && bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 }

    /// The address with these bytes (4 for IPv4, 16 for IPv6).
    init(bytes: [UInt8], family: Family) {
        self.bytes = bytes
        self.family = family
        value = Self.format(bytes, family: family == .ipv4 ? AF_INET : AF_INET6)
    }

    private static func parse(_ text: String, family: Int32, size: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: size)
        let status = buffer.withUnsafeMutableBytes { inet_pton(family, text, $0.baseAddress) }
        return status == 1 ? buffer : nil
    }

    private static func format(_ bytes: [UInt8], family: Int32) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var text: String { value }
}

/// An address with its prefix length, as a static interface address is written: `10.0.4.21/24`, `2001:db8::21/64`.
public struct IPPrefix: Hashable, Sendable, TextValue, CustomStringConvertible {
    public let address: IPAddress
    public let length: Int

    public init(_ text: String) throws(CoreError) { try self.init(text, field: "address") }

    public init(_ text: String, field: String) throws(CoreError) {
        let parts = text.trimmingSpaces().split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw .invalidValue(field: field, value: text, reason: "needs a prefix length, such as 10.0.4.21/24")
        }
        address = try IPAddress(String(parts[0]), field: field)
        let maximum = address.family == .ipv4 ? 32 : 128
        guard let length = Int(parts[1]), (1...maximum).contains(length), parts[1].allSatisfy(\.isNumber) else {
            throw .invalidValue(field: field, value: text, reason: "the prefix length must be 1 to \(maximum)")
        }
        self.length = length
    }

    public var description: String { "\(address.value)/\(length)" }

    public var text: String { description }
}

extension IPPrefix {
    /// The subnet's first and last address: every host bit zero, and every host bit one.
    public var subnetBounds: (first: IPAddress, last: IPAddress) {
        var first = address.bytes
        var last = address.bytes
        for index in first.indices {
            let networkBits = min(8, max(0, length - index * 8))
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - networkBits))
            first[index] &= mask
            last[index] |= ~mask
        }
        return (IPAddress(bytes: first, family: address.family), IPAddress(bytes: last, family: address.family))
    }

    /// Why no one unit can have this address, or nil when a unit can: an IPv4 subnet's network address (host bits
    /// all zero) and broadcast address (all one), and an IPv6 subnet's all-zero address, which RFC 4291 gives its
    /// routers (Subnet-Router anycast). A /31 or /32 (IPv4, RFC 3021) and a /127 or /128 (IPv6, RFC 6164) have no
    /// such address: every address of them is a host's.
    public var notAHostAddress: String? {
        let (first, last) = subnetBounds
        let subnet = "\(first.value)/\(length)"
        switch address.family {
        case .ipv4 where length <= 30:
            let hosts = "give a host address from \(IPAddress(bytes: neighbour(of: first.bytes, above: true), family: .ipv4)) to "
                + "\(IPAddress(bytes: neighbour(of: last.bytes, above: false), family: .ipv4))"
            if address == first { return "is the network address of \(subnet), which no unit can have; \(hosts)" }
            if address == last { return "is the broadcast address of \(subnet), which no unit can have; \(hosts)" }
        case .ipv6 where length <= 126:
            if address == first {
                return "is the Subnet-Router anycast address of \(subnet), which no unit can have; "
                    + "give a host address such as \(IPAddress(bytes: neighbour(of: first.bytes, above: true), family: .ipv6))/\(length)"
            }
        default:
            break
        }
        return nil
    }

    /// The address one above (or below) `bytes`, carrying across bytes.
    private func neighbour(of bytes: [UInt8], above: Bool) -> [UInt8] {
        var result = bytes
        var index = result.count - 1
        while index >= 0 {
            let (value, carried) = above ? result[index].addingReportingOverflow(1) : result[index].subtractingReportingOverflow(1)
            result[index] = value
            if !carried { break }
            index -= 1
        }
        return result
    }
}

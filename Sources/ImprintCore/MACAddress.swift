/// A network card's hardware address, normalised to lowercase colon form (`3c:52:82:01:02:03`).
public struct MACAddress: Hashable, Sendable, TextValue, CustomStringConvertible, Comparable {
    public let value: String

    /// Accepts `3C:52:82:01:02:03`, `3c-52-82-01-02-03`, `3c52.8201.0203` and `3c5282010203`.
    public init(_ text: String) throws(CoreError) {
        let trimmed = text.trimmingSpaces()
        let hex = trimmed.filter { $0 != ":" && $0 != "-" && $0 != "." }.lowercased()
        let separators = Set(trimmed.filter { $0 == ":" || $0 == "-" || $0 == "." })
        guard hex.count == 12, hex.allSatisfy(\.isHexDigit), separators.count <= 1 else {
            throw .invalidValue(
                field: "MAC address", value: text, reason: "expected six hex pairs such as 3c:52:82:01:02:03")
        }
        var octets: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            octets.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        if octets.allSatisfy({ $0 == 0 }) || octets.allSatisfy({ $0 == 0xff }) {
            throw .invalidValue(field: "MAC address", value: text, reason: "is a placeholder, not a card's address")
        }
        if octets[0] & 1 == 1 {
            throw .invalidValue(
                field: "MAC address", value: text, reason: "is a multicast address, which no network card has")
        }
        value = octets.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: ":")
    }

    public var description: String { value }
    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.value < rhs.value }

    public var text: String { value }
}

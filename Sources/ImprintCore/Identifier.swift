/// The kinds of hardware identifier the inventory records and matching uses.
public enum IdentifierKind: String, Sendable, Codable, CaseIterable, Comparable {
    case serial
    case uuid
    case assetTag = "asset"
    case mac

    public var label: String {
        switch self {
        case .serial: return "serial"
        case .uuid: return "UUID"
        case .assetTag: return "asset tag"
        case .mac: return "MAC"
        }
    }

    public static func < (lhs: IdentifierKind, rhs: IdentifierKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A normalised hardware identifier: MACs in lowercase colon form, UUIDs in lowercase, serials and asset tags as
/// given (trimmed).
public struct Identifier: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let kind: IdentifierKind
    public let value: String

    /// Validates and normalises `text` as an identifier of `kind`, refusing placeholders such as
    /// "To be filled by O.E.M.", which would make every unit of a model match.
    public init(_ kind: IdentifierKind, _ text: String) throws(CoreError) {
        self.kind = kind
        switch kind {
        case .mac: value = try MACAddress(text).value
        case .uuid: value = try SMBIOSUUID(text).value
        case .serial, .assetTag:
            let checked = try FieldText.check(text, field: kind.label, maxLength: 128)
            if checked.isEmpty {
                throw .invalidValue(field: kind.label, value: text, reason: "is empty")
            }
            value = checked
        }
        if Placeholder.isPlaceholder(value, kind: kind) {
            throw .invalidValue(
                field: kind.label, value: text,
                reason: "is a firmware placeholder, shared by many machines; record a MAC address or a real serial instead")
        }
    }

    /// Guesses the kind of an identifier from its shape: a MAC, a UUID, or otherwise a serial number.
    public static func guessingKind(_ text: String) throws(CoreError) -> Identifier {
        if let mac = try? MACAddress(text) { return try Identifier(.mac, mac.value) }
        if let uuid = try? SMBIOSUUID(text) { return try Identifier(.uuid, uuid.value) }
        return try Identifier(.serial, text)
    }

    public var description: String { "\(kind.label) \(value)" }

    public static func < (lhs: Identifier, rhs: Identifier) -> Bool {
        (lhs.kind, lhs.value) < (rhs.kind, rhs.value)
    }
}

/// Values that firmware vendors leave in DMI fields instead of a real identifier.
public enum Placeholder {
    /// Known placeholder strings, compared without case and without surrounding spaces.
    public static let knownValues: Set<String> = [
        "to be filled by o.e.m.", "to be filled by oem", "default string", "system serial number",
        "chassis serial number", "base board serial number", "not specified", "not applicable", "not available",
        "none", "n/a", "na", "unknown", "invalid", "oem", "o.e.m.", "0123456789", "123456789", "1234567890",
        "system product name", "asset-1234567890", "no asset tag", "no asset information", "empty", "serial",
        "xxxxxxxxxxx", "default", "filled by oem",
        // A UUID some boards ship with on every unit.
        "03000200-0400-0500-0006-000700080009",
    ]

    /// Whether `value` cannot identify one machine: empty, a known placeholder, or one character repeated
    /// (`00000000`, `FFFFFFFF`, `........`), ignoring the dashes and colons of UUIDs and MACs.
    public static func isPlaceholder(_ value: String, kind: IdentifierKind) -> Bool {
        let trimmed = value.trimmingSpaces().lowercased()
        if trimmed.isEmpty || knownValues.contains(trimmed) { return true }
        let significant = trimmed.filter { $0 != "-" && $0 != ":" && $0 != " " }
        if let first = significant.first, significant.allSatisfy({ $0 == first }) { return true }
        return false
    }
}

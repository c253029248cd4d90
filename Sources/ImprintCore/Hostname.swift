/// A unit's host name: one RFC 1123 label, kept in the case the admin typed and compared without case.
public struct Hostname: Hashable, Sendable, TextValue, CustomStringConvertible, Comparable {
    public let value: String

    /// NetBIOS and Samba cut names after this many characters, so a longer name earns a warning.
    public static let netbiosLimit = 15

    /// Validates `text` as a single host name label: 1 to 63 of `a-z`, `A-Z`, `0-9` and `-`, not starting or ending
    /// with a hyphen.
    public init(_ text: String) throws(CoreError) {
        let candidate = text.trimmingSpaces()
        try DomainName.checkLabel(candidate, field: "hostname", whole: text)
        value = candidate
    }

    /// A warning to show the admin when the name is valid but longer than NetBIOS allows, or nil.
    public var warning: String? {
        guard value.count > Self.netbiosLimit else { return nil }
        return "hostname '\(value)' is \(value.count) characters long; NetBIOS and Samba see only the first "
            + "\(Self.netbiosLimit) ('\(value.prefix(Self.netbiosLimit))')"
    }

    /// The fully qualified name under `domain`, checked against DNS's 253-character limit.
    public func qualified(in domain: DomainName?) throws(CoreError) -> String {
        guard let domain else { return value }
        let fqdn = "\(value).\(domain.value)"
        if fqdn.utf8.count > DomainName.maxLength {
            throw .invalidValue(
                field: "FQDN", value: fqdn,
                reason: "is \(fqdn.utf8.count) characters long; DNS allows at most \(DomainName.maxLength)")
        }
        return fqdn
    }

    public var description: String { value }

    public static func == (lhs: Hostname, rhs: Hostname) -> Bool { lhs.value.lowercased() == rhs.value.lowercased() }
    public func hash(into hasher: inout Hasher) { hasher.combine(value.lowercased()) }
    public static func < (lhs: Hostname, rhs: Hostname) -> Bool { lhs.value.lowercased() < rhs.value.lowercased() }

    public var text: String { value }
}

/// A DNS domain such as `school.example.org`: dot-separated RFC 1123 labels, at most 253 characters.
public struct DomainName: Hashable, Sendable, TextValue, CustomStringConvertible {
    public let value: String
    public static let maxLength = 253

    public init(_ text: String) throws(CoreError) { try self.init(text, field: "domain") }

    public init(_ text: String, field: String) throws(CoreError) {
        var candidate = text.trimmingSpaces().lowercased()
        if candidate.hasSuffix(".") { candidate.removeLast() }
        if candidate.isEmpty {
            throw .invalidValue(field: field, value: text, reason: "is empty")
        }
        if candidate.utf8.count > Self.maxLength {
            throw .invalidValue(
                field: field, value: text,
                reason: "is \(candidate.utf8.count) characters long; DNS allows at most \(Self.maxLength)")
        }
        for label in candidate.split(separator: ".", omittingEmptySubsequences: false) {
            try Self.checkLabel(String(label), field: field, whole: text)
        }
        value = candidate
    }

    public var description: String { value }

    static func checkLabel(_ label: String, field: String, whole: String) throws(CoreError) {
        if label.isEmpty {
            throw .invalidValue(field: field, value: whole, reason: "has an empty label; use letters, digits and '-'")
        }
        if label.utf8.count > 63 {
            throw .invalidValue(
                field: field, value: whole, reason: "has a label of \(label.utf8.count) characters; at most 63 are allowed")
        }
        if let bad = label.unicodeScalars.first(where: { !isLDH($0) }) {
            let shown = FieldText.isForbidden(bad) ? "a control character" : "'\(bad)'"
            throw .invalidValue(
                field: field, value: whole,
                reason: "contains \(shown); only letters a-z, digits 0-9 and '-' are allowed (RFC 1123)")
        }
        if label.hasPrefix("-") || label.hasSuffix("-") {
            throw .invalidValue(field: field, value: whole, reason: "starts or ends with '-'; RFC 1123 forbids that")
        }
    }

    private static func isLDH(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-": return true
        default: return false
        }
    }

    public var text: String { value }
}

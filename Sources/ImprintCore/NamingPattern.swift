/// A naming pattern: fixed text around one field in braces. The field is either a counter, `{#}` to `{######}`,
/// whose width is the number of `#` (numbers are zero-padded to it and may grow past it), as in `RM204-{##}`; or one
/// of the unit's own identifiers, as in `LAB-{serial}`: `{serial}`, `{asset}` (the asset tag), or `{mac}` (the last
/// six hex digits of the unit's first built-in card). Names built from identifiers need no counter, so two units that
/// enrol offline, each with its own copy of the inventory, can never be given the same name.
public struct NamingPattern: Hashable, Sendable, CustomStringConvertible {
    /// What fills the braces.
    public enum Field: Hashable, Sendable {
        case counter(width: Int)
        case serial
        case assetTag
        case mac

        /// The identifier kind the field takes its value from; nil for a counter.
        public var kind: IdentifierKind? {
            switch self {
            case .counter: return nil
            case .serial: return .serial
            case .assetTag: return .assetTag
            case .mac: return .mac
            }
        }

        var text: String {
            switch self {
            case .counter(let width): return String(repeating: "#", count: width)
            case .serial: return "serial"
            case .assetTag: return "asset"
            case .mac: return "mac"
            }
        }
    }

    public let prefix: String
    public let suffix: String
    public let field: Field

    /// The counter's width; 0 for a pattern built from an identifier.
    public var width: Int {
        if case .counter(let width) = field { return width }
        return 0
    }

    /// Whether names come from a counter, which only one inventory handing out every name can keep unique.
    public var isCounter: Bool { width > 0 }

    public init(_ text: String) throws(CoreError) {
        let candidate = text.trimmingSpaces()
        let usage = "needs a counter such as {##} or one of {serial}, {mac}, {asset}, as in RM204-{##} or LAB-{serial}"
        guard let open = candidate.firstIndex(of: "{"), let close = candidate.firstIndex(of: "}"), open < close else {
            throw .invalidValue(field: "naming pattern", value: text, reason: usage)
        }
        let inside = candidate[candidate.index(after: open)..<close]
        switch inside.lowercased() {
        case "serial": field = .serial
        case "asset": field = .assetTag
        case "mac": field = .mac
        default:
            guard !inside.isEmpty, inside.count <= 6, inside.allSatisfy({ $0 == "#" }) else {
                throw .invalidValue(
                    field: "naming pattern", value: text,
                    reason: "the field must be 1 to 6 '#' in braces, such as {##}, or one of {serial}, {mac}, {asset}")
            }
            field = .counter(width: inside.count)
        }
        prefix = String(candidate[..<open])
        suffix = String(candidate[candidate.index(after: close)...])
        if prefix.contains("{") || prefix.contains("}") || suffix.contains("{") || suffix.contains("}") {
            throw .invalidValue(field: "naming pattern", value: text, reason: "may hold only one field in braces")
        }
        do {
            _ = try Hostname(prefix + (isCounter ? Self.pad(1, width) : "a1b2c3") + suffix)
        } catch {
            throw .invalidValue(
                field: "naming pattern", value: text, reason: "does not make a valid hostname: \(error)")
        }
    }

    /// The name this pattern gives the unit with `identifiers`: its serial, asset tag or first MAC in the braces.
    /// - Throws: when the pattern is a counter, the unit has no identifier of the field's kind, or the identifier
    ///   holds characters a hostname cannot (the message says which field to use instead).
    public func name(for identifiers: [Identifier]) throws(CoreError) -> Hostname {
        guard let kind = field.kind else {
            throw .invalidValue(field: "naming pattern", value: description, reason: "is a counter, not an identifier")
        }
        guard let identifier = identifiers.first(where: { $0.kind == kind }) else {
            let others = [IdentifierKind.serial, .mac, .assetTag].filter { kind in identifiers.contains { $0.kind == kind } }
            throw .invalidValue(
                field: "naming pattern", value: description,
                reason: "this unit has no \(kind.label) to name it by"
                    + (others.isEmpty ? "" : "; it has \(others.map(\.label).joined(separator: ", ")): use "
                        + others.map { "{\(NamingPattern.Field.of($0).text)}" }.joined(separator: " or ")))
        }
        let value: String
        if kind == .mac {
            value = String(identifier.value.filter(\.isHexDigit).suffix(6))
        } else {
            value = identifier.value
        }
        guard value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw .invalidValue(
                field: "naming pattern", value: description,
                reason: "the \(kind.label) \(quoted(value)) holds characters a hostname cannot (only letters, digits "
                    + "and '-'); name these units by {mac} instead")
        }
        do {
            return try Hostname(prefix + value + suffix)
        } catch {
            throw .invalidValue(
                field: "naming pattern", value: description, reason: "gives \(quoted(prefix + value + suffix)) for this unit: \(error)")
        }
    }

    /// The name for counter value `number`.
    public func name(_ number: Int) -> String { prefix + Self.pad(number, width) + suffix }

    private static func pad(_ number: Int, _ width: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// The largest counter this pattern counts from: a name holding a longer number (RM204-9223372036854775807,
    /// typed by hand) is not one it made, and counting past it would overflow.
    public static let largestCounter = 999_999_999_999

    /// The counter value in `hostname` if it was made by this pattern (compared without case), or nil.
    public func number(in hostname: String) -> Int? {
        let lower = hostname.lowercased()
        guard isCounter, lower.hasPrefix(prefix.lowercased()), lower.hasSuffix(suffix.lowercased()),
            lower.count >= prefix.count + suffix.count + width
        else { return nil }
        let digits = lower.dropFirst(prefix.count).dropLast(suffix.count)
        guard digits.allSatisfy(\.isASCIIDigit), let number = Int(digits), number <= Self.largestCounter else { return nil }
        return number
    }

    /// The next `count` names numbered past the highest one already taken (a removed unit's name is not reused).
    public func nextNames(_ count: Int, taken: some Sequence<String>, start: Int = 1) -> [String] {
        let highest = taken.compactMap(number(in:)).max() ?? (start - 1)
        let first = max(highest + 1, start)
        return (0..<count).map { name(first + $0) }
    }

    public var description: String { "\(prefix){\(field.text)}\(suffix)" }
}

extension NamingPattern.Field {
    static func of(_ kind: IdentifierKind) -> NamingPattern.Field {
        switch kind {
        case .serial: return .serial
        case .assetTag: return .assetTag
        default: return .mac
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

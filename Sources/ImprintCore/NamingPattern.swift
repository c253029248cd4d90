/// A naming pattern such as `RM204-{##}`: fixed text around one counter, `{#}` to `{######}`, whose width is the
/// number of `#` (numbers are zero-padded to it and may grow past it).
public struct NamingPattern: Hashable, Sendable, CustomStringConvertible {
    public let prefix: String
    public let suffix: String
    public let width: Int

    public init(_ text: String) throws(CoreError) {
        let candidate = text.trimmingSpaces()
        guard let open = candidate.firstIndex(of: "{"), let close = candidate.firstIndex(of: "}"), open < close else {
            throw .invalidValue(
                field: "naming pattern", value: text, reason: "needs a counter such as {##}, as in RM204-{##}")
        }
        let counter = candidate[candidate.index(after: open)..<close]
        guard !counter.isEmpty, counter.count <= 6, counter.allSatisfy({ $0 == "#" }) else {
            throw .invalidValue(
                field: "naming pattern", value: text, reason: "the counter must be 1 to 6 '#' in braces, such as {##}")
        }
        prefix = String(candidate[..<open])
        suffix = String(candidate[candidate.index(after: close)...])
        width = counter.count
        if prefix.contains("{") || prefix.contains("}") || suffix.contains("{") || suffix.contains("}") {
            throw .invalidValue(field: "naming pattern", value: text, reason: "may hold only one counter")
        }
        do {
            _ = try Hostname(name(1))
        } catch {
            throw .invalidValue(
                field: "naming pattern", value: text, reason: "does not make a valid hostname: \(error)")
        }
    }

    /// The name for counter value `number`.
    public func name(_ number: Int) -> String {
        let digits = String(number)
        return prefix + String(repeating: "0", count: max(0, width - digits.count)) + digits + suffix
    }

    /// The largest counter this pattern counts from: a name holding a longer number (RM204-9223372036854775807,
    /// typed by hand) is not one it made, and counting past it would overflow.
    public static let largestCounter = 999_999_999_999

    /// The counter value in `hostname` if it was made by this pattern (compared without case), or nil.
    public func number(in hostname: String) -> Int? {
        let lower = hostname.lowercased()
        guard lower.hasPrefix(prefix.lowercased()), lower.hasSuffix(suffix.lowercased()),
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

    public var description: String { "\(prefix){\(String(repeating: "#", count: width))}\(suffix)" }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

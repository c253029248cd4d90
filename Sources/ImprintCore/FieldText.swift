/// Checks free text that is stored in the inventory and may later be written into a configuration file.
///
/// Control characters (a newline above all) and the Unicode line and paragraph separators are refused, so that no
/// value can start a new line in a file Imprint renders.
public enum FieldText {
    /// Returns `text` trimmed of surrounding spaces, or throws when it holds a control character or is too long.
    /// - Parameters:
    ///   - text: the value as entered.
    ///   - field: the name shown in the error, such as `notes`.
    ///   - maxLength: the longest accepted value, in characters.
    public static func check(_ text: String, field: String, maxLength: Int = 1024) throws(CoreError) -> String {
        let trimmed = text.trimmingSpaces()
        if let bad = trimmed.unicodeScalars.first(where: isForbidden) {
            throw .invalidValue(
                field: field, value: text,
                reason: "holds the control character U+\(hex4(bad.value)); remove line breaks and tabs")
        }
        if trimmed.count > maxLength {
            throw .invalidValue(
                field: field, value: String(trimmed.prefix(40)) + "...",
                reason: "is \(trimmed.count) characters long; at most \(maxLength) are accepted")
        }
        return trimmed
    }

    static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}"
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs (line breaks are kept, so that checks still see them).
    public func trimmingSpaces() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}

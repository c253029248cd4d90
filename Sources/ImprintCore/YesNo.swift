/// A yes-or-no setting as an admin writes it in a CSV cell or an option value (a group's `enroll`).
public enum YesNo {
    /// The words read as yes and as no, compared without case.
    public static let yesWords: Set<String> = ["yes", "true", "1"]
    public static let noWords: Set<String> = ["no", "false", "0"]

    /// Reads `text` as yes or no.
    /// - Parameters:
    ///   - field: the column or option named in the error.
    public static func parse(_ text: String, field: String) throws(CoreError) -> Bool {
        let word = text.trimmingSpaces().lowercased()
        if yesWords.contains(word) { return true }
        if noWords.contains(word) { return false }
        throw .invalidValue(field: field, value: text, reason: "use yes or no")
    }

    /// How a setting is written back, in a form `parse` reads: `yes` or `no`.
    public static func text(_ value: Bool) -> String { value ? "yes" : "no" }
}

/// A list as an admin writes it in one CSV cell or one option value: `10.0.0.53 10.0.0.54`, `a.example,b.example`,
/// `10.0.0.53;10.0.0.54`.
///
/// The CSV import, the stored columns and the command-line options read lists through this one type, so a list
/// that works in a spreadsheet cell works after `--dns` too.
public enum ValueList {
    /// What separates the items: spaces, tabs, commas and semicolons (spreadsheets in some locales write `;`).
    public static let separators: Set<Character> = [" ", "\t", ",", ";"]

    /// How the separators read in help text and messages.
    public static let separatorsDescription = "spaces, commas or semicolons"

    /// The items of `text`, without empty ones: `"a; b,,c"` gives `["a", "b", "c"]`.
    public static func split(_ text: String) -> [String] {
        text.split(whereSeparator: separators.contains).map(String.init)
    }

    /// The items of every value a repeatable option was given: `--dns a --dns 'b;c'` gives `["a", "b", "c"]`.
    public static func split(_ texts: [String]) -> [String] {
        texts.flatMap { split($0) }
    }
}

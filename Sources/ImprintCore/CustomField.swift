/// A custom field the admin declared (`inventory field add`, or a CSV column named on import): units and groups hold
/// a value for it, and attached files name it in their templates.
public struct CustomField: Codable, Equatable, Sendable {
    public var name: String
    /// A secret field (a licence key) is never printed: diffs, `show --json` and `file list` mask its value, and a
    /// file using it is a secret file (mode 0600 unless told otherwise, owner-only in any case).
    public var secret: Bool

    public init(name: String, secret: Bool = false) throws(CoreError) {
        self.name = try Self.checkName(name)
        self.secret = secret
    }

    /// The values every unit has without a custom field, which a template may use: a custom field may not take
    /// one of these names, nor the name of a CSV column.
    public static let builtInNames: [String] = [
        "hostname", "domain", "fqdn", "group", "model", "serial", "uuid", "asset_tag", "mac", "macs", "address",
        "addresses", "seat", "revision",
    ]

    /// A field name: a lowercase letter, then up to 63 lowercase letters, digits and underscores, so that it is a
    /// CSV column and a Mustache name without quoting (`licence_key`, `veyon_room`).
    public static func checkName(_ text: String) throws(CoreError) -> String {
        let name = text.trimmingSpaces()
        let valid = name.count <= 64 && name.unicodeScalars.first.map { ("a"..."z").contains($0) } == true
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        guard valid else {
            throw .invalidValue(
                field: "field name", value: text,
                reason: "use a lowercase letter, then lowercase letters, digits and '_' (at most 64), such as licence_key")
        }
        if builtInNames.contains(name) {
            throw .invalidValue(field: "field name", value: text, reason: "is a built-in value every unit has; choose another name")
        }
        return name
    }

    /// A field's value: one line of text (it may be written into any file format), at most 4096 characters.
    public static func checkValue(_ text: String, field: String) throws(CoreError) -> String {
        try FieldText.check(text, field: "value of field \(field)", maxLength: 4096)
    }
}

/// A custom field's value as a unit has it: its own, or its group's.
public struct CustomFieldValue: Codable, Equatable, Sendable {
    public var value: String
    public var secret: Bool

    public init(value: String, secret: Bool) {
        self.value = value
        self.secret = secret
    }
}

/// A value that is validated from text and written back as text: it encodes as a JSON string and decodes through
/// its validating initializer, so a value read from a file is checked like one typed by the admin.
public protocol TextValue: Codable {
    init(_ text: String) throws(CoreError)
    /// The canonical text form.
    var text: String { get }
}

extension TextValue {
    public init(from decoder: any Decoder) throws {
        try self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

import CUUID

/// The SMBIOS system UUID (`/sys/class/dmi/id/product_uuid`), normalised to lowercase.
public struct SMBIOSUUID: Hashable, Sendable, TextValue, CustomStringConvertible {
    public let value: String

    /// Accepts the 8-4-4-4-12 hex form, with or without braces, in any case, and the 32 hex digits without dashes
    /// that some inventory exports write; stored as the dashed lowercase form.
    public init(_ text: String) throws(CoreError) {
        var candidate = text.trimmingSpaces().lowercased()
        if candidate.hasPrefix("{") && candidate.hasSuffix("}") { candidate = String(candidate.dropFirst().dropLast()) }
        if candidate.utf8.count == 32, candidate.allSatisfy(\.isHexDigit) {
            // The digits in the order written: dashes added, no bytes swapped.
            var dashed = ""
            for (index, digit) in candidate.enumerated() {
                if [8, 12, 16, 20].contains(index) { dashed.append("-") }
                dashed.append(digit)
            }
            candidate = dashed
        }
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        guard candidate.utf8.count == 36, uuid_parse(candidate, &bytes) == 0 else {
            throw .invalidValue(
                field: "UUID", value: text, reason: "expected the form 4c4c4544-0042-3510-8052-b4c04f4e3732, or its 32 hex digits without dashes")
        }
        value = candidate
    }

    public var description: String { value }

    /// A fresh random (version 4) UUID from libuuid, in lowercase text form.
    public static func random() -> String {
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        uuid_generate_random(&bytes)
        var text = [CChar](repeating: 0, count: 37)
        uuid_unparse_lower(&bytes, &text)
        return String(decoding: text.prefix(36).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var text: String { value }
}

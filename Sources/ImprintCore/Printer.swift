/// A CUPS queue name: 1 to 127 printable characters, none of space, tab, `/`, `\`, `?`, `'`, `"` and `#`,
/// the characters cupsd's own name check refuses.
public struct PrinterName: Hashable, Sendable, TextValue, CustomStringConvertible, Comparable {
    public let value: String

    public init(_ text: String) throws(CoreError) {
        let candidate = text.trimmingSpaces()
        if candidate.isEmpty {
            throw .invalidValue(field: "printer name", value: text, reason: "is empty")
        }
        if candidate.utf8.count > 127 {
            throw .invalidValue(
                field: "printer name", value: text, reason: "is \(candidate.utf8.count) bytes long; CUPS allows 127")
        }
        if let bad = candidate.unicodeScalars.first(where: Self.isRefused) {
            let shown = bad.value <= 0x20 || bad.value == 0x7f ? "a space or control character" : "'\(bad)'"
            throw .invalidValue(
                field: "printer name", value: text,
                reason: "contains \(shown); CUPS queue names may not hold spaces, tabs, / \\ ? ' \" or #")
        }
        value = candidate
    }

    private static func isRefused(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value <= 0x20 || scalar.value == 0x7f || FieldText.isForbidden(scalar)
            || "/\\?'\"#".unicodeScalars.contains(scalar)
    }

    public var description: String { value }
    public static func < (lhs: PrinterName, rhs: PrinterName) -> Bool { lhs.value < rhs.value }

    public var text: String { value }
}

/// A CUPS device URI such as `ipp://10.0.4.5/ipp/print` or `socket://10.0.4.6:9100`.
public struct DeviceURI: Hashable, Sendable, TextValue, CustomStringConvertible {
    public let value: String

    public init(_ text: String) throws(CoreError) {
        let candidate = text.trimmingSpaces()
        guard let colon = candidate.firstIndex(of: ":"), colon > candidate.startIndex else {
            throw .invalidValue(
                field: "device URI", value: text, reason: "needs a scheme, such as ipp://10.0.4.5/ipp/print")
        }
        let scheme = candidate[..<colon]
        let validScheme = scheme.unicodeScalars.enumerated().allSatisfy { index, scalar in
            switch scalar {
            case "a"..."z": return true
            case "0"..."9", "+", ".", "-": return index > 0
            default: return false
            }
        }
        if !validScheme {
            throw .invalidValue(
                field: "device URI", value: text, reason: "the scheme '\(scheme)' must be lowercase letters, such as ipp")
        }
        if candidate[candidate.index(after: colon)...].isEmpty {
            throw .invalidValue(field: "device URI", value: text, reason: "has nothing after the scheme")
        }
        if candidate.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7f || FieldText.isForbidden($0) }) {
            throw .invalidValue(
                field: "device URI", value: text, reason: "contains a space or control character; write a space as %20")
        }
        if candidate.utf8.count > 1023 {
            throw .invalidValue(field: "device URI", value: text, reason: "is longer than the 1023 bytes CUPS accepts")
        }
        value = candidate
    }

    public var description: String { value }

    public var text: String { value }
}

/// How CUPS drives a queue: IPP Everywhere (driverless), raw, or a PPD file on the unit.
public enum PrinterDriver: Hashable, Sendable, TextValue, CustomStringConvertible {
    case everywhere
    case raw
    case ppd(path: String)

    /// Parses `everywhere`, `raw`, or an absolute path ending in `.ppd` or `.ppd.gz`.
    public init(_ text: String) throws(CoreError) {
        let candidate = text.trimmingSpaces()
        switch candidate.lowercased() {
        case "everywhere": self = .everywhere
        case "raw": self = .raw
        default:
            let path = candidate.hasPrefix("ppd:") ? String(candidate.dropFirst(4)) : candidate
            guard path.hasPrefix("/"), path.hasSuffix(".ppd") || path.hasSuffix(".ppd.gz"),
                !path.split(separator: "/").contains(".."),
                !path.unicodeScalars.contains(where: { $0.value <= 0x20 || FieldText.isForbidden($0) })
            else {
                throw .invalidValue(
                    field: "printer driver", value: text,
                    reason: "use 'everywhere', 'raw' or the absolute path of a .ppd file, such as /usr/share/ppd/rm204.ppd")
            }
            self = .ppd(path: path)
        }
    }

    public var description: String {
        switch self {
        case .everywhere: return "everywhere"
        case .raw: return "raw"
        case .ppd(let path): return path
        }
    }

    public var text: String { description }
}

/// A print queue as the inventory defines it, ready for the printers step to render.
public struct PrinterQueue: Hashable, Sendable, Codable {
    public var name: PrinterName
    public var deviceURI: DeviceURI
    public var driver: PrinterDriver
    public var location: String?
    public var description: String?

    public init(
        name: PrinterName, deviceURI: DeviceURI, driver: PrinterDriver, location: String? = nil,
        description: String? = nil
    ) throws(CoreError) {
        self.name = name
        self.deviceURI = deviceURI
        self.driver = driver
        self.location = try location.map { text throws(CoreError) in try Self.checkText(text, field: "printer location") }
        self.description = try description.map { text throws(CoreError) in try Self.checkText(text, field: "printer description") }
    }

    /// A location or description as printers.conf can hold it: one line (no control character) without `<` or
    /// `>`, so that it can never end the queue's `<Printer>` block; trimmed, at most 255 characters.
    public static func checkText(_ text: String, field: String) throws(CoreError) -> String {
        let checked = try FieldText.check(text, field: field, maxLength: 255)
        if checked.contains("<") || checked.contains(">") {
            throw .invalidValue(
                field: field, value: text, reason: "holds '<' or '>', which could end the queue's block in printers.conf; leave them out")
        }
        return checked
    }
}

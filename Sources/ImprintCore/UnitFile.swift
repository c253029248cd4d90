/// A file the admin attached to a group or a unit (`inventory file add`): the agent's `files` step writes it into
/// the root, rendered with the unit's values.
public struct UnitFile: Codable, Equatable, Sendable {
    public enum Content: Codable, Equatable, Sendable {
        /// Mustache text rendered with the unit's values (`UnitFile.values(of:)`) and custom fields.
        case template(String)
        /// The unit's value of this custom field, as it is, with a line break after it (a licence key per serial).
        case field(String)
    }

    /// The path as the unit sees it, such as `/etc/veyon/seat.conf`.
    public var path: String
    public var content: Content
    /// The mode the file gets; nil: 0644, or 0600 for a secret file.
    public var mode: UInt32?
    /// The owner and group, as names in the image's own /etc/passwd and /etc/group, or numbers.
    public var owner: String
    public var group: String
    /// A secret file's contents are never printed (diffs show their size) and only its owner may read it.
    public var secret: Bool

    public init(
        path: String, content: Content, mode: UInt32? = nil, owner: String = "root", group: String = "root",
        secret: Bool = false
    ) throws(CoreError) {
        self.path = try Self.checkPath(path)
        self.content = content
        self.owner = try Self.checkAccount(owner, field: "owner")
        self.group = try Self.checkAccount(group, field: "file group")
        self.secret = secret
        self.mode = mode
        if let mode { try Self.checkMode(mode, secret: secret) }
        switch content {
        case .template(let text): _ = try TemplateNames.scan(text)
        case .field(let name): _ = try CustomField.checkName(name)
        }
    }

    /// The mode the file is written with.
    public var effectiveMode: UInt32 { mode ?? (secret ? 0o600 : 0o644) }

    /// The custom fields and built-in values the content names.
    public func names() throws(CoreError) -> Set<String> {
        switch content {
        case .template(let text): return try TemplateNames.scan(text).all
        case .field(let name): return [name]
        }
    }

    /// Where Imprint keeps its own state in a root: no attached file may go there.
    static let imprintFolder = "/var/lib/imprint/"

    /// An absolute path inside the root, with no `.`, `..` or empty component: a path that would climb out is
    /// refused when it is attached, not quietly resolved to another file.
    public static func checkPath(_ text: String) throws(CoreError) -> String {
        func refuse(_ reason: String) -> CoreError { .invalidValue(field: "file path", value: text, reason: reason) }
        guard text.hasPrefix("/") else { throw refuse("is not absolute; give the path as the unit sees it, such as /etc/veyon/seat.conf") }
        guard text.count <= 1024, !text.unicodeScalars.contains(where: FieldText.isForbidden) else {
            throw refuse("holds a control character or is longer than 1024 characters")
        }
        let components = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        if components.contains("..") { throw refuse("climbs out of its folder with '..'; give the path without '..'") }
        if components.contains(".") || components.contains("") || text == "/" {
            throw refuse("has an empty or '.' component; give the file's plain path, such as /etc/veyon/seat.conf")
        }
        if text.hasPrefix(imprintFolder) || text + "/" == imprintFolder {
            throw refuse("is inside \(imprintFolder), where Imprint keeps its runs and state")
        }
        return text
    }

    /// A user or group: a name as useradd accepts it, or a number.
    public static func checkAccount(_ text: String, field: String) throws(CoreError) -> String {
        let name = text.trimmingSpaces()
        let isNumber = !name.isEmpty && name.count <= 10 && name.allSatisfy(\.isASCIIDigit) && UInt32(name) != nil
        let isName = name.count <= 32 && name.unicodeScalars.first.map { ("a"..."z").contains($0) || $0 == "_" } == true
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "_-".unicodeScalars.contains($0) }
        guard isNumber || isName else {
            throw .invalidValue(field: field, value: text, reason: "give a user or group name of the image (lowercase), or a number")
        }
        return name
    }

    /// Permission bits only (no setuid, setgid or sticky bit); a secret file is for its owner alone.
    public static func checkMode(_ mode: UInt32, secret: Bool) throws(CoreError) {
        let text = "0" + String(mode, radix: 8)
        guard mode <= 0o777 else {
            throw .invalidValue(field: "mode", value: text, reason: "give permission bits only, such as 0644 (no setuid, setgid or sticky bit)")
        }
        if secret && mode & 0o077 != 0 {
            throw .invalidValue(
                field: "mode", value: text, reason: "a secret file is readable by its owner only; give 0600 or 0400, or leave the mode out")
        }
    }

    /// Reads a mode written in octal, such as `0640` or `640`.
    public static func parseMode(_ text: String) throws(CoreError) -> UInt32 {
        let digits = text.trimmingSpaces()
        guard !digits.isEmpty, digits.count <= 5, let mode = UInt32(digits, radix: 8) else {
            throw .invalidValue(field: "mode", value: text, reason: "give it in octal, such as 0644 or 0600")
        }
        return mode
    }
}

/// A value a template is rendered with: one text, or a list (MACs, addresses) a section repeats.
public enum TemplateValue: Equatable, Sendable {
    case text(String)
    case list([String])
}

extension UnitFile {
    /// The values a unit's files are rendered with: its built-in values (those it has) and its custom fields.
    public static func values(of profile: UnitProfile) -> [String: TemplateValue] {
        var values: [String: TemplateValue] = [
            "hostname": .text(profile.hostname.value), "fqdn": .text(profile.fqdn), "revision": .text(String(profile.revision)),
        ]
        func set(_ name: String, _ value: String?) {
            if let value, !value.isEmpty { values[name] = .text(value) }
        }
        set("domain", profile.domain?.value)
        set("group", profile.group)
        set("model", profile.model)
        set("serial", profile.identifiers.first { $0.kind == .serial }?.value)
        set("uuid", profile.identifiers.first { $0.kind == .uuid }?.value)
        set("asset_tag", profile.identifiers.first { $0.kind == .assetTag }?.value)
        let macs = profile.identifiers.filter { $0.kind == .mac }.map(\.value)
        set("mac", macs.first)
        if !macs.isEmpty { values["macs"] = .list(macs) }
        let addresses = profile.interfaces.flatMap { $0.addresses.map(\.description) }
        set("address", profile.interfaces.first { !$0.addresses.isEmpty }?.addresses.first?.address.value)
        if !addresses.isEmpty { values["addresses"] = .list(addresses) }
        set("seat", profile.seat.map(String.init))
        for (name, field) in profile.fields where !field.value.isEmpty { values[name] = .text(field.value) }
        return values
    }
}

/// The names a Mustache template uses, read without rendering it, so that a template naming a field no unit can
/// have is refused when it is attached, and one naming a value a unit lacks is refused before anything is written.
public struct TemplateNames: Equatable, Sendable {
    /// Names inserted as values (`{{name}}`) outside a section that tests the same name: the unit must have them.
    public var required: Set<String>
    /// Every name the template uses, sections (`{{#macs}}`, `{{^domain}}`) included.
    public var all: Set<String>

    /// Reads the tags of `text`. Partials and changed delimiters are refused (an attached file is one template).
    public static func scan(_ text: String) throws(CoreError) -> TemplateNames {
        func refuse(_ tag: String, _ reason: String) -> CoreError { .invalidValue(field: "template tag", value: tag, reason: reason) }
        var names = TemplateNames(required: [], all: [])
        var open: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: "{{") {
            var tail = rest[start.upperBound...]
            let triple = tail.hasPrefix("{")
            if triple { tail = tail.dropFirst() }
            guard let end = tail.range(of: triple ? "}}}" : "}}") else {
                throw refuse(String(rest[start.lowerBound...].prefix(20)), "is opened with '{{' and never closed")
            }
            let whole = String(rest[start.lowerBound..<end.upperBound])
            let tag = tail[..<end.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = tail[end.upperBound...]
            guard let sigil = tag.first else { throw refuse(whole, "is empty") }
            var name = tag
            if "#^/&!>=".contains(sigil) && !triple { name = tag.dropFirst().trimmingCharacters(in: .whitespaces) }
            switch triple ? "&" : sigil {
            case "!": continue
            case ">": throw refuse(whole, "is a partial; an attached file is one template, write the text in it")
            case "=": throw refuse(whole, "changes the delimiters; keep {{ and }}")
            default: break
            }
            if name == "." { continue }
            let head = String(name.split(separator: ".").first ?? "")
            guard CustomField.builtInNames.contains(head) || (try? CustomField.checkName(head)) != nil else {
                throw refuse(whole, "names \(quoted(name)), which is not a value name; names are lowercase letters, digits and '_'")
            }
            names.all.insert(head)
            switch triple ? "&" : sigil {
            case "#", "^": open.append(head)
            case "/":
                guard open.last == head else {
                    throw refuse(whole, open.last.map { "closes \(quoted(head)) where \(quoted($0)) is open" } ?? "closes \(quoted(head)), which is not open")
                }
                open.removeLast()
            default:
                if !open.contains(head) { names.required.insert(head) }
            }
        }
        if let unclosed = open.last { throw refuse("{{#\(unclosed)}}", "opens a section that is never closed ({{/\(unclosed)}})") }
        return names
    }
}

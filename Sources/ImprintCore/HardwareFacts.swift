import Foundation

/// What a unit's firmware and network cards say about it: read from sysfs under a root, or from a facts file.
public struct HardwareFacts: Codable, Equatable, Sendable {
    public var serial: String?
    public var uuid: String?
    public var assetTag: String?
    public var vendor: String?
    public var model: String?
    public var boardSerial: String?
    public var interfaces: [NetworkInterfaceFact]

    public init(
        serial: String? = nil, uuid: String? = nil, assetTag: String? = nil, vendor: String? = nil,
        model: String? = nil, boardSerial: String? = nil, interfaces: [NetworkInterfaceFact] = []
    ) {
        self.serial = serial
        self.uuid = uuid
        self.assetTag = assetTag
        self.vendor = vendor
        self.model = model
        self.boardSerial = boardSerial
        self.interfaces = interfaces
    }

    /// A fact that cannot identify this unit, and why.
    public struct IgnoredFact: Equatable, Sendable {
        public var field: String
        public var value: String
        public var reason: String
    }

    /// The identifiers matching may use, and the facts it must ignore: placeholders, malformed values, and the
    /// MACs of removable (USB) adapters, which move between machines with a dock.
    public func identifiers() -> (usable: [Identifier], ignored: [IgnoredFact]) {
        var usable: [Identifier] = []
        var ignored: [IgnoredFact] = []
        func consider(_ kind: IdentifierKind, _ value: String?, field: String) {
            guard let value, !value.trimmingSpaces().isEmpty else { return }
            do {
                usable.append(try Identifier(kind, value))
            } catch {
                let reason: String
                if case let .invalidValue(_, _, why) = error { reason = why } else { reason = "\(error)" }
                ignored.append(IgnoredFact(field: field, value: value, reason: reason))
            }
        }
        consider(.serial, serial, field: "serial")
        consider(.uuid, uuid, field: "uuid")
        consider(.assetTag, assetTag, field: "asset tag")
        for interface in interfaces {
            if interface.removable {
                ignored.append(IgnoredFact(
                    field: "MAC of \(interface.name)", value: interface.mac,
                    reason: "a removable \(interface.bus ?? "USB") adapter moves between machines"))
            } else {
                consider(.mac, interface.mac, field: "MAC of \(interface.name)")
            }
        }
        return (usable, ignored)
    }

    /// Every field, absent ones as `null` (which `parse` reads back as absent), so a facts file shows what the
    /// firmware did not report.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(serial, forKey: .serial)
        try container.encode(uuid, forKey: .uuid)
        try container.encode(assetTag, forKey: .assetTag)
        try container.encode(vendor, forKey: .vendor)
        try container.encode(model, forKey: .model)
        try container.encode(boardSerial, forKey: .boardSerial)
        try container.encode(interfaces, forKey: .interfaces)
    }

    /// Parses a facts file: the JSON `imprint facts --json` prints. A plain `"macs": [...]` list is accepted in
    /// place of `interfaces` for hand-written files.
    public static func parse(json data: Data, source: String) throws(CoreError) -> HardwareFacts {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw .invalidValue(field: "facts file", value: source, reason: "is not valid JSON\(jsonErrorPlace(error, in: data))")
        }
        guard let fields = object as? [String: Any] else {
            throw .invalidValue(field: "facts file", value: source, reason: "must hold one JSON object")
        }
        func text(_ key: String) throws(CoreError) -> String? {
            guard let raw = fields[key], !(raw is NSNull) else { return nil }
            guard let value = raw as? String else {
                throw .invalidValue(field: "facts file", value: source, reason: "'\(key)' must be a string")
            }
            return value
        }
        let known: Set<String> = ["serial", "uuid", "assetTag", "vendor", "model", "boardSerial", "interfaces", "macs"]
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw .invalidValue(
                field: "facts file", value: source,
                reason: "has an unknown field '\(unknown)'; known fields are \(known.sorted().joined(separator: ", "))")
        }
        var facts = HardwareFacts(
            serial: try text("serial"), uuid: try text("uuid"), assetTag: try text("assetTag"),
            vendor: try text("vendor"), model: try text("model"), boardSerial: try text("boardSerial"))
        if let macs = fields["macs"] {
            guard let list = macs as? [String] else {
                throw .invalidValue(field: "facts file", value: source, reason: "'macs' must be a list of strings")
            }
            facts.interfaces += list.enumerated().map { NetworkInterfaceFact(name: "nic\($0.offset)", mac: $0.element) }
        }
        if let entries = fields["interfaces"] {
            guard let list = entries as? [[String: Any]] else {
                throw .invalidValue(field: "facts file", value: source, reason: "'interfaces' must be a list of objects")
            }
            for (index, entry) in list.enumerated() {
                guard let mac = entry["mac"] as? String else {
                    throw .invalidValue(
                        field: "facts file", value: source, reason: "interface \(index + 1) needs a 'mac' string")
                }
                facts.interfaces.append(NetworkInterfaceFact(
                    name: entry["name"] as? String ?? "nic\(index)", mac: mac,
                    wireless: entry["wireless"] as? Bool ?? false, bus: entry["bus"] as? String,
                    removable: entry["removable"] as? Bool ?? false))
            }
        }
        return facts
    }
}

extension HardwareFacts {
    /// Where JSONSerialization gave up on `data`, as " at line L, column C (what it found)". Its error names only a
    /// byte offset, in its debug description ("Invalid value around character 26."); the end of the data when it
    /// ran out ("Unexpected end of file ..."); empty when it says neither.
    static func jsonErrorPlace(_ error: any Error, in data: Data) -> String {
        let said = ((error as NSError).userInfo["NSDebugDescription"] as? String) ?? ""
        let offset: Int
        var what = said.trimmingCharacters(in: CharacterSet(charactersIn: ". "))
        if let range = said.range(of: #" around character [0-9]+"#, options: .regularExpression),
            let number = Int(said[range].split(separator: " ").last ?? "")
        {
            offset = number
            what = String(said[..<range.lowerBound])
        } else if said.lowercased().contains("end of file") {
            offset = data.count
            what = "the file ends too early"
        } else {
            return ""
        }
        let place = lineAndColumn(ofByte: offset, in: data)
        let found = what.isEmpty ? "" : " (\(what.prefix(1).lowercased() + what.dropFirst()))"
        return " at line \(place.line), column \(place.column)\(found)"
    }

    /// The 1-based line and column (in characters) of the byte at `offset` in `data`.
    public static func lineAndColumn(ofByte offset: Int, in data: Data) -> (line: Int, column: Int) {
        let bytes = [UInt8](data.prefix(max(0, offset)))
        let line = bytes.count { $0 == UInt8(ascii: "\n") } + 1
        let lineStart = (bytes.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? 0
        return (line, String(decoding: bytes[lineStart...], as: UTF8.self).count + 1)
    }
}

/// A physical network card as sysfs shows it.
public struct NetworkInterfaceFact: Codable, Equatable, Sendable {
    public var name: String
    public var mac: String
    public var wireless: Bool
    /// The bus the card sits on (`pci`, `usb`, ...), when sysfs says.
    public var bus: String?
    /// True for cards that can move between machines: USB adapters and docks.
    public var removable: Bool

    public init(name: String, mac: String, wireless: Bool = false, bus: String? = nil, removable: Bool = false) {
        self.name = name
        self.mac = mac
        self.wireless = wireless
        self.bus = bus
        self.removable = removable
    }
}

import Foundation
import ImprintCore

/// A unit's own record as the admin describes it, every value already validated: what `add`, `set` and a CSV row
/// produce, and what the inventory stores.
public struct UnitDraft: Equatable, Sendable {
    public var hostname: Hostname
    public var domain: DomainName?
    public var group: String?
    public var model: String?
    public var notes: String?
    /// Serial, UUID, asset tag and MAC addresses, in the order they were entered.
    public var identifiers: [Identifier]
    /// Interfaces with their own settings; a MAC without an entry here uses DHCP and the group's defaults.
    public var interfaces: [InterfaceConfig]
    /// The unit's network as pasted netplan/cloud-init "version 2" YAML or JSON, kept as given; when set, the
    /// interfaces are read from it (see `NetplanV2`).
    public var netplan: String?
    /// The stack to render the unit's network for, over its group's; nil takes the group's (or detects it).
    public var networkStack: NetworkStack?
    /// Queues the unit has besides its group's.
    public var printers: [PrinterName]
    public var defaultPrinter: PrinterName?
    /// The unit's own values of custom fields, by field name (over its group's).
    public var fields: [String: String]

    public init(
        hostname: Hostname, domain: DomainName? = nil, group: String? = nil, model: String? = nil,
        notes: String? = nil, identifiers: [Identifier] = [], interfaces: [InterfaceConfig] = [],
        printers: [PrinterName] = [], defaultPrinter: PrinterName? = nil, netplan: String? = nil,
        networkStack: NetworkStack? = nil, fields: [String: String] = [:]
    ) {
        self.fields = fields
        self.netplan = netplan
        self.networkStack = networkStack
        self.hostname = hostname
        self.domain = domain
        self.group = group
        self.model = model
        self.notes = notes
        self.identifiers = identifiers
        self.interfaces = interfaces
        self.printers = printers
        self.defaultPrinter = defaultPrinter
    }

    /// The draft with duplicates removed and every configured interface's MAC listed among the identifiers, so
    /// that the unit is found by the card it configures.
    func normalized() throws(CoreError) -> UnitDraft {
        var copy = self
        if let netplan {
            if netplan.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                copy.netplan = nil
            } else {
                copy.interfaces = try NetplanV2.interfaces(netplan)
            }
        }
        let interfaces = copy.interfaces
        var seen = Set<Identifier>()
        copy.identifiers = identifiers.filter { seen.insert($0).inserted }
        // A card bound by its name alone has no MAC to find the unit by.
        for interface in interfaces {
            guard let mac = interface.mac else { continue }
            let identifier = try Identifier(.mac, mac.value)
            if seen.insert(identifier).inserted { copy.identifiers.append(identifier) }
        }
        copy.identifiers = Self.canonicalOrder(copy.identifiers)
        // Checked when a unit is written, not when InterfaceConfig is built: a stored row from before this check
        // must still load, so that the admin can see and fix it.
        for interface in interfaces {
            for prefix in interface.addresses {
                if let reason = prefix.notAHostAddress {
                    throw .invalidValue(field: "address", value: prefix.description, reason: reason)
                }
            }
        }
        var macs = Set<MACAddress>()
        for interface in interfaces {
            if let mac = interface.mac, !macs.insert(mac).inserted {
                throw .invalidValue(field: "interfaces", value: mac.value, reason: "two interfaces have this MAC; give each card once")
            }
        }
        for kind in [IdentifierKind.serial, .uuid, .assetTag] where copy.identifiers.filter({ $0.kind == kind }).count > 1 {
            throw .invalidValue(
                field: kind.label, value: copy.identifiers.filter { $0.kind == kind }.map(\.value).joined(separator: " "),
                reason: "a unit has one \(kind.label); give only one")
        }
        var printerNames = Set<String>()
        copy.printers = printers.filter { printerNames.insert($0.value.lowercased()).inserted }
        return copy
    }

    /// The static addresses of every interface, without their prefix lengths: what must not be another unit's.
    var staticAddresses: [IPAddress] {
        var seen = Set<IPAddress>()
        return interfaces.flatMap { $0.addresses.map(\.address) }.filter { seen.insert($0).inserted }
    }

    /// Identifiers by kind (serial, UUID, asset tag, MACs), MACs in the order given, so that the same unit always
    /// compares equal however its identifiers were entered.
    static func canonicalOrder(_ identifiers: [Identifier]) -> [Identifier] {
        IdentifierKind.allCases.flatMap { kind in identifiers.filter { $0.kind == kind } }
    }

    /// Validates optional free text: nil or empty stays nil.
    static func optionalText(_ text: String?, field: String, maxLength: Int = 255) throws(CoreError) -> String? {
        guard let text else { return nil }
        let checked = try FieldText.check(text, field: field, maxLength: maxLength)
        return checked.isEmpty ? nil : checked
    }
}

/// A unit as stored: the draft plus what the inventory keeps about it.
public struct UnitRecord: Equatable, Sendable {
    public var draft: UnitDraft
    public var revision: Int
    public var createdAt: Date
    public var updatedAt: Date
    /// The record with the group's defaults applied: what the agent works from.
    public var profile: UnitProfile
}

/// A changed field: left alone, cleared, or set to a value.
public enum Change<Value: Equatable & Sendable>: Equatable, Sendable {
    case keep
    case clear
    case set(Value)

    func applied(to value: Value?) -> Value? {
        switch self {
        case .keep: return value
        case .clear: return nil
        case .set(let new): return new
        }
    }
}

/// What `imprint inventory set` changes on a unit; everything not mentioned is kept.
public struct UnitChanges: Equatable, Sendable {
    public var hostname: Hostname?
    public var domain: Change<DomainName> = .keep
    public var group: Change<String> = .keep
    public var model: Change<String> = .keep
    public var notes: Change<String> = .keep
    /// Identifiers to add; a serial, UUID or asset tag replaces the unit's current one of that kind.
    public var addIdentifiers: [Identifier] = []
    public var removeIdentifiers: [Identifier] = []
    /// Replaces the interface with the same MAC, or adds it.
    public var interface: InterfaceConfig?
    public var removeInterface: MACAddress?
    /// Sets (or clears) the unit's network as netplan v2 text; an interface change above clears it, since the
    /// interfaces then no longer come from the pasted text.
    public var netplan: Change<String> = .keep
    public var networkStack: Change<NetworkStack> = .keep
    public var addPrinters: [PrinterName] = []
    public var removePrinters: [PrinterName] = []
    public var defaultPrinter: Change<PrinterName> = .keep
    /// Custom field values to set; an empty value removes the unit's own value (its group's then applies).
    public var fields: [String: String] = [:]

    public init() {}

    /// `draft` with these changes made.
    public func applied(to draft: UnitDraft) throws(InventoryError) -> UnitDraft {
        var result = draft
        if let hostname { result.hostname = hostname }
        result.domain = domain.applied(to: draft.domain)
        result.group = group.applied(to: draft.group)
        result.model = model.applied(to: draft.model)
        result.notes = notes.applied(to: draft.notes)
        for identifier in removeIdentifiers {
            guard result.identifiers.contains(identifier) else {
                throw .refused(reason: "unit \(draft.hostname) has no \(identifier); 'imprint inventory show \(draft.hostname)' lists its identifiers")
            }
            result.identifiers.removeAll { $0 == identifier }
            if identifier.kind == .mac { result.interfaces.removeAll { $0.mac?.value == identifier.value } }
        }
        for identifier in addIdentifiers {
            if identifier.kind != .mac { result.identifiers.removeAll { $0.kind == identifier.kind } }
            if !result.identifiers.contains(identifier) { result.identifiers.append(identifier) }
        }
        result.networkStack = networkStack.applied(to: draft.networkStack)
        result.netplan = netplan.applied(to: draft.netplan)
        if case .clear = netplan { result.interfaces = [] }
        if removeInterface != nil || interface != nil || removeIdentifiers.contains(where: { $0.kind == .mac }) {
            result.netplan = nil
        }
        if let removeInterface {
            result.interfaces.removeAll { $0.mac == removeInterface }
        }
        if let interface {
            if let index = result.interfaces.firstIndex(where: { $0.mac == interface.mac }) {
                result.interfaces[index] = interface
            } else {
                result.interfaces.append(interface)
            }
        }
        applyPrinterChanges(
            to: &result.printers, default: &result.defaultPrinter, adding: addPrinters, removing: removePrinters,
            defaultChange: defaultPrinter)
        applyFieldChanges(fields, to: &result.fields)
        return result
    }
}

/// Sets custom field values, an empty value removing the field's value, the same way for a unit and a group.
func applyFieldChanges(_ changes: [String: String], to fields: inout [String: String]) {
    for (name, value) in changes {
        fields[name] = value.trimmingSpaces().isEmpty ? nil : value
    }
}

/// Removes and adds queues (names compared without case, as CUPS does) and sets the default, the same way for a
/// unit and a group; removing the default queue clears the default.
func applyPrinterChanges(
    to printers: inout [PrinterName], default defaultPrinter: inout PrinterName?, adding: [PrinterName],
    removing: [PrinterName], defaultChange: Change<PrinterName>
) {
    for printer in removing {
        printers.removeAll { $0.value.lowercased() == printer.value.lowercased() }
        if defaultPrinter?.value.lowercased() == printer.value.lowercased() { defaultPrinter = nil }
    }
    for printer in adding where !printers.contains(where: { $0.value.lowercased() == printer.value.lowercased() }) {
        printers.append(printer)
    }
    defaultPrinter = defaultChange.applied(to: defaultPrinter)
}

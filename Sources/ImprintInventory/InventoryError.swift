import ImprintCore

/// Errors from the inventory: missing records, values that break its rules, rows of a file that cannot be imported,
/// and units that cannot be told apart.
public enum InventoryError: Error, Sendable {
    /// There is no inventory database at `path`.
    case missingDatabase(path: String)
    /// The database could not be opened, read or written; `underlying` is what SQLite (or the system) said.
    case database(path: String, reason: String, underlying: String? = nil)
    /// No unit is known by `reference` (a hostname or an identifier).
    case unitNotFound(reference: String)
    case groupNotFound(name: String)
    case printerNotFound(name: String)
    /// No unit has hardware model `model`; `known` lists the models units have (lowercased).
    case modelNotFound(model: String, known: [String])
    /// A record with that name already exists.
    case alreadyExists(kind: String, name: String, hint: String)
    /// An identifier already belongs to another unit.
    case identifierTaken(Identifier, owner: String)
    /// A static address already belongs to another unit.
    case addressTaken(IPAddress, owner: String)
    /// A unit names a group the inventory does not have; `closest` is the existing group whose name is nearest.
    case unknownGroup(name: String, closest: String?, hint: String)
    /// A request that breaks a rule of the inventory, such as removing a printer that units still use.
    case refused(reason: String)
    /// A value entered for a record is not valid.
    case invalid(CoreError)
    /// A CSV file with rows that cannot be imported; nothing was written.
    case importFailed(file: String, problems: [RowProblem])
    /// No unit matches the facts.
    case noMatch(usable: [Identifier], ignored: [HardwareFacts.IgnoredFact])
    /// Every identifier in the facts is a placeholder or removable, so nothing can be matched.
    case noUsableIdentifiers(ignored: [HardwareFacts.IgnoredFact])
    /// The facts point to more than one unit.
    case conflict(owners: [String: [Identifier]])
}

/// One bad row of an imported file: its line, the column at fault where one is, and what is wrong.
public struct RowProblem: Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    /// The column whose cell is bad; nil when the row as a whole is (a units row's problems are joined in one).
    public var column: String?
    public var reason: String

    public init(line: Int, column: String? = nil, reason: String) {
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String {
        guard line > 0 else { return reason }
        return "line \(line)" + (column.map { ", column '\($0)'" } ?? "") + ": \(reason)"
    }
}

extension InventoryError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .missingDatabase(let path):
            return "no inventory at \(quoted(path)); create it with 'imprint inventory init' or point --inventory at one"
        case let .database(path, reason, _):
            return "inventory \(quoted(path)): \(reason)"
        case .unitNotFound(let reference):
            return "no unit \(quoted(reference)) in the inventory; 'imprint inventory list' shows the units"
        case .groupNotFound(let name):
            return "no group \(quoted(name)); create it with 'imprint inventory group add \(name)'"
        case let .modelNotFound(model, known):
            return "no unit of model \(quoted(model)) in the inventory; its models are "
                + (known.isEmpty ? "none" : known.map(quoted).joined(separator: ", "))
                + " (compared without case); or name the units with '--unit' or '--group'"
        case .printerNotFound(let name):
            return "no printer \(quoted(name)); create it with 'imprint inventory printer add \(name) --uri URI'"
        case let .alreadyExists(kind, name, hint):
            return "\(kind) \(quoted(name)) already exists; \(hint)"
        case let .identifierTaken(identifier, owner):
            return "\(identifier) already belongs to unit \(owner); remove it there first with "
                + "'imprint inventory set \(owner) --remove-\(identifier.kind == .mac ? "mac" : identifier.kind.rawValue) \(identifier.value)'"
        case let .addressTaken(address, owner):
            return "address \(address) already belongs to unit \(owner); give each unit its own address, or change "
                + "\(owner)'s first with 'imprint inventory set \(owner) --\(address.family == .ipv4 ? "ipv4" : "ipv6") ADDRESS/PREFIX'"
        case let .unknownGroup(name, closest, hint):
            let nearest = closest.map { "the closest existing group is \(quoted($0))" } ?? "the inventory has no groups yet"
            return "no group \(quoted(name)) (\(nearest)); fix the group name, or \(hint)"
        case .refused(let reason):
            return reason
        case .invalid(let error):
            return error.description
        case let .importFailed(file, problems):
            let noun = problems.count == 1 ? "row" : "rows"
            return "\(quoted(file)): \(problems.count) bad \(noun), nothing imported "
                + "(fix them, or import the good rows with --skip-invalid):\n"
                + problems.map { "  \($0)" }.joined(separator: "\n")
        case let .noMatch(usable, ignored):
            let flags = usable.map { "--\(flagName($0.kind)) \($0.value)" }.joined(separator: " ")
            return "no unit matches \(usable.map(\.description).joined(separator: ", "))"
                + ignoredText(ignored)
                + "; add it with 'imprint inventory add HOSTNAME \(flags)'"
        case .noUsableIdentifiers(let ignored):
            return "the facts hold no identifier that can tell this unit apart"
                + ignoredText(ignored)
                + "; record this unit's MAC address or a real serial number, or give a facts file with --facts"
        case .conflict(let owners):
            let parts = owners.keys.sorted().map { owner in
                "\(owner) by \(owners[owner, default: []].map(\.description).joined(separator: ", "))"
            }
            return "the facts match \(owners.count) different units: \(parts.joined(separator: "; ")); "
                + "remove the wrong identifier with 'imprint inventory set UNIT --remove-mac ...' (or --remove-serial), "
                + "nothing was changed"
        }
    }

    private func ignoredText(_ ignored: [HardwareFacts.IgnoredFact]) -> String {
        guard !ignored.isEmpty else { return "" }
        return " (ignored: " + ignored.map { "\($0.field) \(quoted($0.value)), \($0.reason)" }.joined(separator: "; ") + ")"
    }
}

func flagName(_ kind: IdentifierKind) -> String {
    switch kind {
    case .serial: return "serial"
    case .uuid: return "uuid"
    case .assetTag: return "asset-tag"
    case .mac: return "mac"
    }
}

extension InventoryError: ChainedError {
    public var underlyingDescription: String? {
        if case let .database(_, _, underlying) = self { return underlying }
        return nil
    }
}

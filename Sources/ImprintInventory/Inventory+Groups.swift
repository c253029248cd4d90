import Foundation
import GRDB
import ImprintCore

/// A group of units (a room, a cart, a site) and the defaults its units inherit.
public struct GroupDraft: Equatable, Sendable {
    public var name: String
    public var domain: DomainName?
    public var dns: [IPAddress]
    public var search: [DomainName]
    public var networkMode: NetworkMode
    /// Forces a network stack for the group's units; nil lets the agent detect it from the image.
    public var networkStack: NetworkStack?
    /// How `inventory name` and enrolment name new units of this group.
    public var namingPattern: NamingPattern?
    /// Whether a unit not in the inventory may enrol itself into this group at its first run.
    public var enroll: Bool
    public var printers: [PrinterName]
    public var defaultPrinter: PrinterName?
    /// The group's values of custom fields, by field name: every unit of the group has them unless it has its own.
    public var fields: [String: String]
    /// The network of every unit of the group that has no netplan document of its own: a netplan "version 2"
    /// document written as a Mustache template of the unit's values (`{{address}}`, `{{mac}}`, `{{hostname}}`, custom
    /// fields), so a room's bridge or VLAN is written once and each unit's address comes from its own record.
    public var netplan: String?

    public init(
        name: String, domain: DomainName? = nil, dns: [IPAddress] = [], search: [DomainName] = [],
        networkMode: NetworkMode = .dhcp, networkStack: NetworkStack? = nil, namingPattern: NamingPattern? = nil,
        enroll: Bool = false, printers: [PrinterName] = [], defaultPrinter: PrinterName? = nil,
        fields: [String: String] = [:], netplan: String? = nil
    ) throws(CoreError) {
        self.fields = fields
        self.netplan = netplan
        self.name = try Self.checkName(name)
        self.domain = domain
        self.dns = dns
        self.search = search
        self.networkMode = networkMode
        self.networkStack = networkStack
        self.namingPattern = namingPattern
        self.enroll = enroll
        self.printers = printers
        self.defaultPrinter = defaultPrinter
    }

    /// A group name: 1 to 64 characters of text, no control characters.
    public static func checkName(_ text: String) throws(CoreError) -> String {
        let name = try FieldText.check(text, field: "group name", maxLength: 64)
        if name.isEmpty { throw .invalidValue(field: "group name", value: text, reason: "is empty") }
        return name
    }
}

/// What `imprint inventory group set` changes; everything not mentioned is kept.
public struct GroupChanges: Equatable, Sendable {
    public var name: String?
    public var domain: Change<DomainName> = .keep
    public var dns: [IPAddress]?
    public var search: [DomainName]?
    public var networkMode: NetworkMode?
    public var networkStack: Change<NetworkStack> = .keep
    public var namingPattern: Change<NamingPattern> = .keep
    public var enroll: Bool?
    public var addPrinters: [PrinterName] = []
    public var removePrinters: [PrinterName] = []
    public var defaultPrinter: Change<PrinterName> = .keep
    /// Custom field values to set; an empty value removes the group's value.
    public var fields: [String: String] = [:]
    public var netplan: Change<String> = .keep

    public init() {}

    public func applied(to group: GroupDraft) throws(CoreError) -> GroupDraft {
        var result = group
        if let name { result.name = try GroupDraft.checkName(name) }
        result.domain = domain.applied(to: group.domain)
        if let dns { result.dns = dns }
        if let search { result.search = search }
        if let networkMode { result.networkMode = networkMode }
        result.networkStack = networkStack.applied(to: group.networkStack)
        result.namingPattern = namingPattern.applied(to: group.namingPattern)
        if let enroll { result.enroll = enroll }
        applyPrinterChanges(
            to: &result.printers, default: &result.defaultPrinter, adding: addPrinters, removing: removePrinters,
            defaultChange: defaultPrinter)
        applyFieldChanges(fields, to: &result.fields)
        result.netplan = netplan.applied(to: group.netplan)
        return result
    }
}

/// A group as stored, with how many units it has.
public struct GroupRecord: Equatable, Sendable {
    public var draft: GroupDraft
    public var unitCount: Int
    /// Which of the group's custom fields are secret, so that views mask them.
    public var secretFields: Set<String> = []
}

extension Inventory {
    public func addGroup(_ draft: GroupDraft) throws(InventoryError) {
        try write { db in _ = try self.save(draft, replacing: nil, db: db) }
    }

    /// Changes a group; every unit in it gets a new revision, so the agent applies the change at its next run.
    public func updateGroup(_ name: String, _ changes: GroupChanges) throws(InventoryError) {
        try write { db in
            let id = try self.groupId(name, create: false, db: db)
            let current = try self.groupDraft(id: id, db: db)
            let updated: GroupDraft
            do throws(CoreError) { updated = try changes.applied(to: current) } catch { throw InventoryError.invalid(error) }
            if updated != current {
                _ = try self.save(updated, replacing: id, db: db)
                try self.bumpRevisions(groupIds: [id], db: db)
                if updated.netplan != nil { try self.checkNetworkDocument(groupId: id, db: db) }
            }
        }
    }

    /// Removes a group that no unit belongs to.
    public func removeGroup(_ name: String) throws(InventoryError) {
        try write { db in
            let id = try self.groupId(name, create: false, db: db)
            let members = try String.fetchAll(
                db, sql: "SELECT hostname FROM unit WHERE groupId = ? ORDER BY hostname LIMIT 6", arguments: [id])
            if !members.isEmpty {
                throw InventoryError.refused(
                    reason: "group \(quoted(name)) still has units (\(members.prefix(5).joined(separator: ", "))"
                        + "\(members.count > 5 ? ", ..." : "")); move them with 'imprint inventory set UNIT --group OTHER' first")
            }
            _ = try GroupRow.deleteOne(db, key: id)
        }
    }

    public func group(_ name: String) throws(InventoryError) -> GroupRecord {
        try read { db in
            let id = try self.groupId(name, create: false, db: db)
            return GroupRecord(
                draft: try self.groupDraft(id: id, db: db), unitCount: try self.unitCount(groupId: id, db: db),
                secretFields: try Self.secretFieldNames(db))
        }
    }

    public func groups() throws(InventoryError) -> [GroupRecord] {
        try read { db in
            let secret = try Self.secretFieldNames(db)
            return try GroupRow.order(GroupRow.Columns.name.collating(.nocase)).fetchAll(db).compactMap(\.id).map { id in
                GroupRecord(
                    draft: try self.groupDraft(id: id, db: db), unitCount: try self.unitCount(groupId: id, db: db), secretFields: secret)
            }
        }
    }

    // MARK: - Inside a transaction

    func groupId(_ name: String, create: Bool, db: Database) throws -> Int64 {
        if let id = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM unitGroup WHERE name = ?"), arguments: [name]) {
            return id
        }
        guard create else { throw InventoryError.groupNotFound(name: name) }
        return try save(try GroupDraft(name: name), replacing: nil, db: db)
    }

    /// The id of the group a unit names; a group the inventory does not have is created with default settings
    /// when `create` is set, and otherwise refused naming the closest existing group, since a mistyped room name
    /// would make a group with no domain, network or printers.
    func unitGroupId(_ name: String, create: Bool, db: Database) throws -> Int64 {
        if create { return try groupId(name, create: true, db: db) }
        if let id = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM unitGroup WHERE name = ?"), arguments: [name]) {
            return id
        }
        throw InventoryError.unknownGroup(
            name: name, closest: Self.closest(to: name, among: try String.fetchAll(db, sql: "SELECT name FROM unitGroup")),
            hint: "create it first with 'imprint inventory group add \(name)'")
    }

    /// The name in `names` fewest edits away from `name` (letters compared without case), the first in sorted order
    /// among equally close ones; nil when `names` is empty.
    static func closest(to name: String, among names: [String]) -> String? {
        let wanted = Array(name.lowercased())
        return names.map { (editDistance(wanted, Array($0.lowercased())), $0) }.min { $0 < $1 }?.1
    }

    /// The Levenshtein distance: how many characters must be inserted, removed or replaced to turn `a` into `b`.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, left) in a.enumerated() {
            var current = [i + 1]
            for (j, right) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (left == right ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }

    func groupPrinterIds(_ groupId: Int64, db: Database) throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT printerId FROM groupPrinter WHERE groupId = ? ORDER BY position", arguments: [groupId])
    }

    func unitCount(groupId: Int64, db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM unit WHERE groupId = ?", arguments: [groupId]) ?? 0
    }

    func save(_ draft: GroupDraft, replacing existing: Int64?, db: Database) throws -> Int64 {
        if let other = try GroupRow.filter(GroupRow.Columns.name == draft.name).fetchOne(db), other.id != existing {
            throw InventoryError.alreadyExists(
                kind: "group", name: other.name, hint: "change it with 'imprint inventory group set \(other.name)'")
        }
        let printerIds = try draft.printers.map { name in try printerId(name.value, db: db) }
        var defaultId: Int64?
        if let wanted = draft.defaultPrinter {
            let id = try printerId(wanted.value, db: db)
            guard printerIds.contains(id) else {
                throw InventoryError.refused(
                    reason: "default printer \(quoted(wanted.value)) is not one of group \(quoted(draft.name))'s printers; "
                        + "add it with --printer \(wanted.value)")
            }
            defaultId = id
        }
        var row = GroupRow(
            id: existing, name: draft.name, domain: draft.domain?.value,
            dns: draft.dns.map(\.value).joined(separator: " "), search: draft.search.map(\.value).joined(separator: " "),
            networkMode: draft.networkMode.rawValue, networkStack: draft.networkStack?.rawValue,
            namingPattern: draft.namingPattern?.description, enroll: draft.enroll, defaultPrinterId: defaultId,
            netplan: try draft.netplan.map { text in try self.checkedNetworkDocument(text, group: draft.name, db: db) })
        if existing == nil { try row.insert(db) } else { try row.update(db) }
        guard let id = row.id else { throw InventoryError.database(path: path, reason: "a group was stored without an id") }
        try db.execute(sql: "DELETE FROM groupPrinter WHERE groupId = ?", arguments: [id])
        for (position, printerId) in printerIds.enumerated() {
            try db.execute(
                sql: "INSERT INTO groupPrinter (groupId, printerId, position) VALUES (?, ?, ?)",
                arguments: [id, printerId, position])
        }
        try saveFieldValues(draft.fields, groupId: id, db: db)
        return id
    }

    func groupDraft(id: Int64, db: Database) throws -> GroupDraft {
        guard let row = try GroupRow.fetchOne(db, key: id) else { throw InventoryError.groupNotFound(name: "#\(id)") }
        let printers = try String.fetchAll(
            db, sql: """
                SELECT printer.name FROM groupPrinter JOIN printer ON printer.id = groupPrinter.printerId
                WHERE groupPrinter.groupId = ? ORDER BY groupPrinter.position
                """, arguments: [id])
        let defaultPrinter = try String.fetchOne(
            db, sql: "SELECT name FROM printer WHERE id = ?", arguments: [row.defaultPrinterId])
        return try GroupDraft(
            name: row.name, domain: try row.domain.map { text in try DomainName(text) },
            dns: try ValueList.split(row.dns).map { text in try IPAddress(text, field: "DNS server") },
            search: try ValueList.split(row.search).map { text in try DomainName(text, field: "search domain") },
            networkMode: try NetworkMode(row.networkMode),
            networkStack: try row.networkStack.map { text in try NetworkStack(text) },
            namingPattern: try row.namingPattern.map { text in try NamingPattern(text) },
            enroll: row.enroll, printers: try printers.map { text in try PrinterName(text) },
            defaultPrinter: try defaultPrinter.map { text in try PrinterName(text) },
            fields: try fieldValues(groupId: id, db: db), netplan: row.netplan)
    }
}

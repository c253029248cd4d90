import Foundation
import GRDB
import ImprintCore

extension Inventory {
    /// Adds a unit.
    /// - Parameters:
    ///   - createGroup: create the unit's group with default settings when it does not exist yet; otherwise a
    ///     missing group is refused, naming the closest existing one.
    @discardableResult
    public func addUnit(_ draft: UnitDraft, createGroup: Bool = false) throws(InventoryError) -> UnitRecord {
        try write { db in
            let id = try self.save(draft, replacing: nil, createGroup: createGroup, db: db)
            return try self.record(id: id, db: db)
        }
    }

    /// Changes a unit found by hostname or identifier; its revision grows only when something really changed.
    @discardableResult
    public func updateUnit(_ reference: String, _ changes: UnitChanges) throws(InventoryError) -> UnitRecord {
        try write { db in
            let id = try self.unitId(reference, db: db)
            let current = try self.draft(id: id, db: db)
            _ = try self.save(try changes.applied(to: current), replacing: id, createGroup: false, db: db)
            return try self.record(id: id, db: db)
        }
    }

    /// Removes a unit and its identifiers; its history rows stay, with the hostname they had.
    /// - Important: the unit's identifiers are forgotten, so the machine is "not found" at its next run.
    public func removeUnit(_ reference: String) throws(InventoryError) {
        try write { db in
            let id = try self.unitId(reference, db: db)
            _ = try UnitRow.deleteOne(db, key: id)
        }
    }

    /// The unit found by hostname or by any of its identifiers.
    public func unit(_ reference: String) throws(InventoryError) -> UnitRecord {
        try read { db in try self.record(id: try self.unitId(reference, db: db), db: db) }
    }

    /// Every unit, by hostname.
    public func units(group: String? = nil) throws(InventoryError) -> [UnitRecord] {
        try read { db in
            let context = try LoadContext(db: db)
            return try self.unitRows(group: group, db: db).map { row in try self.record(row: row, context: context, db: db) }
        }
    }

    /// The units of `group` (default: every unit) by hostname, each read on its own: a unit whose stored record no
    /// longer passes the checks (a pasted netplan document stored before a check existed, or edited by hand) comes
    /// with its error instead of failing the whole list, so that `preflight` names it beside the others.
    public func unitsReadOneByOne(group: String? = nil) throws(InventoryError) -> [(hostname: String, record: Result<UnitRecord, any Error>)] {
        try read { db in
            let context = try LoadContext(db: db)
            return try self.unitRows(group: group, db: db).map { row in
                (row.hostname, Result { try self.record(row: row, context: context, db: db) })
            }
        }
    }

    // MARK: - Inside a transaction

    /// The rows of the units of `group` (default: every unit), by hostname.
    func unitRows(group: String?, db: Database) throws -> [UnitRow] {
        var request = UnitRow.all()
        if let group {
            guard let row = try GroupRow.filter(GroupRow.Columns.name == group).fetchOne(db) else {
                throw InventoryError.groupNotFound(name: group)
            }
            request = request.filter(UnitRow.Columns.groupId == row.id)
        }
        return try request.order(UnitRow.Columns.hostname.collating(.nocase)).fetchAll(db)
    }

    /// Finds a unit by hostname first, then by any identifier that `reference` can be read as.
    func unitId(_ reference: String, db: Database) throws -> Int64 {
        if let row = try unitRow(hostname: reference.trimmingSpaces(), db: db), let id = row.id {
            return id
        }
        for kind in IdentifierKind.allCases {
            guard let identifier = try? Identifier(kind, reference) else { continue }
            if let owner = try ownerId(of: identifier, db: db) { return owner }
        }
        throw InventoryError.unitNotFound(reference: reference)
    }

    // The lookups and inserts below run once per row of an import and once per identifier of a match, so they use
    // cached prepared statements.

    func ownerId(of identifier: Identifier, db: Database) throws -> Int64? {
        try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT unitId FROM identifier WHERE kind = ? AND value = ?"),
            arguments: [identifier.kind.rawValue, identifier.value])
    }

    /// The unit with this hostname, compared without case.
    func unitRow(hostname: String, db: Database) throws -> UnitRow? {
        try UnitRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM unit WHERE hostname = ?"), arguments: [hostname])
    }

    func hostname(ofUnit id: Int64, db: Database) throws -> String {
        try String.fetchOne(db.cachedStatement(sql: "SELECT hostname FROM unit WHERE id = ?"), arguments: [id]) ?? "#\(id)"
    }

    /// Writes `draft` as a new unit or over unit `existing`, keeping every invariant; returns the unit's id.
    /// - Parameters:
    ///   - addresses: who has which static address, when the caller keeps it for many saves (an import); read from
    ///     the database when nil.
    func save(
        _ input: UnitDraft, replacing existing: Int64?, createGroup: Bool, addresses: AddressOwners? = nil, db: Database
    ) throws -> Int64 {
        let draft: UnitDraft
        do throws(CoreError) { draft = try input.normalized() } catch { throw InventoryError.invalid(error) }

        try checkNothingTaken(draft, by: existing, addresses: addresses, db: db)
        let unitGroupId = try draft.group.map { name in try self.unitGroupId(name, create: createGroup, db: db) }
        let printerIds = try draft.printers.map { name in try printerId(name.value, db: db) }
        let defaultPrinterId = try self.defaultPrinterId(draft, printerIds: printerIds, groupId: unitGroupId, db: db)

        let now = clock()
        var row = UnitRow(
            id: existing, hostname: draft.hostname.value, domain: draft.domain?.value, groupId: unitGroupId,
            model: draft.model, notes: draft.notes, defaultPrinterId: defaultPrinterId, revision: 1,
            createdAt: now, updatedAt: now, netplan: draft.netplan, networkStack: draft.networkStack?.rawValue)
        if let existing {
            guard let stored = try UnitRow.fetchOne(db, key: existing) else {
                throw InventoryError.unitNotFound(reference: draft.hostname.value)
            }
            if try self.draft(id: existing, db: db) == draft { return existing }
            row.revision = stored.revision + 1
            row.createdAt = stored.createdAt
            try row.update(db)
            try IdentifierRow.filter(IdentifierRow.Columns.unitId == existing).deleteAll(db)
            try InterfaceRow.filter(InterfaceRow.Columns.unitId == existing).deleteAll(db)
            try db.execute(sql: "DELETE FROM unitPrinter WHERE unitId = ?", arguments: [existing])
        } else {
            try row.insert(db)
        }
        guard let id = row.id else { throw InventoryError.database(path: path, reason: "a unit was stored without an id") }
        try insertChildren(of: id, draft, printerIds: printerIds, db: db)
        if draft.netplan == nil, let unitGroupId, try Self.hasNetworkDocument(groupId: unitGroupId, db: db) {
            _ = try record(id: id, db: db)  // the group's document renders for this unit, or the save is refused
        }
        return id
    }

    /// Refuses a hostname, identifier or static address that a unit other than `existing` already has.
    /// - Parameters:
    ///   - addresses: who has which static address, or nil to read it from the database.
    private func checkNothingTaken(_ draft: UnitDraft, by existing: Int64?, addresses: AddressOwners?, db: Database) throws {
        if let other = try unitRow(hostname: draft.hostname.value, db: db), other.id != existing {
            throw InventoryError.alreadyExists(
                kind: "unit", name: other.hostname,
                hint: "choose another hostname, or change that unit with 'imprint inventory set \(other.hostname)'")
        }
        for identifier in draft.identifiers {
            if let owner = try ownerId(of: identifier, db: db), owner != existing {
                throw InventoryError.identifierTaken(identifier, owner: try hostname(ofUnit: owner, db: db))
            }
        }
        let staticAddresses = draft.staticAddresses
        if !staticAddresses.isEmpty {
            let owners = try addresses ?? AddressOwners(db: db)
            for address in staticAddresses {
                if let owner = owners.owner(of: address, other: existing) {
                    throw InventoryError.addressTaken(address, owner: try hostname(ofUnit: owner, db: db))
                }
            }
        }
    }

    /// The id of the unit's default printer, which must be one of its own or its group's printers.
    private func defaultPrinterId(_ draft: UnitDraft, printerIds: [Int64], groupId unitGroupId: Int64?, db: Database) throws -> Int64? {
        guard let wanted = draft.defaultPrinter else { return nil }
        let id = try printerId(wanted.value, db: db)
        let groupPrinters = try unitGroupId.map { id in try self.groupPrinterIds(id, db: db) } ?? []
        guard printerIds.contains(id) || groupPrinters.contains(id) else {
            throw InventoryError.refused(
                reason: "default printer \(quoted(wanted.value)) is not one of unit \(draft.hostname)'s printers; "
                    + "add it with --printer \(wanted.value) first")
        }
        return id
    }

    /// Stores the unit's identifiers, interfaces and printers (the caller deleted the old ones).
    private func insertChildren(of id: Int64, _ draft: UnitDraft, printerIds: [Int64], db: Database) throws {
        let insertIdentifier = try db.cachedStatement(sql: "INSERT INTO identifier (unitId, kind, value) VALUES (?, ?, ?)")
        for identifier in draft.identifiers {
            try insertIdentifier.execute(arguments: [id, identifier.kind.rawValue, identifier.value])
        }
        for (position, interface) in draft.interfaces.enumerated() {
            var interfaceRow = InterfaceRow(unitId: id, position: position, config: interface)
            try interfaceRow.insert(db)
        }
        for (position, printerId) in printerIds.enumerated() {
            try db.cachedStatement(sql: "INSERT INTO unitPrinter (unitId, printerId, position) VALUES (?, ?, ?)")
                .execute(arguments: [id, printerId, position])
        }
        try saveFieldValues(draft.fields, unitId: id, db: db)
    }

    /// The unit's own record as stored.
    func draft(id: Int64, db: Database) throws -> UnitDraft {
        let row = try unitRow(id: id, db: db)
        return try draft(row: row, context: try LoadContext(db: db, onlyGroup: row.groupId), db: db)
    }

    func record(id: Int64, db: Database) throws -> UnitRecord {
        let row = try unitRow(id: id, db: db)
        return try record(row: row, context: try LoadContext(db: db, onlyGroup: row.groupId), db: db)
    }

    /// One unit's row. Like every statement on the way to one unit's record it is a cached prepared statement:
    /// the server loads a record for each unit that asks, and preparing a statement (GRDB asks SQLite's authorizer
    /// about every column) cost more than running it.
    private func unitRow(id: Int64, db: Database) throws -> UnitRow {
        guard let row = try UnitRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM unit WHERE id = ?"), arguments: [id]) else {
            throw InventoryError.unitNotFound(reference: "#\(id)")
        }
        return row
    }

    /// Groups and printers, loaded once for building many records (all of them), or for one unit (its group only).
    struct LoadContext {
        var groups: [Int64: GroupRow]
        var printers: [Int64: PrinterRow]
        var groupPrinters: [Int64: [Int64]]
        var fields: [FieldRow]

        /// - Parameters:
        ///   - onlyGroup: load just this group (nil: no group at all) instead of every group.
        init(db: Database, onlyGroup: Int64?? = .none) throws {
            let groupRows: [GroupRow]
            let links: [Row]
            switch onlyGroup {
            case .none:
                groupRows = try GroupRow.fetchAll(db)
                links = try Row.fetchAll(db, sql: "SELECT groupId, printerId FROM groupPrinter ORDER BY groupId, position")
            case .some(let id):
                groupRows = try id.flatMap { id in
                    try GroupRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM unitGroup WHERE id = ?"), arguments: [id])
                }.map { [$0] } ?? []
                links = try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT groupId, printerId FROM groupPrinter WHERE groupId = ? ORDER BY position"),
                    arguments: [id])
            }
            groups = Dictionary(uniqueKeysWithValues: groupRows.compactMap { row in row.id.map { ($0, row) } })
            printers = Dictionary(uniqueKeysWithValues: try PrinterRow.fetchAll(db.cachedStatement(sql: "SELECT * FROM printer"))
                .compactMap { row in row.id.map { ($0, row) } })
            groupPrinters = [:]
            fields = try Inventory.fieldRows(db)
            for row in links {
                groupPrinters[row["groupId"], default: []].append(row["printerId"])
            }
        }
    }

    func draft(row: UnitRow, context: LoadContext, db: Database) throws -> UnitDraft {
        guard let id = row.id else { throw InventoryError.unitNotFound(reference: row.hostname) }
        let identifiers = try IdentifierRow.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM identifier WHERE unitId = ? ORDER BY id"), arguments: [id])
            .map { stored in try Identifier(IdentifierKind(rawValue: stored.kind) ?? .serial, stored.value) }
        // A pasted netplan document is the unit's network as the admin wrote it: its rows hold the cards for
        // matching and uniqueness, but not every key (dhcp6), so the document itself is read back.
        let interfaces = try row.netplan.map { document in try NetplanV2.interfaces(document) }
            ?? InterfaceRow.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM interface WHERE unitId = ? ORDER BY position"), arguments: [id])
            .map { stored in try stored.config() }
        let printerIds = try ownPrinterIds(unitId: id, db: db)
        return UnitDraft(
            hostname: try Hostname(row.hostname),
            domain: try row.domain.map { text in try DomainName(text) },
            group: row.groupId.flatMap { context.groups[$0]?.name },
            model: row.model, notes: row.notes,
            identifiers: UnitDraft.canonicalOrder(identifiers), interfaces: interfaces,
            printers: try printerIds.compactMap { context.printers[$0] }.map { printer in try PrinterName(printer.name) },
            defaultPrinter: try row.defaultPrinterId.flatMap { context.printers[$0] }.map { printer in try PrinterName(printer.name) },
            netplan: row.netplan, networkStack: try row.networkStack.map { text in try NetworkStack(text) },
            fields: try fieldValues(unitId: id, db: db))
    }

    func record(row: UnitRow, context: LoadContext, db: Database) throws -> UnitRecord {
        let draft = try draft(row: row, context: context, db: db)
        let group = row.groupId.flatMap { context.groups[$0] }
        let groupDNS = try ValueList.split(group?.dns ?? "").map { text in try IPAddress(text, field: "DNS server") }
        let groupSearch = try ValueList.split(group?.search ?? "").map { text in try DomainName(text, field: "search domain") }
        // A card with no address of its own (a VLAN's parent, a bond's member) has no use for the group's DNS, and
        // NetworkManager refuses `dns=` on an `ipv4.method=disabled` profile (found by GroupNetworkStackTests): a
        // card without IPv4 takes the group's IPv6 servers only.
        func withGroupDNS(_ interfaces: [InterfaceConfig]) -> [InterfaceConfig] {
            interfaces.map { interface in
                guard !interface.noIPv4 || interface.dhcp6 || !interface.addresses.isEmpty else { return interface }
                var filled = interface
                if filled.dns.isEmpty { filled.dns = interface.noIPv4 ? groupDNS.filter { $0.family == .ipv6 } : groupDNS }
                if filled.search.isEmpty { filled.search = groupSearch }
                return filled
            }
        }
        let interfaces = withGroupDNS(draft.interfaces)
        var printerIds = group.flatMap { $0.id }.flatMap { context.groupPrinters[$0] } ?? []
        let ownIds = try row.id.map { id in try ownPrinterIds(unitId: id, db: db) } ?? []
        printerIds += ownIds.filter { !printerIds.contains($0) }
        let printers = try printerIds.compactMap { context.printers[$0] }.map { printer in try printer.queue() }
        let defaultId = row.defaultPrinterId ?? group?.defaultPrinterId
        let secret = Set(context.fields.filter(\.field.secret).map(\.field.name))
        var fields = try group?.id.map { id in try fieldValues(groupId: id, db: db) } ?? [:]
        fields.merge(draft.fields) { _, own in own }
        var files: [UnitFile] = []
        for attached in try attachedFiles(db: db, unitId: row.id, groupId: group?.id) {
            files.removeAll { $0.path == attached.file.path }
            files.append(attached.file)
        }
        var accounts: [LocalAccount] = []
        for attached in try attachedAccounts(db: db, unitId: row.id, groupId: group?.id) {
            accounts.removeAll { $0.name == attached.account.name }
            accounts.append(attached.account)
        }
        var hooks: [Hook] = []
        for attached in try attachedHooks(db: db, unitId: row.id, groupId: group?.id) {
            hooks.removeAll { $0.name == attached.hook.name }
            hooks.append(attached.hook)
        }
        var profile = UnitProfile(
            hostname: draft.hostname,
            domain: try draft.domain ?? group?.domain.map { text in try DomainName(text) },
            group: draft.group, model: draft.model, revision: row.revision,
            identifiers: draft.identifiers, interfaces: interfaces,
            networkMode: try NetworkMode(group?.networkMode ?? "dhcp"),
            networkStack: try draft.networkStack ?? group?.networkStack.map { text in try NetworkStack(text) },
            printers: printers,
            defaultPrinter: try defaultId.flatMap { context.printers[$0] }.map { printer in try PrinterName(printer.name) },
            netplan: draft.netplan,
            fields: Dictionary(uniqueKeysWithValues: fields.map { name, value in
                (name, CustomFieldValue(value: value, secret: secret.contains(name)))
            }),
            files: files,
            seat: try group?.namingPattern.flatMap { text in try NamingPattern(text).number(in: row.hostname) },
            accounts: accounts, hooks: hooks)
        // A unit without a document of its own takes its group's, rendered with its values (its own cards' address
        // among them): the rendered document is then the unit's network, as if pasted for it.
        if draft.netplan == nil, let document = group?.netplan, let name = group?.name {
            let rendered = try Self.renderNetworkDocument(document, group: name, for: profile)
            profile.netplan = rendered.text
            profile.interfaces = withGroupDNS(rendered.interfaces)
        }
        return UnitRecord(
            draft: draft, revision: row.revision, createdAt: row.createdAt, updatedAt: row.updatedAt, profile: profile)
    }

    func ownPrinterIds(unitId: Int64, db: Database) throws -> [Int64] {
        try Int64.fetchAll(
            db.cachedStatement(sql: "SELECT printerId FROM unitPrinter WHERE unitId = ? ORDER BY position"), arguments: [unitId])
    }

    /// Bumps the revision of every unit that inherits from one of `groupIds` or uses one of `printerIds` (its own,
    /// its group's, or as default), once, after a change those units take over.
    func bumpRevisions(groupIds: [Int64] = [], printerIds: [Int64] = [], db: Database) throws {
        guard !groupIds.isEmpty || !printerIds.isEmpty else { return }
        let groups = placeholders(groupIds.count)
        let printers = placeholders(printerIds.count)
        let values = [clock().databaseValue] + groupIds.map(\.databaseValue) + Array(repeating: printerIds.map(\.databaseValue), count: 4).flatMap { $0 }
        try db.execute(
            sql: """
                UPDATE unit SET revision = revision + 1, updatedAt = ?
                WHERE groupId IN (\(groups))
                   OR id IN (SELECT unitId FROM unitPrinter WHERE printerId IN (\(printers)))
                   OR groupId IN (SELECT groupId FROM groupPrinter WHERE printerId IN (\(printers)))
                   OR defaultPrinterId IN (\(printers))
                   OR groupId IN (SELECT id FROM unitGroup WHERE defaultPrinterId IN (\(printers)))
                """,
            arguments: StatementArguments(values))
    }
}

func placeholders(_ count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ", ")
}

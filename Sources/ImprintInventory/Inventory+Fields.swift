import Foundation
import GRDB
import ImprintCore

/// Where a file or an account is attached: every unit of a group, or one unit.
public enum Attachment: Hashable, Sendable, CustomStringConvertible {
    case group(String)
    case unit(String)

    public var description: String {
        switch self {
        case .group(let name): return "group \(name)"
        case .unit(let name): return "unit \(name)"
        }
    }
}

/// A file as the inventory keeps it: the file and where it is attached.
public struct AttachedFile: Equatable, Sendable {
    public var file: UnitFile
    public var attachment: Attachment
}

extension Inventory {
    // MARK: - Custom fields

    /// The declared custom fields, by name.
    public func customFields() throws(InventoryError) -> [CustomField] {
        try read { db in try Self.fieldRows(db).map(\.field) }
    }

    /// Declares a custom field; units and groups then take a value for it (`set --field`, a CSV column). Declaring
    /// an existing field secret makes it secret (never the other way), and the units that have a value of it get a
    /// new revision, so that their files using it become secret files at the next run.
    public func addField(_ field: CustomField) throws(InventoryError) {
        try write { db in
            let wasSecret = try Bool.fetchOne(db, sql: "SELECT secret FROM customField WHERE name = ?", arguments: [field.name])
            try self.declare(field, db: db)
            guard wasSecret == false, field.secret else { return }
            try self.bumpRevisions(
                unitIds: try Int64.fetchAll(db, sql: """
                    SELECT DISTINCT unitFieldValue.unitId FROM unitFieldValue JOIN customField ON customField.id = fieldId
                    WHERE customField.name = ?
                    """, arguments: [field.name]),
                db: db)
            try self.bumpRevisions(
                groupIds: try Int64.fetchAll(db, sql: """
                    SELECT DISTINCT groupFieldValue.groupId FROM groupFieldValue JOIN customField ON customField.id = fieldId
                    WHERE customField.name = ?
                    """, arguments: [field.name]),
                db: db)
        }
    }

    /// Removes a custom field and every unit's and group's value of it; refused while an attached file uses it.
    /// - Important: the values are deleted for good.
    public func removeField(_ name: String) throws(InventoryError) {
        try write { db in
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM customField WHERE name = ?", arguments: [name]) else {
                throw InventoryError.refused(reason: "no field \(quoted(name)); 'imprint inventory field list' shows the fields")
            }
            let users = try self.attachedFiles(db: db).filter { (try? $0.file.names().contains(name)) == true }
            if let user = users.first {
                throw InventoryError.refused(
                    reason: "field \(quoted(name)) is used by the file \(user.file.path) of \(user.attachment); "
                        + "remove that file first with 'imprint inventory file remove \(user.file.path) --\(user.attachment.flag) \(user.attachment.name)'")
            }
            let unitIds = try Int64.fetchAll(db, sql: "SELECT unitId FROM unitFieldValue WHERE fieldId = ?", arguments: [id])
            let groupIds = try Int64.fetchAll(db, sql: "SELECT groupId FROM groupFieldValue WHERE fieldId = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM customField WHERE id = ?", arguments: [id])
            try self.bumpRevisions(unitIds: unitIds, db: db)
            try self.bumpRevisions(groupIds: groupIds, db: db)
        }
    }

    /// Declares `field` unless it exists; a field that exists keeps its secrecy unless `field` makes it secret.
    /// A field is named as no column of the units and groups files, where its own column goes, nor as the column
    /// that tells a file's kind.
    func declare(_ field: CustomField, db: Database) throws {
        let reserved = CSVKind.units.columns + CSVKind.groups.columns + CSVKind.allCases.map(\.keyColumn)
        if let reserved = reserved.first(where: { $0 == field.name }) {
            throw InventoryError.invalid(.invalidValue(
                field: "field name", value: reserved, reason: "is a column of the inventory's CSV files; choose another name"))
        }
        try db.execute(
            sql: """
                INSERT INTO customField (name, secret) VALUES (?, ?)
                ON CONFLICT (name) DO UPDATE SET secret = secret OR excluded.secret
                """,
            arguments: [field.name, field.secret])
    }

    struct FieldRow {
        var id: Int64
        var field: CustomField
    }

    static func secretFieldNames(_ db: Database) throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT name FROM customField WHERE secret"))
    }

    static func fieldRows(_ db: Database) throws -> [FieldRow] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT id, name, secret FROM customField ORDER BY name")).map { row in
            FieldRow(id: row["id"], field: try CustomField(name: row["name"], secret: row["secret"]))
        }
    }

    /// The values of a unit (`unitId`) or a group (`groupId`), by field name.
    func fieldValues(unitId: Int64? = nil, groupId: Int64? = nil, db: Database) throws -> [String: String] {
        let (table, column, id) = unitId.map { ("unitFieldValue", "unitId", $0) } ?? ("groupFieldValue", "groupId", groupId ?? -1)
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT customField.name, \(table).value FROM \(table) JOIN customField ON customField.id = \(table).fieldId
                WHERE \(table).\(column) = ?
                """),
            arguments: [id])
        return Dictionary(uniqueKeysWithValues: rows.map { ($0[0] as String, $0[1] as String) })
    }

    /// Replaces the values of a unit or a group with `values` (every name a declared field, every value checked).
    func saveFieldValues(_ values: [String: String], unitId: Int64? = nil, groupId: Int64? = nil, db: Database) throws {
        let (table, column, id) = unitId.map { ("unitFieldValue", "unitId", $0) } ?? ("groupFieldValue", "groupId", groupId ?? -1)
        try db.execute(sql: "DELETE FROM \(table) WHERE \(column) = ?", arguments: [id])
        guard !values.isEmpty else { return }
        let declared = try Self.fieldRows(db)
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            guard let field = declared.first(where: { $0.field.name == name }) else {
                throw InventoryError.invalid(.invalidValue(
                    field: "field", value: name,
                    reason: "is not a field of the inventory (\(Self.fieldList(declared))); declare it with 'imprint inventory field add \(name)'"))
            }
            let checked: String
            do throws(CoreError) { checked = try CustomField.checkValue(value, field: name) } catch {
                // A secret's value is never shown, even in an error.
                throw InventoryError.invalid(
                    field.field.secret ? .invalidValue(field: "value of field \(name)", value: "********", reason: "holds a line break or is too long") : error)
            }
            try db.cachedStatement(sql: "INSERT INTO \(table) (\(column), fieldId, value) VALUES (?, ?, ?)")
                .execute(arguments: [id, field.id, checked])
        }
    }

    static func fieldList(_ rows: [FieldRow]) -> String {
        rows.isEmpty ? "it has none" : "its fields are " + rows.map(\.field.name).joined(separator: ", ")
    }

    // MARK: - Attached files

    /// Attaches `file` to a group or a unit, replacing the file of the same path attached there; every unit it
    /// reaches gets a new revision. Every name its template uses must be a built-in value or a declared field, and a
    /// file that uses a secret field is a secret file.
    /// - Returns: the file as stored (secret when a field it uses is).
    @discardableResult
    public func attachFile(_ input: UnitFile, to attachment: Attachment) throws(InventoryError) -> UnitFile {
        try write { db in
            let file = try self.checkedFile(input, db: db)
            do throws(CoreError) {
                if let mode = file.mode { try UnitFile.checkMode(mode, secret: file.secret) }
            } catch { throw InventoryError.invalid(error) }
            if try self.attachedFile(file.path, at: attachment, db: db) != file {
                try self.storeFile(file, to: attachment, db: db)
            }
            return file
        }
    }

    /// `input` as the inventory stores it: secret when a field it uses is. Refused when its content names a value
    /// that is neither built in nor a declared field, or takes a built-in value as its field.
    func checkedFile(_ input: UnitFile, db: Database) throws -> UnitFile {
        var file = input
        let declared = try Self.fieldRows(db)
        let names: Set<String>
        do throws(CoreError) { names = try file.names() } catch { throw InventoryError.invalid(error) }
        for name in names.sorted() where !CustomField.builtInNames.contains(name) {
            guard let field = declared.first(where: { $0.field.name == name }) else {
                let closest = Self.closest(to: name, among: CustomField.builtInNames + declared.map(\.field.name))
                throw InventoryError.invalid(.invalidValue(
                    field: "field", value: name,
                    reason: "is named by the file \(file.path) and is neither a built-in value nor a field of the inventory"
                        + (closest.map { " (the closest is \(quoted($0)))" } ?? "")
                        + "; fix the name, or declare it with 'imprint inventory field add \(name)'"))
            }
            if field.field.secret { file.secret = true }
        }
        if case .field(let name) = file.content, CustomField.builtInNames.contains(name) {
            throw InventoryError.invalid(.invalidValue(
                field: "field", value: name, reason: "is a built-in value; write it with a template such as '{{\(name)}}'"))
        }
        return file
    }

    /// The file attached at `path` to exactly this group or unit (a unit's group's file is not the unit's).
    func attachedFile(_ path: String, at attachment: Attachment, db: Database) throws -> UnitFile? {
        let (unitId, groupId) = try attachmentIds(attachment, db: db)
        return try attachedFiles(db: db, unitId: unitId, groupId: groupId).first { $0.file.path == path }?.file
    }

    /// Stores a file `checkedFile` passed, replacing the file of the same path there.
    func storeFile(_ file: UnitFile, to attachment: Attachment, db: Database) throws {
        var template: String?
        var field: String?
        switch file.content {
        case .template(let text): template = text
        case .field(let name): field = name
        }
        try attach(
            "attachedFile", key: ("path", file.path),
            values: ["template": template, "field": field, "mode": file.mode.map { Int($0) }, "owner": file.owner,
                     "fileGroup": file.group, "secret": file.secret],
            to: attachment, db: db)
    }

    /// Detaches the file at `path` from a group or a unit; the units it reached get a new revision, and their next
    /// run removes the file.
    public func detachFile(_ path: String, from attachment: Attachment) throws(InventoryError) {
        try write { db in
            try self.detach(
                "attachedFile", key: ("path", path), from: attachment,
                missing: "no file \(quoted(path)) is attached to \(attachment); 'imprint inventory file list' shows the files", db: db)
        }
    }

    /// The attached files (of one group or unit, or every one), groups' first, by path.
    public func attachedFiles(of attachment: Attachment? = nil) throws(InventoryError) -> [AttachedFile] {
        try attached(attachment, load: attachedFiles(db:unitId:groupId:), attachmentOf: \.attachment)
    }

    /// What `load` reads for one group or one unit (its group's rows left out), or every row.
    func attached<Item>(
        _ attachment: Attachment?, load: (Database, Int64?, Int64?) throws -> [Item], attachmentOf: (Item) -> Attachment
    ) throws(InventoryError) -> [Item] {
        try read { db in
            guard let attachment else { return try load(db, nil, nil) }
            let (unitId, groupId) = try self.attachmentIds(attachment, db: db)
            return try load(db, unitId, groupId).filter { item in
                if case .unit = attachmentOf(item) { return unitId != nil }
                return groupId != nil
            }
        }
    }

    func attachmentIds(_ attachment: Attachment, db: Database) throws -> (unit: Int64?, group: Int64?) {
        switch attachment {
        case .group(let name): return (nil, try groupId(name, create: false, db: db))
        case .unit(let reference): return (try unitId(reference, db: db), nil)
        }
    }

    func attachedFiles(db: Database, unitId: Int64? = nil, groupId: Int64? = nil) throws -> [AttachedFile] {
        try attachedRows("attachedFile", order: "path", unitId: unitId, groupId: groupId, db: db).map { row, attachment in
            let template: String? = row["template"]
            let field: String? = row["field"]
            let mode: Int? = row["mode"]
            let file = try UnitFile(
                path: row["path"], content: template.map { .template($0) } ?? .field(field ?? ""),
                mode: mode.map { UInt32($0) }, owner: row["owner"], group: row["fileGroup"], secret: row["secret"])
            return AttachedFile(file: file, attachment: attachment)
        }
    }

    /// Stores one row of `table` (a file, an account, a hook) for a group or a unit, replacing the row of the same
    /// `key` there, and raises the revision of the units it reaches.
    func attach(
        _ table: String, key: (column: String, value: String), values: [String: (any DatabaseValueConvertible)?],
        to attachment: Attachment, db: Database
    ) throws {
        let (unitId, groupId) = try attachmentIds(attachment, db: db)
        try db.execute(
            sql: "DELETE FROM \(table) WHERE \(key.column) = ? AND (unitId = ? OR groupId = ?)", arguments: [key.value, unitId, groupId])
        let columns = ["unitId", "groupId", key.column] + values.keys.sorted()
        let arguments: [(any DatabaseValueConvertible)?] = [unitId, groupId, key.value] + values.keys.sorted().map { values[$0] ?? nil }
        try db.execute(
            sql: "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(placeholders(columns.count)))",
            arguments: StatementArguments(arguments))
        try bumpRevisions(unitIds: unitId.map { [$0] } ?? [], db: db)
        try bumpRevisions(groupIds: groupId.map { [$0] } ?? [], db: db)
    }

    /// Deletes the row of `table` with this `key` from a group or a unit, and raises the revision of the units it
    /// reached; `missing` says what to do when there is none.
    func detach(_ table: String, key: (column: String, value: String), from attachment: Attachment, missing: String, db: Database) throws {
        let (unitId, groupId) = try attachmentIds(attachment, db: db)
        try db.execute(
            sql: "DELETE FROM \(table) WHERE \(key.column) = ? AND (unitId = ? OR groupId = ?)", arguments: [key.value, unitId, groupId])
        guard db.changesCount > 0 else { throw InventoryError.refused(reason: missing) }
        try bumpRevisions(unitIds: unitId.map { [$0] } ?? [], db: db)
        try bumpRevisions(groupIds: groupId.map { [$0] } ?? [], db: db)
    }

    /// The rows of `table` for one unit and its group, or every row: each with the hostname or group name it is
    /// attached to, groups' rows first, by `order`.
    func attachedRows(_ table: String, order: String, unitId: Int64?, groupId: Int64?, db: Database) throws -> [(row: Row, attachment: Attachment)] {
        var sql = """
            SELECT \(table).*, unit.hostname AS unitName, unitGroup.name AS groupName FROM \(table)
            LEFT JOIN unit ON unit.id = \(table).unitId LEFT JOIN unitGroup ON unitGroup.id = \(table).groupId
            """
        var arguments: StatementArguments = []
        if unitId != nil || groupId != nil {
            sql += " WHERE \(table).unitId = ? OR \(table).groupId = ?"
            arguments = [unitId, groupId]
        }
        sql += " ORDER BY \(table).unitId IS NOT NULL, \(table).\(order)"
        return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map { row in
            let unitName: String? = row["unitName"]
            return (row, unitName.map { .unit($0) } ?? .group(row["groupName"]))
        }
    }

    /// Bumps the revision of these units, once, after a change of their own files or fields.
    func bumpRevisions(unitIds: [Int64], db: Database) throws {
        guard !unitIds.isEmpty else { return }
        try db.execute(
            sql: "UPDATE unit SET revision = revision + 1, updatedAt = ? WHERE id IN (\(placeholders(unitIds.count)))",
            arguments: StatementArguments([clock().databaseValue] + unitIds.map(\.databaseValue)))
    }
}

extension Attachment {
    /// The option that names this attachment on the command line.
    var flag: String {
        if case .group = self { return "group" }
        return "unit"
    }

    var name: String {
        switch self {
        case .group(let name), .unit(let name): return name
        }
    }
}

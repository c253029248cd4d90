import Foundation
import GRDB
import ImprintCore

/// Which units a unit's copy of the inventory holds. A lab machine's disk is read by whoever boots it from a USB
/// stick, so a copy holds the records it can need and no others: no other site's Wi-Fi passphrase, no asset register.
public enum SnapshotScope: Sendable, Equatable, CustomStringConvertible {
    /// Every unit: only when the admin asks for it by name (`--whole-inventory`).
    case everything
    /// The units named (hostname or identifier), as when the unit is known.
    case units([String])
    /// The units of these groups.
    case groups([String])
    /// The units of these hardware models (as an image's model tags name them), compared without case.
    case models([String])

    public var description: String {
        switch self {
        case .everything: return "the whole inventory"
        case .units(let names): return "unit " + names.joined(separator: ", ")
        case .groups(let names): return "the units of group " + names.joined(separator: ", ")
        case .models(let names): return "the units of model " + names.map(quoted).joined(separator: ", ")
        }
    }
}

extension Inventory {
    /// SQLite's `application_id` of a copy made for one unit (`imprint install`): the agent shrinks such a copy to
    /// its own record after its first run, and never a site's inventory.
    static let unitCopyID: Int32 = 0x494D_5055  // "IMPU"

    /// A consistent, compacted copy of the inventory as database file bytes (SQLite's `VACUUM INTO`), for
    /// `imprint install` to put into a unit's root while the admin's inventory stays in use. A scoped copy keeps
    /// only the units in `scope`, their groups and their printers; what it drops is overwritten (`secure_delete`)
    /// and the file rebuilt (`VACUUM`), so no byte of another unit is left in it.
    /// - Parameters:
    ///   - secretsForFilesOnly: keep only the secret field values an attached file uses: a unit linked to a server
    ///     gets the others (a first-boot hook's one-time credential) from the server, inside a window, and never
    ///     holds them on its disk.
    /// - Returns: the file's bytes and the number of units it holds.
    public func snapshot(
        _ scope: SnapshotScope = .everything, secretsForFilesOnly: Bool = false
    ) throws(InventoryError) -> (data: Data, units: Int) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imprint-snapshot-\(UUID().uuidString)")
        let copy = folder.appendingPathComponent("inventory.db").path
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try queue.inDatabase { db in try db.execute(sql: "VACUUM INTO ?", arguments: [copy]) }
        } catch {
            throw .database(path: path, reason: "cannot copy it: \(Self.describe(error, path: path))", underlying: "\(error)")
        }
        let units = try Inventory(path: copy).narrow(to: scope, secretsForFilesOnly: secretsForFilesOnly)
        do {
            return (try Data(contentsOf: URL(fileURLWithPath: copy)), units)
        } catch {
            throw .database(path: path, reason: "cannot read its copy: \(Self.describe(error, path: copy))")
        }
    }

    /// Whether this file is a copy made for one unit by `snapshot(_:)`, which the agent may shrink.
    public func isUnitCopy() throws(InventoryError) -> Bool {
        try read { db in try Int32.fetchOne(db, sql: "PRAGMA application_id") == Self.unitCopyID }
    }

    /// Whether this is a unit's copy still holding other units than the one it is for: the agent's first run shrinks it.
    public func holdsOtherUnits() throws(InventoryError) -> Bool {
        guard try isUnitCopy() else { return false }
        return try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM unit") ?? 0 } > 1
    }

    /// Shrinks a unit's copy to that unit's own record (its group and printers kept), after its first run.
    /// - Important: deletes every other unit from this file, for good; refused on a file that is not a unit's copy.
    public func keepOnly(unit reference: String) throws(InventoryError) {
        guard try isUnitCopy() else {
            throw .refused(reason: "\(quoted(path)) is a site's inventory, not a unit's copy; nothing was deleted")
        }
        _ = try narrow(to: .units([reference]))
    }

    /// Deletes every unit outside `scope` (with what only they used), and with `secretsForFilesOnly` the secret
    /// field values no attached file uses; marks the file a unit's copy, and rebuilds it.
    /// - Returns: the number of units kept.
    private func narrow(to scope: SnapshotScope, secretsForFilesOnly: Bool = false) throws(InventoryError) -> Int {
        try translatingErrors {
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA secure_delete = ON")
                try db.inTransaction(.immediate) {
                    try self.deleteUnits(outside: scope, db: db)
                    if secretsForFilesOnly { try self.deleteSecretsNoFileUses(db: db) }
                    return .commit
                }
                try db.execute(sql: "PRAGMA application_id = \(Self.unitCopyID)")
                try db.execute(sql: "VACUUM")
                return try Int.fetchOne(db, sql: "SELECT count(*) FROM unit") ?? 0
            }
        }
    }

    /// Deletes the unit and group values of every secret field that no attached file names; the revisions stay, as
    /// the server's record keeps the values.
    private func deleteSecretsNoFileUses(db: Database) throws {
        let used = Set(try attachedFiles(db: db).flatMap { try $0.file.names() })
        let spare = try Self.secretFieldNames(db).subtracting(used).sorted()
        guard !spare.isEmpty else { return }
        let fields = "SELECT id FROM customField WHERE name IN (\(databaseQuestionMarks(count: spare.count)))"
        for table in ["unitFieldValue", "groupFieldValue"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE fieldId IN (\(fields))", arguments: StatementArguments(spare))
        }
    }

    private func deleteUnits(outside scope: SnapshotScope, db: Database) throws {
        // Groups named by the scope stay even without units, as do groups that let unknown units enrol: a unit
        // that boots unknown needs its group's pattern and settings (no secret lives in a group).
        var keptGroups: [Int64] = []
        switch scope {
        case .everything:
            return
        case .units(let references):
            let ids = try references.map { reference in try self.unitId(reference, db: db) }
            try db.execute(sql: "DELETE FROM unit WHERE id NOT IN (\(ids.map(String.init).joined(separator: ",")))")
        case .groups(let names):
            keptGroups = try names.map { name in try self.groupId(name, create: false, db: db) }
            try db.execute(sql: "DELETE FROM unit WHERE groupId IS NULL OR groupId NOT IN (\(keptGroups.map(String.init).joined(separator: ",")))")
        case .models(let models):
            // A mistyped model would leave the unit a copy with nobody in it; a group may be empty on purpose (units
            // that enrol at first boot).
            let known = try String.fetchAll(db, sql: "SELECT DISTINCT lower(model) FROM unit WHERE model IS NOT NULL ORDER BY 1")
            if let missing = models.first(where: { !known.contains($0.lowercased()) }) {
                throw InventoryError.modelNotFound(model: missing, known: known)
            }
            let lowered = models.map { $0.lowercased() }
            try db.execute(
                sql: "DELETE FROM unit WHERE model IS NULL OR lower(model) NOT IN (\(databaseQuestionMarks(count: lowered.count)))",
                arguments: StatementArguments(lowered))
        }
        // What only the deleted units used: their history, groups no kept unit is in, printers nothing kept names.
        try db.execute(sql: "DELETE FROM history WHERE unitId IS NULL")
        try db.execute(sql: """
            DELETE FROM unitGroup WHERE id NOT IN (SELECT groupId FROM unit WHERE groupId IS NOT NULL) AND enroll = 0
                AND id NOT IN (\(keptGroups.map(String.init).joined(separator: ",")))
            """)
        try db.execute(sql: """
            DELETE FROM printer WHERE id NOT IN (SELECT printerId FROM unitPrinter)
                AND id NOT IN (SELECT printerId FROM groupPrinter)
                AND id NOT IN (SELECT defaultPrinterId FROM unit WHERE defaultPrinterId IS NOT NULL)
                AND id NOT IN (SELECT defaultPrinterId FROM unitGroup WHERE defaultPrinterId IS NOT NULL)
            """)
    }
}

import Foundation
import GRDB
import ImprintCore

/// An account as the inventory keeps it: the account and where it is attached.
public struct AttachedAccount: Equatable, Sendable {
    public var account: LocalAccount
    public var attachment: Attachment
}

extension Inventory {
    /// Gives a group's units or one unit a local account, replacing the account of the same name there; every unit
    /// it reaches gets a new revision. A group or unit has at most one autologin account.
    public func addAccount(_ account: LocalAccount, to attachment: Attachment) throws(InventoryError) {
        try write { db in
            let (unitId, groupId) = try self.attachmentIds(attachment, db: db)
            let existing = try self.attachedAccounts(db: db, unitId: unitId, groupId: groupId)
                .filter { $0.attachment == attachment }
            if existing.contains(where: { $0.account == account }) { return }
            if account.autologin, let other = existing.first(where: { $0.account.autologin && $0.account.name != account.name }) {
                throw InventoryError.refused(
                    reason: "\(attachment) already logs \(other.account.name) in automatically, and a display logs in one user; "
                        + "remove it first with 'imprint inventory account remove \(other.account.name) --\(attachment.flag) \(attachment.name)'")
            }
            try db.execute(
                sql: "DELETE FROM localAccount WHERE name = ? AND (unitId = ? OR groupId = ?)", arguments: [account.name, unitId, groupId])
            try db.execute(
                sql: """
                    INSERT INTO localAccount (unitId, groupId, name, groups, shell, passwordHash, autologin)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [unitId, groupId, account.name, account.groups.joined(separator: " "), account.shell,
                            account.passwordHash, account.autologin])
            try self.bumpRevisions(unitIds: unitId.map { [$0] } ?? [], db: db)
            try self.bumpRevisions(groupIds: groupId.map { [$0] } ?? [], db: db)
        }
    }

    /// Takes an account off a group or a unit's record. The units keep the user (its files would lose their owner);
    /// lock it first (`account add NAME --locked`) to stop it logging in.
    public func removeAccount(_ name: String, from attachment: Attachment) throws(InventoryError) {
        try write { db in
            let (unitId, groupId) = try self.attachmentIds(attachment, db: db)
            try db.execute(sql: "DELETE FROM localAccount WHERE name = ? AND (unitId = ? OR groupId = ?)", arguments: [name, unitId, groupId])
            guard db.changesCount > 0 else {
                throw InventoryError.refused(
                    reason: "\(attachment) has no account \(quoted(name)); 'imprint inventory account list' shows the accounts")
            }
            try self.bumpRevisions(unitIds: unitId.map { [$0] } ?? [], db: db)
            try self.bumpRevisions(groupIds: groupId.map { [$0] } ?? [], db: db)
        }
    }

    /// The accounts (of one group or unit, or every one), groups' first, by name.
    public func attachedAccounts(of attachment: Attachment? = nil) throws(InventoryError) -> [AttachedAccount] {
        try read { db in
            guard let attachment else { return try self.attachedAccounts(db: db) }
            let (unitId, groupId) = try self.attachmentIds(attachment, db: db)
            return try self.attachedAccounts(db: db, unitId: unitId, groupId: groupId).filter { attached in
                switch (attached.attachment, attachment) {
                case (.unit, .unit), (.group, .group): return true
                default: return false
                }
            }
        }
    }

    func attachedAccounts(db: Database, unitId: Int64? = nil, groupId: Int64? = nil) throws -> [AttachedAccount] {
        var sql = """
            SELECT localAccount.*, unit.hostname AS unitName, unitGroup.name AS groupName FROM localAccount
            LEFT JOIN unit ON unit.id = localAccount.unitId LEFT JOIN unitGroup ON unitGroup.id = localAccount.groupId
            """
        var arguments: StatementArguments = []
        if unitId != nil || groupId != nil {
            sql += " WHERE localAccount.unitId = ? OR localAccount.groupId = ?"
            arguments = [unitId, groupId]
        }
        sql += " ORDER BY localAccount.unitId IS NOT NULL, localAccount.name"
        return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map { row in
            let account = try LocalAccount(
                name: row["name"], groups: ValueList.split(row["groups"] as String), shell: row["shell"],
                passwordHash: row["passwordHash"], autologin: row["autologin"])
            let unitName: String? = row["unitName"]
            return AttachedAccount(account: account, attachment: unitName.map { .unit($0) } ?? .group(row["groupName"]))
        }
    }
}

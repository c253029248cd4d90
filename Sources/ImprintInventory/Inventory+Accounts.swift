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
            guard try self.attachedAccount(account.name, at: attachment, db: db) != account else { return }
            try self.storeAccount(account, to: attachment, db: db)
            if account.autologin, let other = try self.autologinAccounts(at: attachment, db: db).first(where: { $0 != account.name }) {
                throw InventoryError.refused(
                    reason: "\(attachment) already logs \(other) in automatically, and a display logs in one user; "
                        + "remove it first with 'imprint inventory account remove \(other) --\(attachment.flag) \(attachment.name)'")
            }
        }
    }

    /// The account of this name given to exactly this group or unit (a unit's group's account is not the unit's).
    func attachedAccount(_ name: String, at attachment: Attachment, db: Database) throws -> LocalAccount? {
        let (unitId, groupId) = try attachmentIds(attachment, db: db)
        return try attachedAccounts(db: db, unitId: unitId, groupId: groupId).first { $0.account.name == name }?.account
    }

    /// Stores `account`, replacing the account of the same name there. The caller checks the one-autologin rule
    /// (`autologinAccounts`) once what it stores is in, inside the same transaction.
    func storeAccount(_ account: LocalAccount, to attachment: Attachment, db: Database) throws {
        try attach(
            "localAccount", key: ("name", account.name),
            values: ["groups": account.groups.joined(separator: " "), "shell": account.shell,
                     "passwordHash": account.passwordHash, "autologin": account.autologin],
            to: attachment, db: db)
    }

    /// The names of the accounts of exactly this group or unit that log in automatically (a display logs in one).
    func autologinAccounts(at attachment: Attachment, db: Database) throws -> [String] {
        let (unitId, groupId) = try attachmentIds(attachment, db: db)
        return try attachedAccounts(db: db, unitId: unitId, groupId: groupId).map(\.account).filter(\.autologin).map(\.name)
    }

    /// Takes an account off a group or a unit's record. The units keep the user (its files would lose their owner);
    /// lock it first (`account add NAME` again without a hash) to stop it logging in.
    public func removeAccount(_ name: String, from attachment: Attachment) throws(InventoryError) {
        try write { db in
            try self.detach(
                "localAccount", key: ("name", name), from: attachment,
                missing: "\(attachment) has no account \(quoted(name)); 'imprint inventory account list' shows the accounts", db: db)
        }
    }

    /// The accounts (of one group or unit, or every one), groups' first, by name.
    public func attachedAccounts(of attachment: Attachment? = nil) throws(InventoryError) -> [AttachedAccount] {
        try attached(attachment, load: attachedAccounts(db:unitId:groupId:), attachmentOf: \.attachment)
    }

    func attachedAccounts(db: Database, unitId: Int64? = nil, groupId: Int64? = nil) throws -> [AttachedAccount] {
        try attachedRows("localAccount", order: "name", unitId: unitId, groupId: groupId, db: db).map { row, attachment in
            let account = try LocalAccount(
                name: row["name"], groups: ValueList.split(row["groups"] as String), shell: row["shell"],
                passwordHash: row["passwordHash"], autologin: row["autologin"])
            return AttachedAccount(account: account, attachment: attachment)
        }
    }
}

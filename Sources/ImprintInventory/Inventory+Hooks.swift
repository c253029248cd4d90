import Foundation
import GRDB
import ImprintCore

/// A hook as the inventory keeps it: the hook and where it is attached.
public struct AttachedHook: Equatable, Sendable {
    public var hook: Hook
    public var attachment: Attachment
}

extension Inventory {
    /// Gives a group's units or one unit a hook, replacing the hook of the same name there (it keeps its
    /// place in the order); every unit it reaches gets a new revision, so the hook runs at their next run.
    public func addHook(_ hook: Hook, to attachment: Attachment) throws(InventoryError) {
        try write { db in try self.storeHook(hook, to: attachment, db: db) }
    }

    /// The hook of this name given to exactly this group or unit (a unit's group's hook is not the unit's).
    func attachedHook(_ name: String, at attachment: Attachment, db: Database) throws -> Hook? {
        let (unitId, groupId) = try attachmentIds(attachment, db: db)
        return try attachedHooks(db: db, unitId: unitId, groupId: groupId).first { $0.hook.name == name }?.hook
    }

    /// Stores `hook`, replacing the hook of the same name there in its place, or after every other hook.
    func storeHook(_ hook: Hook, to attachment: Attachment, db: Database) throws {
        let (unitId, groupId) = try attachmentIds(attachment, db: db)
        let position = try Int.fetchOne(
            db, sql: "SELECT position FROM hook WHERE name = ? AND (unitId = ? OR groupId = ?)",
            arguments: [hook.name, unitId, groupId])
            ?? (try Int.fetchOne(db, sql: "SELECT max(position) + 1 FROM hook") ?? 0)
        try attach(
            "hook", key: ("name", hook.name),
            values: ["command": hook.command, "timeout": hook.timeout, "phase": hook.phase.rawValue, "position": position],
            to: attachment, db: db)
    }

    /// Takes a hook off a group or a unit's record (what it did on the units stays).
    public func removeHook(_ name: String, from attachment: Attachment) throws(InventoryError) {
        try write { db in
            try self.detach(
                "hook", key: ("name", name), from: attachment,
                missing: "\(attachment) has no hook \(quoted(name)); 'imprint inventory hook list' shows the hooks", db: db)
        }
    }

    /// The hooks (of one group or unit, or every one), groups' first, in the order they were added.
    public func attachedHooks(of attachment: Attachment? = nil) throws(InventoryError) -> [AttachedHook] {
        try attached(attachment, load: attachedHooks(db:unitId:groupId:), attachmentOf: \.attachment)
    }

    func attachedHooks(db: Database, unitId: Int64? = nil, groupId: Int64? = nil) throws -> [AttachedHook] {
        try attachedRows("hook", order: "position", unitId: unitId, groupId: groupId, db: db).map { row, attachment in
            let phase = Hook.Phase(rawValue: row["phase"]) ?? .offline
            return AttachedHook(
                hook: try Hook(name: row["name"], command: row["command"], timeout: row["timeout"], phase: phase), attachment: attachment)
        }
    }
}

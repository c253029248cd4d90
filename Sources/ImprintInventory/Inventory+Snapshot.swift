import Foundation
import GRDB

extension Inventory {
    /// A consistent, compacted copy of the whole inventory as database file bytes (SQLite's `VACUUM INTO`), for
    /// `imprint install` to put into a unit's root while the admin's inventory stays in use.
    public func snapshot() throws(InventoryError) -> Data {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("imprint-snapshot-\(UUID().uuidString)")
        let copy = folder.appendingPathComponent("inventory.db").path
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try queue.inDatabase { db in try db.execute(sql: "VACUUM INTO ?", arguments: [copy]) }
            return try Data(contentsOf: URL(fileURLWithPath: copy))
        } catch {
            throw .database(path: path, reason: "cannot copy it: \(Self.describe(error, path: path))", underlying: "\(error)")
        }
    }
}

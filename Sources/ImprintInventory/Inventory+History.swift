import Foundation
import GRDB
import ImprintCore

extension Inventory {
    /// Adds a history row for the unit `reference`.
    public func recordRun(of reference: String, source: String, result: String, revision: Int, identity: String) throws(InventoryError) {
        try write { db in
            let id = try self.unitId(reference, db: db)
            var row = HistoryEntry(
                unitId: id, hostname: try self.hostname(ofUnit: id, db: db), time: self.clock(), source: source, result: result,
                revision: revision, identity: identity)
            try row.insert(db)
        }
    }

    /// The runs recorded for a unit, oldest first; a removed unit's runs are found by the hostname it had.
    public func history(of reference: String) throws(InventoryError) -> [HistoryEntry] {
        try read { db in
            var request = HistoryEntry.all()
            if let id = try? self.unitId(reference, db: db) {
                request = request.filter(HistoryEntry.Columns.unitId == id)
            } else {
                request = request.filter(HistoryEntry.Columns.hostname.collating(.nocase) == reference)
                if try request.fetchCount(db) == 0 { throw InventoryError.unitNotFound(reference: reference) }
            }
            return try request.order(HistoryEntry.Columns.id).fetchAll(db)
        }
    }
}

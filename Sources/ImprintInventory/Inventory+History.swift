import Foundation
import GRDB
import ImprintCore

/// One agent run on a unit, as the inventory remembers it.
public struct HistoryEntry: Codable, Equatable, Sendable {
    public var hostname: String
    public var time: Date
    /// Where the run came from: `boot`, `restore`, `technician`, ...
    public var source: String
    /// `applied`, `nothing-to-do`, `failed`, `rolled-back`, ...
    public var result: String
    /// The unit revision the run applied.
    public var revision: Int
    /// The identity given, as the JSON object the agent logged.
    public var identity: String

    public init(hostname: String, time: Date, source: String, result: String, revision: Int, identity: String) {
        self.hostname = hostname
        self.time = time
        self.source = source
        self.result = result
        self.revision = revision
        self.identity = identity
    }
}

extension Inventory {
    /// Adds a history row for the unit `reference`.
    public func recordRun(of reference: String, source: String, result: String, revision: Int, identity: String) throws(InventoryError) {
        try write { db in
            let id = try self.unitId(reference, db: db)
            var row = HistoryRow(
                id: nil, unitId: id, hostname: try self.hostname(ofUnit: id, db: db), time: self.clock(), source: source, result: result,
                revision: revision, identity: identity)
            try row.insert(db)
        }
    }

    /// The runs recorded for a unit, oldest first; a removed unit's runs are found by the hostname it had.
    public func history(of reference: String) throws(InventoryError) -> [HistoryEntry] {
        try read { db in
            var request = HistoryRow.all()
            if let id = try? self.unitId(reference, db: db) {
                request = request.filter(HistoryRow.Columns.unitId == id)
            } else {
                request = request.filter(HistoryRow.Columns.hostname.collating(.nocase) == reference)
                if try request.fetchCount(db) == 0 { throw InventoryError.unitNotFound(reference: reference) }
            }
            return try request.order(HistoryRow.Columns.id).fetchAll(db).map { row in
                HistoryEntry(
                    hostname: row.hostname, time: row.time, source: row.source, result: row.result,
                    revision: row.revision, identity: row.identity)
            }
        }
    }
}

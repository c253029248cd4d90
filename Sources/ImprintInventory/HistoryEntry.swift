import Foundation
import GRDB

/// One agent run on a unit, as the inventory remembers it: a row of the `history` table.
public struct HistoryEntry: Codable, Equatable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "history"
    var id: Int64?
    /// The unit the run was for; `nil` once the unit is removed, when its runs are found by `hostname`.
    var unitId: Int64?
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
        self.init(unitId: nil, hostname: hostname, time: time, source: source, result: result, revision: revision, identity: identity)
    }

    init(unitId: Int64?, hostname: String, time: Date, source: String, result: String, revision: Int, identity: String) {
        self.unitId = unitId
        self.hostname = hostname
        self.time = time
        self.source = source
        self.result = result
        self.revision = revision
        self.identity = identity
    }

    public enum Columns {
        static let id = Column(CodingKeys.id)
        static let unitId = Column(CodingKeys.unitId)
        static let hostname = Column(CodingKeys.hostname)
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

import Foundation
import GRDB
import ImprintCore

/// The unit a machine's facts identify, and how.
public struct Match: Equatable, Sendable {
    public var unit: UnitRecord
    /// The facts' identifiers that the inventory has for this unit.
    public var matched: [Identifier]
    /// Usable identifiers in the facts that the inventory does not have (a new card, say).
    public var unrecorded: [Identifier]
    /// Facts that could not be used: placeholders, malformed values, removable adapters.
    public var ignored: [HardwareFacts.IgnoredFact]
}

extension Inventory {
    /// Finds the one unit `facts` identify.
    ///
    /// Placeholder values and the MACs of removable adapters are ignored. Identifiers that lead to different units
    /// are a conflict, and no identifier at all leads to not-found; both are errors that change nothing.
    public func match(_ facts: HardwareFacts) throws(InventoryError) -> Match {
        let (usable, ignored) = facts.identifiers()
        guard !usable.isEmpty else { throw .noUsableIdentifiers(ignored: ignored) }
        return try read { db in
            var owners: [Int64: [Identifier]] = [:]
            var unrecorded: [Identifier] = []
            for identifier in usable {
                if let owner = try self.ownerId(of: identifier, db: db) {
                    owners[owner, default: []].append(identifier)
                } else {
                    unrecorded.append(identifier)
                }
            }
            if owners.isEmpty { throw InventoryError.noMatch(usable: usable, ignored: ignored) }
            if owners.count > 1 {
                var named: [String: [Identifier]] = [:]
                for (id, identifiers) in owners {
                    named[try self.hostname(ofUnit: id, db: db)] = identifiers
                }
                throw InventoryError.conflict(owners: named)
            }
            let (id, matched) = owners.first!
            return Match(unit: try self.record(id: id, db: db), matched: matched, unrecorded: unrecorded, ignored: ignored)
        }
    }
}

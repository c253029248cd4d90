import Foundation
import GRDB
import ImprintCore

extension Inventory {
    /// Preloads units named by `pattern` for machines known so far only by an identifier each (a list of serials
    /// or MACs from the supplier), numbered past the names the pattern has already given.
    ///
    /// All or nothing: an identifier that already belongs to a unit stops the whole request.
    /// - Parameters:
    ///   - pattern: the naming pattern, or nil to use the group's.
    ///   - start: the lowest number to give.
    /// - Returns: the new units' hostnames with the identifier each got, in the order given.
    public func name(
        _ identifiers: [Identifier], pattern: NamingPattern?, group: String?, start: Int = 1
    ) throws(InventoryError) -> [(hostname: Hostname, identifier: Identifier)] {
        try write { db in
            var problems: [RowProblem] = []
            var seen = Set<Identifier>()
            for (index, identifier) in identifiers.enumerated() {
                if !seen.insert(identifier).inserted {
                    problems.append(RowProblem(line: index + 1, reason: "\(identifier) is listed twice"))
                } else if let owner = try self.ownerId(of: identifier, db: db) {
                    problems.append(RowProblem(
                        line: index + 1, reason: "\(identifier) is already unit \(try self.hostname(ofUnit: owner, db: db))"))
                }
            }
            if !problems.isEmpty { throw InventoryError.importFailed(file: "identifier list", problems: problems) }

            var chosen = pattern
            if chosen == nil, let group {
                chosen = try self.groupDraft(id: try self.groupId(group, create: false, db: db), db: db).namingPattern
            }
            guard let chosen else {
                throw InventoryError.refused(
                    reason: "no naming pattern: give --pattern RM204-{##}, or set one on the group with "
                        + "'imprint inventory group set \(group ?? "GROUP") --naming-pattern ...'")
            }
            let taken = try String.fetchAll(db, sql: "SELECT hostname FROM unit")
            // A counter numbers the list past the names taken; a pattern like LAB-{serial} names each by its own.
            let names: [Hostname]
            if chosen.isCounter {
                names = try chosen.nextNames(identifiers.count, taken: taken, start: start).map { name throws(CoreError) in try Hostname(name) }
            } else {
                names = try identifiers.map { identifier throws(CoreError) in try chosen.name(for: [identifier]) }
            }
            var result: [(Hostname, Identifier)] = []
            for (hostname, identifier) in zip(names, identifiers) {
                _ = try self.save(
                    UnitDraft(hostname: hostname, group: group, identifiers: [identifier]),
                    replacing: nil, createGroup: false, db: db)
                result.append((hostname, identifier))
            }
            return result
        }
    }
}

extension Inventory {
    /// Adds the machine the facts describe to `group`, named by the group's pattern, with every usable identifier
    /// of the facts; for a unit that boots unknown into a room whose group allows enrolment.
    ///
    /// A unit enrols into its own copy of the inventory, which cannot know the names other units took: only a
    /// pattern built from the unit's identifiers (`LAB-{serial}`) is unique there. A counter (`LAB-{###}`) is
    /// refused unless `counting` says this inventory hands out every name of the site.
    /// - Parameters:
    ///   - preview: plan the enrolment and keep nothing (a dry run): the unit it returns is not stored.
    /// - Returns: the new unit, matched by all its identifiers.
    public func enroll(
        _ facts: HardwareFacts, group: String, counting: Bool = false, preview: Bool = false
    ) throws(InventoryError) -> Match {
        let (usable, ignored) = facts.identifiers()
        guard !usable.isEmpty else { throw .noUsableIdentifiers(ignored: ignored) }
        let record = try write(commit: !preview) { db in
            let groupId = try self.groupId(group, create: false, db: db)
            guard let pattern = try self.groupDraft(id: groupId, db: db).namingPattern else {
                throw InventoryError.refused(
                    reason: "group \(quoted(group)) has no naming pattern to enrol with; set one built from the unit's "
                        + "own identifiers with 'imprint inventory group set \(group) --naming-pattern \(group)-{serial}'")
            }
            let hostname: Hostname
            if pattern.isCounter {
                guard counting else {
                    throw InventoryError.refused(
                        reason: "group \(quoted(group)) names units with a counter (\(pattern)), and a unit enrolling "
                            + "offline cannot know which numbers other units took; name them by their own identifiers "
                            + "('imprint inventory group set \(group) --naming-pattern \(pattern.prefix){serial}\(pattern.suffix)', "
                            + "or {mac}, {asset}), or preload the names with 'imprint inventory name'")
                }
                let taken = try String.fetchAll(db, sql: "SELECT hostname FROM unit")
                hostname = try Hostname(pattern.nextNames(1, taken: taken)[0])
            } else {
                hostname = try pattern.name(for: usable)
            }
            let model = facts.model.flatMap { try? UnitDraft.optionalText($0, field: "model") }
            let id = try self.save(
                UnitDraft(hostname: hostname, group: group, model: model, identifiers: usable),
                replacing: nil, createGroup: false, db: db)
            return try self.record(id: id, db: db)
        }
        return Match(unit: record, matched: usable, unrecorded: [], ignored: ignored)
    }

    /// The one group whose setting lets unknown units enrol, or nil when none or several do.
    public func enrollmentGroup() throws(InventoryError) -> String? {
        try read { db in
            let names = try String.fetchAll(db, sql: "SELECT name FROM unitGroup WHERE enroll = 1 LIMIT 2")
            return names.count == 1 ? names[0] : nil
        }
    }
}

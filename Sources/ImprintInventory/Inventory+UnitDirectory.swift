import GRDB
import ImprintCore

extension Inventory: UnitDirectory {
    public func assign(_ facts: HardwareFacts, enrolling group: String?, preview: Bool) throws -> UnitAssignment {
        let found: Match
        do {
            found = try match(facts)
        } catch {
            guard case .noMatch(let usable, let ignored) = error else { throw error }
            guard let target = try group ?? enrollmentGroup() else {
                throw InventoryError.noMatch(usable: usable, ignored: ignored)
            }
            // A dry run may hold the inventory read-only: it enrols into a scratch copy in memory instead.
            let writable = preview && isReadOnly ? try scratchCopy() : self
            let enrolled = try writable.enroll(facts, group: target, preview: preview)
            return UnitAssignment(profile: enrolled.unit.profile, matched: enrolled.matched, enrolledInto: target)
        }
        return UnitAssignment(profile: found.unit.profile, matched: found.matched)
    }

    public func shrinksAfterRun() throws -> Bool { try holdsOtherUnits() }

    public func recordRun(_ identity: IdentityRecord, source: String) throws {
        try recordRun(
            of: identity.unit, source: source, result: identity.result, revision: identity.revision,
            identity: try identity.jsonLine())
        if identity.inventoryCopy != nil { try keepOnly(unit: identity.unit) }
    }
}

import GRDB
import ImprintCore

/// Which units have each static address, read from the interface rows inside a write transaction, so that an
/// address given to a second unit is refused naming the first.
///
/// Kept in code rather than as a UNIQUE index: addresses are stored as a text list per interface, and an index over
/// a new table would have to be filled by a migration, which fails on an inventory that already holds a duplicate
/// and so could no longer be opened to fix it. An import reads this once and keeps it up to date row by row.
struct AddressOwners {
    /// Keyed by the address's canonical text, which is how interface rows store it (before the `/prefix`), so the
    /// rows need no parsing: an import into a large inventory reads them all.
    private var owners: [String: Set<Int64>] = [:]
    private var addressesOfUnit: [Int64: [String]] = [:]

    init(db: Database) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT unitId, addresses FROM interface WHERE addresses != ''")
        while let row = try rows.next() {
            let unitId: Int64 = row["unitId"]
            let addresses = ValueList.split(row["addresses"]).map { text in String(text.prefix { $0 != "/" }) }
            addressesOfUnit[unitId, default: []] += addresses
            for address in addresses { owners[address, default: []].insert(unitId) }
        }
    }

    /// A unit other than `unit` that has `address`, the oldest when (from before this check) several have it.
    func owner(of address: IPAddress, other unit: Int64?) -> Int64? {
        owners[address.value]?.filter { $0 != unit }.min()
    }

    /// Records that `unit` now has exactly `addresses`.
    mutating func assign(_ addresses: [IPAddress], to unit: Int64) {
        for old in addressesOfUnit[unit] ?? [] { owners[old]?.remove(unit) }
        addressesOfUnit[unit] = addresses.map(\.value)
        for address in addresses { owners[address.value, default: []].insert(unit) }
    }
}

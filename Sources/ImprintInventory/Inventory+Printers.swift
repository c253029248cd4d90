import Foundation
import GRDB
import ImprintCore

/// What `imprint inventory printer set` changes; everything not mentioned is kept.
public struct PrinterChanges: Equatable, Sendable {
    public var deviceURI: DeviceURI?
    public var driver: PrinterDriver?
    public var location: Change<String> = .keep
    public var description: Change<String> = .keep

    public init() {}
}

extension Inventory {
    public func addPrinter(_ queue: PrinterQueue) throws(InventoryError) {
        try write { db in
            if let other = try PrinterRow.filter(PrinterRow.Columns.name == queue.name.value).fetchOne(db) {
                throw InventoryError.alreadyExists(
                    kind: "printer", name: other.name, hint: "change it with 'imprint inventory printer set \(other.name)'")
            }
            var row = PrinterRow(queue: queue)
            try row.insert(db)
        }
    }

    /// Changes a printer; every unit that uses it, directly or through its group, gets a new revision.
    public func updatePrinter(_ name: String, _ changes: PrinterChanges) throws(InventoryError) {
        try write { db in
            let id = try self.printerId(name, db: db)
            guard let current = try PrinterRow.fetchOne(db, key: id) else { throw InventoryError.printerNotFound(name: name) }
            var queue = try current.queue()
            if let uri = changes.deviceURI { queue.deviceURI = uri }
            if let driver = changes.driver { queue.driver = driver }
            queue = try PrinterQueue(
                name: queue.name, deviceURI: queue.deviceURI, driver: queue.driver,
                location: changes.location.applied(to: queue.location),
                description: changes.description.applied(to: queue.description))
            var row = PrinterRow(queue: queue)
            row.id = id
            if row != current {
                try row.update(db)
                try self.bumpRevisions(printerIds: [id], db: db)
            }
        }
    }

    /// Removes a printer that no group or unit uses.
    public func removePrinter(_ name: String) throws(InventoryError) {
        try write { db in
            let id = try self.printerId(name, db: db)
            let users = try String.fetchAll(
                db, sql: """
                    SELECT 'group ' || name FROM unitGroup
                    WHERE defaultPrinterId = ?1 OR id IN (SELECT groupId FROM groupPrinter WHERE printerId = ?1)
                    UNION ALL
                    SELECT 'unit ' || hostname FROM unit
                    WHERE defaultPrinterId = ?1 OR id IN (SELECT unitId FROM unitPrinter WHERE printerId = ?1)
                    LIMIT 6
                    """, arguments: [id])
            if !users.isEmpty {
                throw InventoryError.refused(
                    reason: "printer \(quoted(name)) is still assigned to \(users.prefix(5).joined(separator: ", "))"
                        + "\(users.count > 5 ? ", ..." : ""); remove it there first with --remove-printer \(name)")
            }
            _ = try PrinterRow.deleteOne(db, key: id)
        }
    }

    public func printers() throws(InventoryError) -> [PrinterQueue] {
        try read { db in
            try PrinterRow.order(PrinterRow.Columns.name.collating(.nocase)).fetchAll(db).map { row in try row.queue() }
        }
    }

    func printerId(_ name: String, db: Database) throws -> Int64 {
        guard let id = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM printer WHERE name = ?"), arguments: [name]) else {
            throw InventoryError.printerNotFound(name: name)
        }
        return id
    }
}

extension PrinterRow {
    init(queue: PrinterQueue) {
        self.init(
            id: nil, name: queue.name.value, deviceURI: queue.deviceURI.value, driver: queue.driver.description,
            location: queue.location, description: queue.description)
    }

    func queue() throws(CoreError) -> PrinterQueue {
        try PrinterQueue(
            name: PrinterName(name), deviceURI: DeviceURI(deviceURI), driver: PrinterDriver(driver),
            location: location, description: description)
    }
}

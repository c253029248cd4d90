import Foundation
import GRDB
import ImprintCore
import ImprintWire

/// The inventory as the deployment server's store: the site's one inventory, written by the server alone.
extension Inventory: DeploymentStore {
    public func lookUp(_ facts: HardwareFacts) throws -> StoreMatch {
        let found: Match
        do {
            found = try match(facts)
        } catch {
            switch error {
            case .noMatch: return .unknown
            case .noUsableIdentifiers: return .unidentifiable
            case .conflict(let owners): return .conflict(owners: owners.keys.sorted())
            default: throw error
            }
        }
        // The match loaded the record already: only the deployment state is read here.
        return .unit(try read { db in
            try self.deployed(unitId: try self.unitId(found.unit.profile.hostname.value, db: db), profile: found.unit.profile, db: db)
        })
    }

    public func enrol(_ facts: HardwareFacts, window: DeploymentWindow) throws -> DeployedUnit {
        // The count and the new unit are one transaction, so a full window never takes one unit too many.
        try write { db in
            let counted = try Int.fetchOne(
                db, sql: "UPDATE deploymentWindow SET enrolled = enrolled + 1 WHERE id = ? AND enrolled < maximumNewUnits RETURNING enrolled",
                arguments: [window.id])
            guard counted != nil else {
                throw InventoryError.refused(
                    reason: "the window for group \(quoted(window.group)) has enrolled its \(window.maximumNewUnits) new units; "
                        + "open it again with a larger '--maximum-new-units' to let more join")
            }
        }
        let enrolled = try enroll(facts, group: window.group, counting: true)
        return try deployed(enrolled.unit.profile.hostname.value)
    }

    public func openWindow(_ request: WindowRequest, by actor: String, now: Date) throws -> DeploymentWindow {
        try write { db in
            let groupId = try self.groupId(request.group, create: false, db: db)
            try db.execute(
                sql: "UPDATE deploymentWindow SET closed = ? WHERE groupId = ? AND closed IS NULL AND expires > ?",
                arguments: [now, groupId, now])
            let actions = Set(request.actions).sorted().map(\.rawValue).joined(separator: ",")
            let expires = now.addingTimeInterval(TimeInterval(request.minutes * 60))
            try db.execute(
                sql: """
                    INSERT INTO deploymentWindow (groupId, actions, image, opened, expires, maximumNewUnits, openedBy)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [groupId, actions, request.image, now, expires, request.maximumNewUnits ?? 0, actor])
            let id = db.lastInsertedRowID
            let window = try self.windows(db: db, sql: "w.id = ?", arguments: [id])[0]
            try self.insertAudit(AuditEntry(
                time: now, actor: actor, event: "window opened", group: window.group,
                detail: "\(actions) until \(window.expires.formatted(.iso8601))"
                    + (window.image.map { ", image \($0)" } ?? "") + ", at most \(window.maximumNewUnits) new units"), db: db)
            return window
        }
    }

    public func closeWindow(group: String, by actor: String, now: Date) throws -> Bool {
        try write { db in
            let groupId = try self.groupId(group, create: false, db: db)
            try db.execute(
                sql: "UPDATE deploymentWindow SET closed = ? WHERE groupId = ? AND closed IS NULL AND expires > ?",
                arguments: [now, groupId, now])
            guard db.changesCount > 0 else { return false }
            try self.insertAudit(AuditEntry(time: now, actor: actor, event: "window closed", group: group, detail: "closed"), db: db)
            return true
        }
    }

    public func openWindows(now: Date) throws -> [DeploymentWindow] {
        try read { db in try self.windows(db: db, sql: "w.closed IS NULL AND w.expires > ?", arguments: [now]) }
    }

    public func arm(unit: String, window: Int64, keyDigest: Data, now: Date) throws {
        try write { db in
            let id = try self.unitId(unit, db: db)
            try self.ensureDeploymentRow(id, db: db)
            try db.execute(
                sql: "UPDATE unitDeployment SET keyDigest = ?, armedBy = ?, armedAt = ?, state = 'armed', percent = NULL, error = NULL WHERE unitId = ?",
                arguments: [keyDigest, window, now, id])
        }
    }

    public func keyDigest(ofUnit unit: String) throws -> Data? {
        try read { db in
            guard let id = try? self.unitId(unit, db: db) else { return nil }
            return try Data.fetchOne(db, sql: "SELECT keyDigest FROM unitDeployment WHERE unitId = ?", arguments: [id])
        }
    }

    public func apply(_ action: ServerAPI.UnitAction, unit: String, window: Int64?) throws {
        try write { db in
            let id = try self.unitId(unit, db: db)
            try self.ensureDeploymentRow(id, db: db)
            let sql: String
            var arguments: StatementArguments = []
            switch action {
            case .arm: sql = "UPDATE unitDeployment SET keyDigest = NULL, armedBy = NULL, armedAt = NULL, state = 'idle' WHERE unitId = ?"
            case .protect: sql = "UPDATE unitDeployment SET protected = 1 WHERE unitId = ?"
            case .unprotect: sql = "UPDATE unitDeployment SET protected = 0 WHERE unitId = ?"
            case .approve:
                sql = "UPDATE unitDeployment SET approvedIn = ?, state = 'idle' WHERE unitId = ?"
                arguments = [window]
            }
            arguments += [id]
            try db.execute(sql: sql, arguments: arguments)
        }
    }

    public func record(_ report: UnitReport, unit: String, source: String, now: Date) throws {
        try write { db in
            let id = try self.unitId(unit, db: db)
            try self.ensureDeploymentRow(id, db: db)
            let state: UnitState
            switch report.event {
            case .restoring: state = .restoring
            case .applied, .unchanged: state = .personalized
            case .failed: state = .failed
            }
            // The image stays the one the unit last said it runs: a progress report names none.
            try db.execute(
                sql: """
                    UPDATE unitDeployment SET state = ?, percent = ?, lastReport = ?, lastResult = ?, error = ?,
                        image = COALESCE(?, image)
                    WHERE unitId = ?
                    """,
                arguments: [state.rawValue, report.percent, now, report.event.rawValue, report.message, report.identity?.image, id])
            guard report.event != .restoring else { return }
            if report.event == .failed {
                // The unit asks again in the same window and is armed anew: only its token could say it failed.
                try db.execute(sql: "UPDATE unitDeployment SET armedBy = NULL WHERE unitId = ?", arguments: [id])
            }
            let identityLine = try report.identity.map { try $0.jsonLine() } ?? "{}"
            var row = HistoryEntry(
                unitId: id, hostname: try self.hostname(ofUnit: id, db: db), time: report.time, source: source,
                result: report.identity?.result ?? report.event.rawValue,
                revision: report.identity?.revision ?? 0, identity: identityLine)
            try row.insert(db)
        }
    }

    public func markPending(unit: String) throws {
        try write { db in
            let id = try self.unitId(unit, db: db)
            try self.ensureDeploymentRow(id, db: db)
            try db.execute(sql: "UPDATE unitDeployment SET state = 'pending', percent = NULL WHERE unitId = ?", arguments: [id])
        }
    }

    public func groupNames() throws -> [String] {
        try groups().map(\.draft.name)
    }

    public func audit(_ entry: AuditEntry) throws {
        try write { db in try self.insertAudit(entry, db: db) }
    }

    public func auditLog(limit: Int) throws -> [AuditEntry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id DESC LIMIT ?", arguments: [limit]).map { row in
                AuditEntry(
                    time: row["time"], actor: row["actor"], event: row["event"], unit: row["unit"], group: row["groupName"],
                    detail: row["detail"])
            }
        }
    }

    public func fleet(group: String?, now: Date) throws -> [FleetRow] {
        try read { db in
            var sql = """
                SELECT u.hostname, g.name AS groupName, u.model,
                    (SELECT value FROM identifier i WHERE i.unitId = u.id AND i.kind = 'serial' LIMIT 1) AS serial,
                    d.state, d.percent, d.image, d.lastReport, d.lastResult, d.error, COALESCE(d.protected, 0) AS protected,
                    d.armedAt
                FROM unit u LEFT JOIN unitGroup g ON g.id = u.groupId LEFT JOIN unitDeployment d ON d.unitId = u.id
                """
            var arguments: StatementArguments = []
            if let group {
                sql += " WHERE g.id = ?"
                arguments = [try self.groupId(group, create: false, db: db)]
            }
            sql += " ORDER BY g.name, u.hostname"
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                var stored = (row["state"] as String?).flatMap(UnitState.init(rawValue:)) ?? .idle
                // Armed or restoring and silent for longer than a restore takes: the unit stopped somewhere.
                let heard = Self.lastHeard(report: row["lastReport"], armed: row["armedAt"])
                if stored == .armed || stored == .restoring, let heard, now.timeIntervalSince(heard) > Self.staleAfter {
                    stored = .stale
                }
                return FleetRow(
                    unit: row["hostname"], group: row["groupName"], model: row["model"], serial: row["serial"],
                    state: stored, percent: row["percent"], image: row["image"], lastReport: row["lastReport"],
                    lastResult: row["lastResult"], error: row["error"], protected: row["protected"])
            }
        }
    }

    public func group(ofUnit unit: String) throws -> String? {
        try read { db in
            let id = try self.unitId(unit, db: db)
            return try String.fetchOne(
                db, sql: "SELECT g.name FROM unit u JOIN unitGroup g ON g.id = u.groupId WHERE u.id = ?", arguments: [id])
        }
    }

    public func adminKeyDigest() throws -> Data? {
        try read { db in try Data.fetchOne(db, sql: "SELECT digest FROM adminCredential WHERE id = 1") }
    }

    public func setAdminKeyDigest(_ digest: Data, now: Date) throws {
        try write { db in
            try db.execute(
                sql: "INSERT INTO adminCredential (id, digest, created) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET digest = excluded.digest, created = excluded.created",
                arguments: [digest, now])
        }
    }

    /// How long an armed or restoring unit may stay silent before the fleet page calls it stale.
    public static let staleAfter = DeployedUnit.staleAfter

    // MARK: - Rows

    private func deployed(_ name: String) throws -> DeployedUnit {
        try read { db in try self.deployed(unitId: try self.unitId(name, db: db), db: db) }
    }

    /// - Parameters:
    ///   - profile: the unit's profile when the caller has it already (nil: loaded here).
    private func deployed(unitId id: Int64, profile: UnitProfile? = nil, db: Database) throws -> DeployedUnit {
        let profile = try profile ?? record(id: id, db: db).profile
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT protected, armedBy, approvedIn, state, lastReport, armedAt FROM unitDeployment WHERE unitId = ?"),
            arguments: [id])
        let inProgress = ["armed", "restoring"].contains(row?["state"] as String? ?? "")
        let heard = Self.lastHeard(report: row?["lastReport"], armed: row?["armedAt"])
        return DeployedUnit(
            profile: profile, protected: row?["protected"] ?? false, armedBy: row?["armedBy"], approvedIn: row?["approvedIn"],
            inProgressSince: inProgress ? heard : nil)
    }

    /// When a unit was last heard of: its last report or its arming, whichever came later (a unit armed anew after
    /// an old report is as fresh as its arming).
    static func lastHeard(report: Date?, armed: Date?) -> Date? {
        [report, armed].compactMap { $0 }.max()
    }

    private func ensureDeploymentRow(_ unitId: Int64, db: Database) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO unitDeployment (unitId) VALUES (?)", arguments: [unitId])
    }

    private func insertAudit(_ entry: AuditEntry, db: Database) throws {
        try db.execute(
            sql: "INSERT INTO audit (time, actor, event, unit, groupName, detail) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [entry.time, entry.actor, entry.event, entry.unit, entry.group, entry.detail])
    }

    private func windows(db: Database, sql condition: String, arguments: StatementArguments) throws -> [DeploymentWindow] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT w.*, g.name AS groupName FROM deploymentWindow w JOIN unitGroup g ON g.id = w.groupId
                WHERE \(condition) ORDER BY g.name
                """),
            arguments: arguments
        ).map { row in
            let actions = (row["actions"] as String).split(separator: ",").compactMap { WindowAction(rawValue: String($0)) }
            return DeploymentWindow(
                id: row["id"], group: row["groupName"], actions: actions, image: row["image"], opened: row["opened"],
                expires: row["expires"], maximumNewUnits: row["maximumNewUnits"], enrolled: row["enrolled"],
                openedBy: row["openedBy"])
        }
    }
}

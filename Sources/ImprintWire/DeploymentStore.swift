import Foundation
import ImprintCore

/// The unit the facts of an identify request name in the store.
public enum StoreMatch: Equatable, Sendable {
    case unit(DeployedUnit)
    /// No identifier of the facts is known.
    case unknown
    /// The facts' identifiers belong to several units: the admin decides.
    case conflict(owners: [String])
    /// Nothing in the facts can identify a machine (placeholders only).
    case unidentifiable
}

/// A unit as the server decides about it: its record and where it stands in deployments.
public struct DeployedUnit: Equatable, Sendable {
    public var profile: UnitProfile
    public var protected: Bool
    /// The window whose arming gave the unit its current token, nil when it has none.
    public var armedBy: Int64?
    /// The window in which the admin approved a restore over the unit's data.
    public var approvedIn: Int64?
    /// When the unit, armed and not yet done (armed or restoring), was last heard of: its last report, else its
    /// arming; nil when it is not in the middle of a deployment.
    public var inProgressSince: Date?

    /// How long an armed or restoring unit may stay silent before it counts as stopped (power lost, the technician
    /// pulled it): longer than a restore takes between two progress reports.
    public static let staleAfter: TimeInterval = 30 * 60

    public init(profile: UnitProfile, protected: Bool, armedBy: Int64?, approvedIn: Int64?, inProgressSince: Date? = nil) {
        self.profile = profile
        self.protected = protected
        self.armedBy = armedBy
        self.approvedIn = approvedIn
        self.inProgressSince = inProgressSince
    }

    public var name: String { profile.hostname.value }

    /// Whether the unit was armed or restoring and has been silent for longer than `staleAfter` at `now`.
    public func isStale(now: Date) -> Bool {
        inProgressSince.map { now.timeIntervalSince($0) > Self.staleAfter } ?? false
    }
}

/// Where the deployment server keeps its state: the units and groups, windows, unit keys, reports and the audit
/// log. The SQLite inventory is one; a PostgreSQL store for a district is meant to be another.
///
/// The server calls a store from one task at a time (it serializes its decisions), so an implementation needs no
/// locking of its own beyond the transactions each method runs in.
public protocol DeploymentStore: Sendable {
    func lookUp(_ facts: HardwareFacts) throws -> StoreMatch
    /// Adds an unknown unit to the window's group, named by the group's pattern (a counter is fine: the server hands
    /// out every name), and counts it against the window's maximum.
    func enrol(_ facts: HardwareFacts, window: DeploymentWindow) throws -> DeployedUnit

    /// Opens a window for a group, replacing the group's open one.
    func openWindow(_ request: WindowRequest, by actor: String, now: Date) throws -> DeploymentWindow
    /// Closes the group's open window; false when none was open.
    func closeWindow(group: String, by actor: String, now: Date) throws -> Bool
    /// The windows open at `now`.
    func openWindows(now: Date) throws -> [DeploymentWindow]

    /// Keeps the digest of the token a window gave the unit, replacing an older one.
    func arm(unit: String, window: Int64, keyDigest: Data, now: Date) throws
    /// The digest of the unit's current token.
    func keyDigest(ofUnit unit: String) throws -> Data?
    /// Takes an admin action on a unit (`arm` forgets its token; `approve` approves it in `window`).
    func apply(_ action: ServerAPI.UnitAction, unit: String, window: Int64?) throws

    /// Keeps a unit's report: its state for the fleet page and, for a run, a line of the unit's history. A failure
    /// ends the unit's arming, so it is armed anew when it asks again in the same window.
    func record(_ report: UnitReport, unit: String, source: String, now: Date) throws
    /// Marks a unit that got `needs-confirmation` as waiting for the admin's approval.
    func markPending(unit: String) throws
    func audit(_ entry: AuditEntry) throws
    func auditLog(limit: Int) throws -> [AuditEntry]
    /// The units of a group (all units when nil) with their state.
    func fleet(group: String?, now: Date) throws -> [FleetRow]
    /// The group of the unit `unit` names (its hostname or an identifier), nil for a unit in no group.
    func group(ofUnit unit: String) throws -> String?
    /// The names of every group, units or not, so a window can be opened for a room nobody has enrolled in yet.
    func groupNames() throws -> [String]

    /// The digest of the admin token made at setup.
    func adminKeyDigest() throws -> Data?
    func setAdminKeyDigest(_ digest: Data, now: Date) throws
}

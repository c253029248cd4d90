/// The unit a machine's facts name, as personalization needs it.
public struct UnitAssignment: Equatable, Sendable {
    /// The unit's record with its group's defaults filled in.
    public var profile: UnitProfile
    /// The identifiers of the facts that the directory holds for this unit.
    public var matched: [Identifier]
    /// The group the unit joined because the facts named no unit; nil when it was known.
    public var enrolledInto: String?

    public init(profile: UnitProfile, matched: [Identifier], enrolledInto: String? = nil) {
        self.profile = profile
        self.matched = matched
        self.enrolledInto = enrolledInto
    }
}

/// Where personalization finds the unit a machine is and reports what it gave it: the SQLite inventory (a site's,
/// or the copy a unit carries) today, the deployment server next.
public protocol UnitDirectory {
    /// The unit `facts` name. Facts that name no unit join `group` (or the one group that allows enrolment) when
    /// that group lets them, named by its pattern; otherwise they are an error that changes nothing.
    /// - Parameters:
    ///   - preview: a dry run: a unit that would enrol is planned, and nothing is stored.
    func assign(_ facts: HardwareFacts, enrolling group: String?, preview: Bool) throws -> UnitAssignment

    /// Whether this is a unit's own copy that still holds other units, so the run that gives the unit its identity
    /// shrinks it to the unit's own record.
    func shrinksAfterRun() throws -> Bool

    /// Keeps an applied run in the unit's history; a copy that `shrinksAfterRun` then keeps the unit's record only.
    /// - Important: on a unit's copy, deletes every other unit from the directory for good.
    func recordRun(_ identity: IdentityRecord, source: String) throws
}

/// Where Imprint keeps its files on a system.
public enum ImprintPaths {
    /// The inventory, when neither `--inventory` nor `IMPRINT_INVENTORY` says otherwise; a unit's copy is put here.
    public static let inventory = "/var/lib/imprint/inventory.db"
    /// The deployment server's root URL, one line: where a unit asks and reports.
    public static let serverAddress = "/etc/imprint/server"
    /// The certificate authority (PEM) the unit trusts its https server by, when the site's server has a
    /// certificate of its own rather than one the system's store trusts.
    public static let serverAuthority = "/etc/imprint/server-ca.pem"
}

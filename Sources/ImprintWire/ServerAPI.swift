import Foundation
import ImprintCore

/// The deployment server's API, version 1: the paths and the JSON bodies that units, admins and the server exchange.
/// README's "The deployment server" documents each field; a change here is a change of the API.
public enum ServerAPI {
    /// A single-use value a unit signs into its next request, so a captured request cannot be sent again.
    public static let noncePath = "/v1/nonces"
    /// Where a unit sends its facts and learns what to do.
    public static let identifyPath = "/v1/identify"
    /// Where a unit reports a run or a restore's progress; only on itself.
    public static func reportPath(unit: String) -> String { "/v1/units/\(unit)/reports" }
    /// An image of the library, with HTTP ranges and a strong ETag.
    public static func imagePath(id: String) -> String { "/v1/images/\(id)" }
    public static let imagesPath = "/v1/images"
    public static let windowsPath = "/v1/admin/windows"
    public static func windowPath(group: String) -> String { "/v1/admin/windows/\(group)" }
    public static func unitActionPath(unit: String, action: UnitAction) -> String { "/v1/admin/units/\(unit)/\(action.rawValue)" }
    public static let auditPath = "/v1/admin/audit"
    public static let fleetPath = "/v1/admin/fleet"

    /// The largest body the server reads: a report carries an identity line and a message, facts a few cards.
    public static let maximumBodyBytes = 64 * 1024

    /// An action an admin takes on one unit.
    public enum UnitAction: String, Codable, Sendable, CaseIterable {
        /// Forget the unit's token so the next identify inside a window arms it again (after its disk was replaced).
        case arm
        /// A unit the admin protects gets `needs-confirmation` instead of `restore`.
        case protect
        case unprotect
        /// Lets one unit that got `needs-confirmation` be restored inside the current window.
        case approve
    }
}

/// What a window lets units do.
public enum WindowAction: String, Codable, Sendable, CaseIterable, Comparable {
    /// Unknown units join the window's group, named by its pattern.
    case enrol
    /// Units get their record and personalize the system they run.
    case personalize
    /// Units get the window's image, restore it, then personalize.
    case restore

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// `POST /v1/nonces` answers with one nonce, valid for a few minutes and for one request.
public struct NonceAnswer: Codable, Equatable, Sendable {
    public var nonce: String
    public init(nonce: String) { self.nonce = nonce }
}

/// `POST /v1/identify`: the facts a unit read of itself and what its disk holds.
public struct IdentifyRequest: Codable, Equatable, Sendable {
    public var facts: HardwareFacts
    /// The group of the Imprint identity found on the unit's disk (its identity log), nil when none.
    public var diskGroup: String?
    /// Whether the unit's disk holds file systems with data.
    public var diskHoldsData: Bool

    public init(facts: HardwareFacts, diskGroup: String? = nil, diskHoldsData: Bool = false) {
        self.facts = facts
        self.diskGroup = diskGroup
        self.diskHoldsData = diskHoldsData
    }
}

/// What a unit should do now.
public enum UnitInstruction: String, Codable, Sendable {
    /// No window covers this unit, or it is not allowed anything now.
    case nothing
    /// Personalize the system the unit runs with the record the answer carries.
    case personalize
    /// Restore the answer's image, then personalize with its record.
    case restore
    /// The disk holds data the admin must decide about ("do you need the data on this computer?").
    case needsConfirmation = "needs-confirmation"
}

/// The image a unit restores, as the library names it.
public struct ImageReference: Codable, Equatable, Sendable {
    public var id: String
    /// The hardware models the image serves; empty when it serves any.
    public var models: [String]
    public var bytes: UInt64
    /// The strong ETag the download carries; a resumed download asks for the same one.
    public var etag: String

    public init(id: String, models: [String], bytes: UInt64, etag: String) {
        self.id = id
        self.models = models
        self.bytes = bytes
        self.etag = etag
    }
}

/// The answer to `POST /v1/identify`.
public struct IdentifyAnswer: Codable, Equatable, Sendable {
    public var action: UnitInstruction
    /// Why, for `nothing` and `needs-confirmation`: said to the technician.
    public var reason: String?
    /// The unit's name, when the facts matched or enrolled one inside a window.
    public var unit: String?
    /// The unit's record, only with `personalize` or `restore`.
    public var profile: UnitProfile?
    /// The group the unit joined when it enrolled now.
    public var enrolledInto: String?
    public var image: ImageReference?
    /// The unit's token, given once when a window arms the unit; the unit keeps it (mode 0600) and signs with it.
    public var token: String?

    public init(
        action: UnitInstruction, reason: String? = nil, unit: String? = nil, profile: UnitProfile? = nil,
        enrolledInto: String? = nil, image: ImageReference? = nil, token: String? = nil
    ) {
        self.action = action
        self.reason = reason
        self.unit = unit
        self.profile = profile
        self.enrolledInto = enrolledInto
        self.image = image
        self.token = token
    }
}

/// What a report says happened.
public enum ReportEvent: String, Codable, Sendable {
    /// A restore is under way; `percent` says how far.
    case restoring
    /// The agent applied the unit's identity.
    case applied
    /// The agent had nothing to do: this revision was applied before.
    case unchanged
    case failed
}

/// `POST /v1/units/NAME/reports`, signed by the unit.
public struct UnitReport: Codable, Equatable, Sendable {
    public var event: ReportEvent
    public var percent: Int?
    /// What failed, said to the admin.
    public var message: String?
    /// The identity line the agent logged for the run (`applied`, `unchanged`).
    public var identity: IdentityRecord?
    /// When the unit made the report; a queued report keeps the time of its run.
    public var time: Date

    public init(event: ReportEvent, percent: Int? = nil, message: String? = nil, identity: IdentityRecord? = nil, time: Date) {
        self.event = event
        self.percent = percent
        self.message = message
        self.identity = identity
        self.time = time
    }
}

/// `POST /v1/admin/windows`: opens (or replaces) a group's deployment window.
public struct WindowRequest: Codable, Equatable, Sendable {
    public var group: String
    public var actions: [WindowAction]
    /// The library image units restore; needed with `restore`, else the image serving the unit's model.
    public var image: String?
    public var minutes: Int
    /// How many unknown units may enrol in this window.
    public var maximumNewUnits: Int?

    public init(group: String, actions: [WindowAction], image: String? = nil, minutes: Int, maximumNewUnits: Int? = nil) {
        self.group = group
        self.actions = actions
        self.image = image
        self.minutes = minutes
        self.maximumNewUnits = maximumNewUnits
    }
}

/// An open window, as `GET /v1/admin/windows` lists it.
public struct DeploymentWindow: Codable, Equatable, Sendable {
    public var id: Int64
    public var group: String
    public var actions: [WindowAction]
    public var image: String?
    public var opened: Date
    public var expires: Date
    public var maximumNewUnits: Int
    public var enrolled: Int
    /// Who opened it: "admin token" or "page".
    public var openedBy: String

    public init(
        id: Int64, group: String, actions: [WindowAction], image: String?, opened: Date, expires: Date,
        maximumNewUnits: Int, enrolled: Int, openedBy: String
    ) {
        self.id = id
        self.group = group
        self.actions = actions
        self.image = image
        self.opened = opened
        self.expires = expires
        self.maximumNewUnits = maximumNewUnits
        self.enrolled = enrolled
        self.openedBy = openedBy
    }

    public func allows(_ action: WindowAction) -> Bool { actions.contains(action) }
}

/// The longest a window may stay open: long enough to image a room, short enough that a forgotten one closes.
public let maximumWindowMinutes = 8 * 60

/// A line of the audit log: every window, arming, conflict and admin action.
public struct AuditEntry: Codable, Equatable, Sendable {
    public var time: Date
    public var actor: String
    public var event: String
    public var unit: String?
    public var group: String?
    public var detail: String

    public init(time: Date, actor: String, event: String, unit: String? = nil, group: String? = nil, detail: String) {
        self.time = time
        self.actor = actor
        self.event = event
        self.unit = unit
        self.group = group
        self.detail = detail
    }
}

/// Where a unit stands, as the fleet page shows it.
public enum UnitState: String, Codable, Sendable, CaseIterable {
    case idle, armed, restoring, personalized, failed
    /// Armed or restoring, and not heard from for half an hour: switched off, stuck, or lost its token.
    case stale
    /// Got `needs-confirmation`: waits for the admin to approve a restore over its data.
    case pending
}

/// One row of the fleet page and of `GET /v1/admin/fleet`.
public struct FleetRow: Codable, Equatable, Sendable {
    public var unit: String
    public var group: String?
    public var model: String?
    public var serial: String?
    public var state: UnitState
    public var percent: Int?
    public var image: String?
    public var lastReport: Date?
    public var lastResult: String?
    public var error: String?
    public var protected: Bool

    public init(
        unit: String, group: String?, model: String?, serial: String?, state: UnitState, percent: Int?,
        image: String?, lastReport: Date?, lastResult: String?, error: String?, protected: Bool
    ) {
        self.unit = unit
        self.group = group
        self.model = model
        self.serial = serial
        self.state = state
        self.percent = percent
        self.image = image
        self.lastReport = lastReport
        self.lastResult = lastResult
        self.error = error
        self.protected = protected
    }
}

/// The error body of every 4xx and 5xx answer.
public struct ServerProblem: Codable, Equatable, Sendable, Error {
    public var error: String
    public init(error: String) { self.error = error }
}

extension JSONEncoder {
    /// The server's JSON: ISO 8601 times, sorted keys, so the same value reads the same.
    public static var server: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

extension JSONDecoder {
    public static var server: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

import Crypto
import Foundation
import ImprintCore
import ImprintInventory
import ImprintWire

/// The server's decisions: who a unit is, what it may do now, whether a request is really from the unit or an admin.
///
/// Identity is not authority: facts pick a record, and only an open window turns that into an action, a token and
/// the record's secrets. One actor makes every decision, so enrolments get distinct names and a unit is armed once.
public actor Deployment {
    let store: any DeploymentStore
    let images: ImageShelf
    let clock: @Sendable () -> Date
    /// Whether a proxy on loopback (nginx for TLS) says who the client is, in X-Real-IP.
    public nonisolated let trustsProxy: Bool
    private var nonces = NonceBook()
    private var enrolments: RateLimit
    private var failures: RateLimit

    /// - Parameters:
    ///   - enrolmentsPerMinute: how many unknown units one address may enrol in a minute.
    ///   - failuresPerMinute: how many failed authentications one address may make in a minute before it is refused
    ///     without checking.
    ///   - trustsProxy: take the client's address from X-Real-IP when the connection comes from loopback.
    public init(
        store: any DeploymentStore, images: ImageShelf, clock: @escaping @Sendable () -> Date = Date.init,
        enrolmentsPerMinute: Int = 300, failuresPerMinute: Int = 20, trustsProxy: Bool = false
    ) {
        self.trustsProxy = trustsProxy
        self.store = store
        self.images = images
        self.clock = clock
        self.enrolments = RateLimit(perMinute: enrolmentsPerMinute)
        self.failures = RateLimit(perMinute: failuresPerMinute)
    }

    public func issueNonce() -> String { nonces.issue(now: clock()) }

    // MARK: - Units

    /// What the unit the facts name should do now.
    /// - Parameters:
    ///   - signature: the unit's signature when it already holds a token (asking again after a restart).
    public func identify(
        _ request: IdentifyRequest, signature: RequestSignature?, body: Data, path: String, address: String
    ) throws(ServerError) -> IdentifyAnswer {
        let now = clock()
        let windows = try storing { try store.openWindows(now: now) }
        let unit: DeployedUnit
        var window: DeploymentWindow
        var enrolledInto: String?
        switch try storing({ try store.lookUp(request.facts) }) {
        case .unidentifiable:
            return IdentifyAnswer(
                action: .nothing, reason: "the facts hold no identifier a unit can be known by (placeholders only)")
        case .conflict(let owners):
            try note(AuditEntry(
                time: now, actor: address, event: "conflict",
                detail: "one machine's facts name several units: \(owners.joined(separator: ", "))"))
            return IdentifyAnswer(
                action: .nothing,
                reason: "these facts name several units (\(owners.joined(separator: ", "))); the admin must remove the wrong identifiers")
        case .unknown:
            let enrolling = windows.filter { $0.allows(.enrol) }
            guard enrolling.count == 1, let open = enrolling.first else {
                return IdentifyAnswer(
                    action: .nothing,
                    reason: enrolling.isEmpty
                        ? "this machine is not in the inventory and no window lets units enrol"
                        : "this machine is not in the inventory and several windows let units enrol (\(enrolling.map(\.group).joined(separator: ", "))); the admin must close all but one")
            }
            guard enrolments.allow(address, now: now) else {
                throw ServerError(.tooManyRequests, "too many enrolments from \(address); wait a minute")
            }
            unit = try storing { try store.enrol(request.facts, window: open) }
            try note(AuditEntry(
                time: now, actor: address, event: "enrolled", unit: unit.name, group: open.group,
                detail: "joined by its identifiers \(unit.profile.identifiers.map(\.description).joined(separator: ", "))"))
            window = open
            window.enrolled += 1
            enrolledInto = open.group
        case .unit(let known):
            guard let open = windows.first(where: { $0.group.lowercased() == known.profile.group?.lowercased() }) else {
                return IdentifyAnswer(action: .nothing, reason: "no window is open for this unit's group")
            }
            unit = known
            window = open
        }

        let instruction: UnitInstruction
        if window.allows(.restore) {
            instruction = .restore
        } else if window.allows(.personalize) {
            instruction = .personalize
        } else {
            return IdentifyAnswer(
                action: .nothing, reason: "the window for group \(quoted(window.group)) only enrols units", unit: unit.name,
                enrolledInto: enrolledInto)
        }

        if instruction == .restore && unit.approvedIn != window.id {
            var doubts: [String] = []
            if unit.protected { doubts.append("the admin protected this unit") }
            if let other = request.diskGroup, other.lowercased() != unit.profile.group?.lowercased() {
                doubts.append("its disk holds an Imprint identity of group \(quoted(other))")
            }
            if !doubts.isEmpty {
                try note(AuditEntry(
                    time: now, actor: address, event: "needs confirmation", unit: unit.name, group: window.group,
                    detail: doubts.joined(separator: "; ")))
                try storing { try store.markPending(unit: unit.name) }
                return IdentifyAnswer(
                    action: .needsConfirmation,
                    reason: "do you need the data on this computer? \(doubts.joined(separator: "; ")); the admin approves it on the fleet page",
                    unit: unit.name, enrolledInto: enrolledInto)
            }
        }

        var image: ImageReference?
        if instruction == .restore {
            do {
                image = try images.reference(id: window.image, model: unit.profile.model)
            } catch {
                return IdentifyAnswer(action: .nothing, reason: error.message, unit: unit.name, enrolledInto: enrolledInto)
            }
        }

        var again = ""
        if unit.armedBy == window.id {
            // Armed before in this window: only the unit holding that token hears the answer again...
            if let signature, signature.unit.lowercased() == unit.name.lowercased(),
                try isAuthentic(signature, method: "POST", path: path, body: body, address: address, now: now)
            {
                return IdentifyAnswer(
                    action: instruction, unit: unit.name, profile: unit.profile, enrolledInto: enrolledInto, image: image)
            }
            // ...unless that unit stopped without a word (power lost mid-restore, with its token in memory): after
            // as long a silence as the fleet page calls stale, the machine asking is armed anew, as FOG restarts a
            // task. A live unit reports its progress, so it never reaches this.
            guard unit.isStale(now: now), let since = unit.inProgressSince else {
                try note(AuditEntry(
                    time: now, actor: address, event: "conflict", unit: unit.name, group: window.group,
                    detail: "a second machine claimed this unit, which is already armed in this window"))
                return IdentifyAnswer(
                    action: .nothing,
                    reason: "unit \(unit.name) is already armed in this window; if its disk was replaced, the admin arms it again on the fleet page",
                    unit: unit.name)
            }
            again = " again: silent for \(Int(now.timeIntervalSince(since) / 60)) minutes since it was last heard of"
        }

        let token = RequestSignature.randomToken()
        try storing { try store.arm(unit: unit.name, window: window.id, keyDigest: RequestSignature.tokenDigest(token), now: now) }
        try note(AuditEntry(
            time: now, actor: address, event: "armed", unit: unit.name, group: window.group,
            detail: (instruction == .restore ? "restore \(image?.id ?? "")" : "personalize") + again))
        return IdentifyAnswer(
            action: instruction, unit: unit.name, profile: unit.profile, enrolledInto: enrolledInto, image: image, token: token)
    }

    /// Keeps a unit's signed report on itself.
    public func report(
        unit: String, body: Data, signature: RequestSignature?, path: String, address: String
    ) throws(ServerError) {
        let now = clock()
        guard let signature else {
            throw ServerError(.unauthorized, "a report must be signed with the unit's token (headers Imprint-Unit, Imprint-Nonce, Imprint-Signature)")
        }
        guard signature.unit.lowercased() == unit.lowercased() else {
            try failed(address, now: now)
            throw ServerError(.forbidden, "unit \(signature.unit) may report only on itself, not on \(unit)")
        }
        guard try isAuthentic(signature, method: "POST", path: path, body: body, address: address, now: now) else {
            throw ServerError(.unauthorized, "the report's signature or nonce is not valid; ask for a new nonce and sign again")
        }
        let report: UnitReport
        do {
            report = try JSONDecoder.server.decode(UnitReport.self, from: body)
        } catch {
            throw ServerError(.badRequest, "the report is not a report body: \(error.localizedDescription)")
        }
        if let identity = report.identity, identity.unit.lowercased() != unit.lowercased() {
            throw ServerError(.forbidden, "the report's identity line names unit \(identity.unit), not \(unit)")
        }
        if let percent = report.percent, !(0...100).contains(percent) {
            throw ServerError(.badRequest, "percent \(percent) is not between 0 and 100")
        }
        try storing { try store.record(report, unit: unit, source: "server \(address)", now: now) }
    }

    /// Whether a request that claims to come from an armed unit does: its nonce fresh and unused, its signature made
    /// with the unit's token.
    public func isAuthentic(
        _ signature: RequestSignature, method: String, path: String, body: Data, address: String, now: Date? = nil
    ) throws(ServerError) -> Bool {
        let now = now ?? clock()
        guard !failures.isExhausted(address, now: now) else {
            throw ServerError(.tooManyRequests, "too many failed authentications from \(address); wait a minute")
        }
        let key = try storing { try store.keyDigest(ofUnit: signature.unit) }
        guard nonces.redeem(signature.nonce, now: now), let key,
            signature.isValid(key: key, method: method, path: path, body: body)
        else {
            try failed(address, now: now)
            return false
        }
        return true
    }

    // MARK: - Admins

    /// Whether `token` is the admin token made at setup.
    public func isAdmin(token: String, address: String) throws(ServerError) -> Bool {
        let now = clock()
        guard !failures.isExhausted(address, now: now) else {
            throw ServerError(.tooManyRequests, "too many failed authentications from \(address); wait a minute")
        }
        guard let stored = try storing({ try store.adminKeyDigest() }) else { return false }
        let given = RequestSignature.tokenDigest(token)
        // Compared through HMAC so the time taken does not tell how many bytes matched.
        let key = SymmetricKey(size: .bits256)
        let same = HMAC<SHA256>.authenticationCode(for: given, using: key) == HMAC<SHA256>.authenticationCode(for: stored, using: key)
        if !same { try failed(address, now: now) }
        return same
    }

    public func openWindow(_ request: WindowRequest, by actor: String) throws(ServerError) -> DeploymentWindow {
        guard (1...maximumWindowMinutes).contains(request.minutes) else {
            throw ServerError(.badRequest, "a window lasts 1 to \(maximumWindowMinutes) minutes, not \(request.minutes)")
        }
        guard !request.actions.isEmpty else {
            throw ServerError(.badRequest, "a window needs at least one action: enrol, personalize or restore")
        }
        if let maximum = request.maximumNewUnits, !(0...10_000).contains(maximum) {
            throw ServerError(.badRequest, "maximumNewUnits \(maximum) is not between 0 and 10000")
        }
        if request.actions.contains(.enrol) && (request.maximumNewUnits ?? 0) == 0 {
            throw ServerError(.badRequest, "a window that enrols needs maximumNewUnits: how many new units may join")
        }
        if let image = request.image {
            do { _ = try images.reference(id: image, model: nil) } catch { throw error }
        }
        return try storing { try store.openWindow(request, by: actor, now: clock()) }
    }

    public func closeWindow(group: String, by actor: String) throws(ServerError) -> Bool {
        try storing { try store.closeWindow(group: group, by: actor, now: clock()) }
    }

    public func windows() throws(ServerError) -> [DeploymentWindow] {
        try storing { try store.openWindows(now: clock()) }
    }

    public func act(_ action: ServerAPI.UnitAction, unit: String, by actor: String) throws(ServerError) {
        let now = clock()
        var window: Int64?
        if action == .approve {
            let windows = try storing { try store.openWindows(now: now) }
            let group = try storing { try store.group(ofUnit: unit) }
            guard let open = windows.first(where: { $0.group.lowercased() == group?.lowercased() }) else {
                throw ServerError(.conflict, "no window is open for unit \(unit)'s group; open one before approving")
            }
            window = open.id
        }
        try storing { try store.apply(action, unit: unit, window: window) }
        try note(AuditEntry(time: now, actor: actor, event: action.rawValue, unit: unit, detail: "by the admin"))
    }

    public func fleet(group: String?) throws(ServerError) -> [FleetRow] {
        try storing { try store.fleet(group: group, now: clock()) }
    }

    /// Every group's name, those without units too.
    public func groups() throws(ServerError) -> [String] {
        try storing { try store.groupNames() }
    }

    /// Keeps a login on the fleet page, or a refused one, in the audit log.
    public func noteLogin(from address: String, accepted: Bool) throws(ServerError) {
        try note(AuditEntry(
            time: clock(), actor: "page from \(address)", event: accepted ? "page login" : "page login refused",
            detail: accepted ? "a session began" : "not the admin token"))
    }

    public func auditLog(limit: Int) throws(ServerError) -> [AuditEntry] {
        try storing { try store.auditLog(limit: limit) }
    }

    // MARK: - Helpers

    private func failed(_ address: String, now: Date) throws(ServerError) {
        _ = failures.allow(address, now: now)
    }

    private func note(_ entry: AuditEntry) throws(ServerError) {
        try storing { try store.audit(entry) }
    }

    /// Runs a store call, turning its errors into answers: a refusal the admin can act on is a 409 with its message;
    /// anything else a 500 whose details stay in the server's log.
    private func storing<T>(_ body: () throws -> T) throws(ServerError) -> T {
        do {
            return try body()
        } catch let error as ServerError {
            throw error
        } catch {
            throw ServerError.fromStore(error)
        }
    }
}

extension ServerError {
    /// A store's error as an answer: what the admin names wrong is 404, a refusal 409, the rest 500.
    static func fromStore(_ error: any Error) -> ServerError {
        guard let error = error as? InventoryError else {
            return ServerError(.internalError, "the store failed: \(error)")
        }
        switch error {
        case .unitNotFound, .groupNotFound, .unknownGroup, .printerNotFound, .modelNotFound:
            return ServerError(.notFound, error.description)
        case .refused, .alreadyExists, .identifierTaken, .addressTaken, .conflict:
            return ServerError(.conflict, error.description)
        case .invalid, .noUsableIdentifiers, .noMatch, .importFailed:
            return ServerError(.unprocessable, error.description)
        case .missingDatabase, .database:
            return ServerError(.internalError, "the inventory failed: \(error.description)")
        }
    }
}

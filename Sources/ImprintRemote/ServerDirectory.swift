import Foundation
import ImprintCore
import ImprintWire

/// The unit directory a server's answer makes: the record the server sent for this unit, and each applied run
/// reported back to it, signed with the unit's token, so it lands in the history the admin sees.
public final class ServerDirectory: UnitDirectory {
    let profile: UnitProfile
    let enrolledInto: String?
    let client: ServerClient
    let clock: () -> Date
    /// Reports that did not reach the server; the run itself stands.
    public private(set) var reportProblems: [String] = []

    /// - Parameters:
    ///   - client: signs as the unit.
    public init(profile: UnitProfile, enrolledInto: String?, client: ServerClient, clock: @escaping () -> Date = Date.init) {
        self.profile = profile
        self.enrolledInto = enrolledInto
        self.client = client
        self.clock = clock
    }

    /// The server's record, whatever the facts: the server matched them (or enrolled the unit) already.
    public func assign(_ facts: HardwareFacts, enrolling group: String?, preview: Bool) throws -> UnitAssignment {
        let known = Set(profile.identifiers)
        return UnitAssignment(
            profile: profile, matched: facts.identifiers().usable.filter { known.contains($0) }, enrolledInto: enrolledInto)
    }

    /// No copy of the inventory here to shrink: the unit holds no one else's record.
    public func shrinksAfterRun() throws -> Bool { false }

    /// Reports the run as `applied` with its identity line. A report that fails is kept in `reportProblems`, not
    /// thrown: the unit has its identity all the same.
    public func recordRun(_ identity: IdentityRecord, source: String) throws {
        send(UnitReport(event: .applied, identity: identity, time: identity.time))
    }

    /// Sends a report, keeping a failure in `reportProblems`.
    func send(_ report: UnitReport) {
        do {
            try client.report(report)
        } catch {
            reportProblems.append("the \(report.event.rawValue) report did not reach the server: \(error)")
        }
    }
}

import Foundation
import ImprintCore

/// What /var/lib/imprint/state.json remembers: the identity the agent gave this root (so it is made once per unit)
/// and the record revision every step was last applied for (so the boot run has nothing to do).
public struct AgentState: Codable, Equatable, Sendable {
    public var unit: String
    /// The revision a run of every step applied; nil while only some steps have run.
    public var revision: Int?
    /// The run that wrote this state; the state counts only once that run's journal is done.
    public var run: String
    public var time: Date
    /// The unit's identifiers when the state was written, to tell a renamed unit from another machine.
    public var identifiers: [String]?
    /// The machine-id the agent gave, to tell whether the unit still has it.
    public var machineID: String?
    /// The fingerprints of the host keys the agent gave; nil in a state written before they were recorded, where
    /// the machine-id speaks for both.
    public var hostKeys: [String]?
    /// The revision whose first-boot hooks all succeeded on this unit; they run again only for a later one.
    public var firstBootHooks: Int?

    /// Whether this state was written for the unit of `profile`: an identifier in common, so a rename still counts
    /// and a copy of this root on another machine does not.
    func isState(of profile: UnitProfile) -> Bool {
        guard let identifiers else { return false }
        return !Set(identifiers).isDisjoint(with: profile.identifiers.map(\.description))
    }

    /// Whether the root still has the machine-id the agent gave this unit.
    func keepsMachineID(of profile: UnitProfile, current: String?) -> Bool {
        guard isState(of: profile), let machineID else { return false }
        return machineID == current
    }

    /// Whether the root still has the host keys the agent gave this unit.
    func keepsHostKeys(of profile: UnitProfile, current: [IdentityRecord.HostKey], currentMachineID: String?) -> Bool {
        guard isState(of: profile), !current.isEmpty else { return false }
        guard let hostKeys else { return keepsMachineID(of: profile, current: currentMachineID) }
        return Set(hostKeys) == Set(current.map(\.fingerprint))
    }

    static let path = "/var/lib/imprint/state.json"

    static func read(_ root: TargetRoot) -> AgentState? {
        guard let data = try? root.readFile(path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(AgentState.self, from: data)
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self) + Data("\n".utf8)
    }
}

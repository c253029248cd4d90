import Foundation
import ImprintCore

/// The identity a run gave a unit: one JSON line in /var/log/imprint/identity.jsonl and the history row.
public struct IdentityRecord: Codable, Equatable, Sendable {
    /// The log in the root that gets one line per run.
    public static let logPath = "/var/log/imprint/identity.jsonl"

    public struct MachineID: Codable, Equatable, Sendable {
        public var old: String?
        public var new: String
    }

    public struct HostKey: Codable, Equatable, Sendable {
        public var type: String
        public var fingerprint: String
    }

    public var unit: String
    public var fqdn: String
    public var revision: Int
    /// The identifiers that matched the unit's record, such as "serial 7XK07QF9".
    public var matched: [String]
    public var steps: [String]
    public var machineID: MachineID?
    public var hostKeys: [HostKey]
    public var addresses: [String]
    public var image: String?
    /// The group an unknown unit joined in this run (it was named by the group's pattern); nil otherwise.
    public var enrolledInto: String?
    /// Set when the run shrank the unit's copy of the inventory to its own record: `"own record only"`.
    public var inventoryCopy: String?
    public var agentVersion: String
    public var run: String
    public var time: Date
    public var result: String

    /// Every field, absent ones as `null`, so a reader of the log or of `--json` finds each documented key.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(unit, forKey: .unit)
        try container.encode(fqdn, forKey: .fqdn)
        try container.encode(revision, forKey: .revision)
        try container.encode(matched, forKey: .matched)
        try container.encode(steps, forKey: .steps)
        try container.encode(machineID, forKey: .machineID)
        try container.encode(hostKeys, forKey: .hostKeys)
        try container.encode(addresses, forKey: .addresses)
        try container.encode(image, forKey: .image)
        try container.encode(enrolledInto, forKey: .enrolledInto)
        try container.encode(inventoryCopy, forKey: .inventoryCopy)
        try container.encode(agentVersion, forKey: .agentVersion)
        try container.encode(run, forKey: .run)
        try container.encode(time, forKey: .time)
        try container.encode(result, forKey: .result)
    }

    /// The record as one line of JSON, keys sorted, dates in ISO 8601.
    public func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

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

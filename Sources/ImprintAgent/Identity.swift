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
    public var agentVersion: String
    public var run: String
    public var time: Date
    public var result: String

    /// The record as one line of JSON, keys sorted, dates in ISO 8601.
    public func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// What /var/lib/imprint/state.json remembers: which record revision this root was last personalized for.
public struct AgentState: Codable, Equatable, Sendable {
    public var unit: String
    public var revision: Int
    public var run: String
    public var time: Date
    /// The unit's identifiers when the state was written, to tell a renamed unit from another machine.
    public var identifiers: [String]?
    /// The machine-id the agent gave, to tell whether the unit still has it.
    public var machineID: String?

    /// Whether this root already holds the identity the agent gave this unit: same unit (an identifier in
    /// common, so a rename still counts) and the machine-id it was given.
    func isIdentity(of profile: UnitProfile, currentMachineID: String?) -> Bool {
        guard let identifiers, let machineID, machineID == currentMachineID else { return false }
        return !Set(identifiers).isDisjoint(with: profile.identifiers.map(\.description))
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

import Foundation

/// The identity a run gave a unit: one JSON line in /var/log/imprint/identity.jsonl and the history row.
public struct IdentityRecord: Codable, Equatable, Sendable {
    /// The log in the root that gets one line per run.
    public static let logPath = "/var/log/imprint/identity.jsonl"

    public struct MachineID: Codable, Equatable, Sendable {
        public var old: String?
        public var new: String

        public init(old: String?, new: String) {
            self.old = old
            self.new = new
        }
    }

    public struct HostKey: Codable, Equatable, Sendable {
        public var type: String
        public var fingerprint: String

        public init(type: String, fingerprint: String) {
            self.type = type
            self.fingerprint = fingerprint
        }
    }

    public var unit: String
    public var fqdn: String
    /// The unit's group (its room) in the inventory it was personalized from; nil for a unit in no group, and in
    /// lines written before the field existed. A deployment server reads it on a disk to ask before erasing another
    /// group's unit.
    public var group: String?
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
    /// The hooks the run ran, with their status and output; nil when it ran none (and in lines written before).
    public var hooks: [HookResult]?

    public init(
        unit: String, fqdn: String, group: String? = nil, revision: Int, matched: [String], steps: [String], machineID: MachineID?,
        hostKeys: [HostKey], addresses: [String], image: String?, enrolledInto: String?, inventoryCopy: String?,
        agentVersion: String, run: String, time: Date, result: String
    ) {
        self.unit = unit
        self.fqdn = fqdn
        self.group = group
        self.revision = revision
        self.matched = matched
        self.steps = steps
        self.machineID = machineID
        self.hostKeys = hostKeys
        self.addresses = addresses
        self.image = image
        self.enrolledInto = enrolledInto
        self.inventoryCopy = inventoryCopy
        self.agentVersion = agentVersion
        self.run = run
        self.time = time
        self.result = result
    }

    /// Every field, absent ones as `null`, so a reader of the log or of `--json` finds each documented key.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(unit, forKey: .unit)
        try container.encode(fqdn, forKey: .fqdn)
        try container.encode(group, forKey: .group)
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
        try container.encode(hooks, forKey: .hooks)
    }

    /// The record of one line of the log; nil when the line is not one.
    public init?(line: some StringProtocol) {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let record = try? decoder.decode(IdentityRecord.self, from: Data(line.utf8)) else { return nil }
        self = record
    }

    /// The last record of a log's text; nil when its last line is not one.
    public static func last(ofLog text: String) -> IdentityRecord? {
        text.split(separator: "\n").last { !$0.allSatisfy(\.isWhitespace) }.flatMap { IdentityRecord(line: $0) }
    }

    /// The record as one line of JSON, keys sorted, dates in ISO 8601.
    public func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

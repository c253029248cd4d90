import Foundation
import ImprintCore

/// The record of one run under /var/lib/imprint/runs/RUN in the root: what each touched file was before, so a run
/// can be rolled back, and whether the run finished, so an interrupted one is undone by the next.
public struct Journal: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable {
        /// Backups are taken and changes are being made; found at start-up, it means the run was killed.
        case applying
        case done
        case rolledBack = "rolled-back"
    }

    /// What one file was before the run.
    public struct Entry: Codable, Equatable, Sendable {
        public var path: String
        /// The file's backup inside the run folder, when it existed as a file.
        public var backup: String?
        public var metadata: FileMetadata?
        /// The link's target, when it was a link.
        public var link: String?
    }

    public var run: String
    public var unit: String
    public var started: Date
    public var state: State
    public var entries: [Entry]
    /// The hooks the run ran, with their status and output (nil when it ran none).
    public var hooks: [HookResult]?

    static let runsFolder = "/var/lib/imprint/runs"

    static func folder(_ run: String) -> String { "\(runsFolder)/\(run)" }
    static func file(_ run: String) -> String { "\(folder(run))/journal.json" }

    static func read(_ run: String, root: TargetRoot) throws -> Journal? {
        guard let data = try root.readFile(file(run)) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(Journal.self, from: data)
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    func save(_ root: TargetRoot) throws {
        try root.write(Self.file(run), try encoded(), metadata: FileMetadata(mode: 0o600))
    }

    static func reserve(_ run: String) -> String { "\(folder(run))/reserve" }

    /// The runs recorded in the root, oldest first (run names sort by time).
    static func runs(_ root: TargetRoot) throws(CoreError) -> [String] {
        try root.listFolder(runsFolder)
    }
}

import Foundation
import ImprintCore
import ImprintWire

/// The reports a unit made while its server could not hear them (the agent runs at boot before the network), kept in
/// its root in the order they were made until the server takes them.
public enum ReportQueue {
    /// One JSON report a file, mode 0600, named so that names sort in the order the reports were made.
    public static let folder = "/var/lib/imprint/reports"
    /// Reports the server refused as malformed: moved aside, so they do not hold up the ones after them.
    public static let refusedFolder = folder + "/refused"

    /// Keeps `report` as the newest of the queue.
    public static func enqueue(_ report: UnitReport, in root: TargetRoot) throws {
        let queued = try pending(in: root)
        let sequence = (queued.last.flatMap { Int($0.prefix(10)) } ?? 0) + 1
        let name = String(format: "%010d", sequence) + ".json"
        try root.write(folder + "/" + name, try JSONEncoder.server.encode(report), metadata: FileMetadata(mode: 0o600))
    }

    /// The queued reports' file names, oldest first.
    public static func pending(in root: TargetRoot) throws -> [String] {
        guard root.exists(folder) else { return [] }
        return try root.listFolder(folder).filter { $0.hasSuffix(".json") && $0.count == 15 }.sorted()
    }

    /// What a flush did.
    public struct Flush: Sendable {
        /// The reports the server took, oldest first (their file names).
        public var sent: [String] = []
        /// The reports still queued.
        public var left: [String] = []
        /// Reports the server refused as malformed, moved to `refusedFolder`, with the server's message.
        public var refused: [String: String] = [:]
        /// Why the flush stopped before the end of the queue (the server unreachable, the token refused).
        public var stopped: RemoteError?
    }

    /// Sends the queued reports in order, each removed once the server took it. Stops at the first that cannot be
    /// delivered now (the server unreachable, or the unit's token refused: the rest wait for later); one the server
    /// refuses as malformed is moved aside.
    public static func flush(in root: TargetRoot, client: ServerClient) throws -> Flush {
        var flush = Flush()
        let queued = try pending(in: root)
        for (index, name) in queued.enumerated() {
            let path = folder + "/" + name
            guard let data = try root.readFile(path) else { continue }
            let report: UnitReport
            do {
                report = try JSONDecoder.server.decode(UnitReport.self, from: data)
            } catch {
                try moveAside(name, in: root)
                flush.refused[name] = "not a report: \(error.localizedDescription)"
                continue
            }
            do {
                try client.report(report)
            } catch {
                if case .refused(_, let status, let message) = error, ![401, 403, 429].contains(status), (400..<500).contains(status) {
                    try moveAside(name, in: root)
                    flush.refused[name] = message
                    continue
                }
                flush.stopped = error
                flush.left = Array(queued[index...])
                return flush
            }
            try root.remove(path)
            flush.sent.append(name)
        }
        return flush
    }

    private static func moveAside(_ name: String, in root: TargetRoot) throws {
        let path = folder + "/" + name
        guard let data = try root.readFile(path) else { return }
        try root.write(refusedFolder + "/" + name, data, metadata: FileMetadata(mode: 0o600))
        try root.remove(path)
    }
}

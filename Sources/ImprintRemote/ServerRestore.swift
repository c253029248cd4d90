import Foundation
import ImprintAgent
import ImprintCore
import ImprintImage
import ImprintWire

/// What `restore --server` asks of the library.
public struct ServerRestoreRequest {
    /// This unit's facts, as `run` and `identify` read them.
    public var facts: HardwareFacts
    /// Where the image goes (a folder, or a whole disk laid anew), and the root to personalize.
    public var destination: any RestoreDestination
    /// Restore an image whose models do not name this unit's.
    public var force: Bool
    public var threads: Int
    /// The passphrase of an encrypted image, asked for only when the image is encrypted.
    public var passphrase: (() throws -> String)?
    /// The certificate authority (PEM) the client trusted the server by, kept in the root for the unit's reports.
    public var authority: Data?
    /// The agent's settings for the personalization; a restore sets their image id.
    public var settings: RunSettings
    public var clock: () -> Date

    public init(
        facts: HardwareFacts, destination: any RestoreDestination, force: Bool = false,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount, passphrase: (() throws -> String)? = nil,
        authority: Data? = nil, settings: RunSettings, clock: @escaping () -> Date = Date.init
    ) {
        self.facts = facts
        self.destination = destination
        self.force = force
        self.threads = threads
        self.passphrase = passphrase
        self.authority = authority
        self.settings = settings
        self.clock = clock
    }
}

/// What the server had the unit do, and how it went.
public struct ServerDeployment {
    public enum Work {
        /// The image was restored (every block and file checked), then personalized.
        case restored(ImageReference, ReadResult)
        /// The target root was personalized as it is.
        case personalized
    }

    public var work: Work
    public var personalization: Personalization
    /// Reports that did not reach the server (the work itself is done).
    public var reportProblems: [String]
}

/// `imprint restore --server`: asks the deployment server what this unit should do and does it.
public enum ServerRestore {
    /// The longest a restore goes without a progress report, however slow its link: well under the silence after
    /// which the server counts a unit as stopped (`DeployedUnit.staleAfter`) and arms it anew.
    public static let heartbeat: TimeInterval = 5 * 60

    /// Whether a restore at `percent` at `now` sends a progress report, the last one having been `last`: at every
    /// tenth, and after `heartbeat` without one.
    static func reportsProgress(_ percent: Int, at now: Date, after last: (percent: Int, at: Date)) -> Bool {
        percent >= last.percent + 10 || now.timeIntervalSince(last.at) >= heartbeat
    }

    /// Identifies the unit to the server and follows its answer: restores the image it names into the request's
    /// destination (streamed, resumed across broken connections, checked as from a pipe), keeps the server's address
    /// and the unit's token in the root (`ServerLink`), personalizes it through `Agent.personalize` with the
    /// server's record, finishes the destination (a disk's ESP), and reports `restoring` with its percent, then
    /// `applied` (or `unchanged`) with the identity line, or `failed` with the message.
    /// - Parameters:
    ///   - warn: a warning for the technician (restoring an image of another model under `force`).
    ///   - progress: the image bytes read so far and the image's size.
    ///   - waiting: called once when another run holds the root's lock.
    /// - Throws: `RemoteError.nothingToDo` and `.needsConfirmation` with the server's reason, before anything is
    ///   written; what the destination, the restore or the agent throws, after reporting `failed`.
    /// - Important: erases and writes the destination.
    public static func run(
        _ request: ServerRestoreRequest, client: ServerClient, warn: (String) -> Void = { _ in },
        progress: ((_ read: UInt64, _ total: UInt64) -> Void)? = nil, waiting: () -> Void = {}
    ) throws -> ServerDeployment {
        let destination = request.destination
        let root = destination.root
        // A root that holds this server's credential signs with it: a unit asking again in the window that armed it.
        var asking = client
        if let kept = try? ServerLink.credential(in: root), (try? ServerLink.server(in: root)) == client.server {
            asking = client.signing(as: kept)
        }
        let answer = try asking.identify(IdentifyRequest(
            facts: request.facts, diskGroup: destination.identityGroup, diskHoldsData: !destination.present.isEmpty))
        let (unit, profile) = try ServerRecord.record(in: answer, from: client.server)
        let credential: UnitCredential
        if let token = answer.token {
            credential = UnitCredential(unit: unit, token: token)
        } else if let kept = asking.credential, kept.unit.lowercased() == unit.lowercased() {
            credential = kept
        } else {
            throw RemoteError.unexpectedAnswer(url: client.server + ServerAPI.identifyPath, reason: "the server armed unit \(unit) without a token")
        }
        let unitClient = client.signing(as: credential)
        let directory = ServerDirectory(profile: profile, enrolledInto: answer.enrolledInto, client: unitClient, clock: request.clock)
        // A progress report is tried once: the restore does not wait on a server that is slow to answer.
        let progressReports = ServerDirectory(
            profile: profile, enrolledInto: nil, client: unitClient.retrying(RetryPolicy(attempts: 1)), clock: request.clock)

        do {
            var work = ServerDeployment.Work.personalized
            var settings = request.settings
            switch answer.action {
            case .restore:
                guard let image = answer.image else {
                    throw RemoteError.unexpectedAnswer(url: client.server + ServerAPI.identifyPath, reason: "a restore answer without an image")
                }
                try destination.confirmErasing()
                progressReports.send(UnitReport(event: .restoring, percent: 0, time: request.clock()))
                var reported = (percent: 0, at: request.clock())
                let read = try ImageStream.reading(image: image.id, etag: image.etag, from: unitClient) { input in
                    try Restore.run(
                        input, into: destination, model: request.facts.model, force: request.force, threads: request.threads,
                        passphrase: request.passphrase, warn: warn, progress: { read in
                            progress?(read, image.bytes)
                            let percent = Int(min(99, read * 100 / max(1, image.bytes)))
                            // Every tenth, and at least every few minutes on a slow link: the server re-arms a unit
                            // silent for DeployedUnit.staleAfter.
                            let now = request.clock()
                            if ServerRestore.reportsProgress(percent, at: now, after: reported) {
                                reported = (percent, now)
                                progressReports.send(UnitReport(event: .restoring, percent: percent, time: now))
                            }
                        })
                }
                work = .restored(image, read)
                settings.imageID = image.id
            default:
                guard destination.personalizesInPlace else { throw RemoteError.personalizeOnly(unit: unit) }
            }
            try ServerLink.write(server: client.server, authority: request.authority, credential: credential, into: root)
            let done = try Agent.personalize(request.facts, settings: settings, directory: directory, root: root, waiting: waiting)
            try destination.finish()
            if done.outcome.result == .nothingToDo {
                directory.send(UnitReport(event: .unchanged, identity: done.outcome.identity, time: request.clock()))
            }
            return ServerDeployment(work: work, personalization: done, reportProblems: directory.reportProblems)
        } catch {
            let message = String(describing: error)
            directory.send(UnitReport(event: .failed, message: String(message.prefix(2000)), time: request.clock()))
            throw error
        }
    }
}

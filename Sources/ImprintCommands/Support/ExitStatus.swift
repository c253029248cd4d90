import ArgumentParser
import Foundation
import ImprintAgent
import ImprintCore
import ImprintDisk
import ImprintImage
import ImprintInventory
import ImprintRemote

/// The exit codes of every Imprint command, documented in `--help` and README.
public enum ExitStatus: Int32, CaseIterable, Sendable {
    case success = 0
    /// An operation failed: the database, a file or the system said no. A run that failed was rolled back.
    case failure = 1
    /// With `imprint run --detailed-exitcodes`: changes were applied (0 then means there was nothing to do).
    case changesApplied = 2
    /// `preflight`: at least one unit would not get what its record says (or the group has no unit to check).
    case preflightFailed = 3
    /// No unit in the inventory matches the facts.
    case notFound = 10
    /// The facts match more than one unit.
    case conflict = 11
    /// The facts hold only placeholders, so no unit can be matched.
    case noIdentifiers = 12
    /// An image is damaged (a block, a file's checksum, a truncation) or holds an entry that would leave the target.
    case imageDamaged = 20
    /// The image is for another hardware model than this unit (restore without --force).
    case wrongModel = 21
    /// The restore target is not empty (restore without --force), or holds a restore that was interrupted (restore
    /// without --force, run, install: restore it again with --force).
    case targetNotEmpty = 22
    /// `restore --server`: the deployment server gave this unit nothing to do (no window, not allowed now).
    case serverSaidNothing = 30
    /// `restore --server`: the server wants the admin to approve this unit first (its disk holds data).
    case needsConfirmation = 31
    /// A command line the parser refused (ArgumentParser's own code).
    case usage = 64
    /// A value or file that Imprint refused: a bad hostname, MAC or CSV row, a malformed facts file.
    case invalidInput = 65
    /// The inventory (or another input) does not exist.
    case missingInput = 66
    /// The deployment server cannot be reached (or keeps failing), or libcurl cannot be loaded to reach it.
    case serverUnavailable = 69
    /// Another run holds the root's lock, or a disk to capture has file systems mounted writable.
    case busy = 75
    /// The deployment server refused the credentials: the admin token, or the unit's token.
    case notPermitted = 77

    /// The status's name in JSON (`--json` failures): `not-found`, `invalid-input`, ...
    public var code: String {
        switch self {
        case .success: return "success"
        case .failure: return "failure"
        case .changesApplied: return "changes-applied"
        case .preflightFailed: return "preflight-failed"
        case .notFound: return "not-found"
        case .conflict: return "conflict"
        case .noIdentifiers: return "no-identifiers"
        case .imageDamaged: return "image-damaged"
        case .wrongModel: return "wrong-model"
        case .targetNotEmpty: return "target-not-empty"
        case .serverSaidNothing: return "server-said-nothing"
        case .needsConfirmation: return "needs-confirmation"
        case .usage: return "usage"
        case .invalidInput: return "invalid-input"
        case .missingInput: return "missing-input"
        case .serverUnavailable: return "server-unavailable"
        case .busy: return "busy"
        case .notPermitted: return "not-permitted"
        }
    }

    /// The table for `--help` texts.
    static let helpTable = """
        Exit status:
          0   success (for run: applied, or nothing to do)
          1   failed (database, file or system error; a failed run is rolled back)
          2   run --detailed-exitcodes: changes were applied
          3   preflight: a unit fails a check (or the group has no unit; with --boot, the boot
              failed or could not be made)
          10  no unit matches the facts
          11  the facts match more than one unit (conflict)
          12  the facts hold only placeholder identifiers
          20  the image is damaged or holds an entry that would leave the target
          21  the image is for another hardware model (restore: --force overrides)
          22  the restore target is not empty (restore: --force erases it), or a restore into
              the root was interrupted (run, install refuse it; restore --force again)
          30  restore --server: the server gave this unit nothing to do (nothing was written)
          31  restore --server: the server asks the admin to approve this unit first (nothing was written)
          64  bad command line
          65  invalid input (a value, CSV row, facts file or disk layout was refused, or preflight --boot
              was given a whole-disk image; nothing was written)
          66  the inventory or an input file does not exist
          69  the deployment server cannot be reached, or libcurl is missing
          75  another run holds the root's lock, or a disk to capture is mounted writable
          77  the deployment server refused the admin token or the unit's token
        """
}

/// An error as the command line reports it: the exit status, one message, and the cause for `--verbose`.
public struct CommandFailure: Error, CustomStringConvertible {
    public var status: ExitStatus
    public var message: String
    public var cause: (any Error)?

    public init(status: ExitStatus, message: String, cause: (any Error)? = nil) {
        self.status = status
        self.message = message
        self.cause = cause
    }

    /// Maps any error from the libraries to its exit status and message.
    public init(_ error: any Error) {
        switch error {
        case let failure as CommandFailure:
            self = failure
        case let error as InventoryError:
            self.init(status: Self.status(of: error), message: error.description, cause: error)
        case let error as CoreError:
            switch error {
            case .invalidValue, .factsFile: self.init(status: .invalidInput, message: error.description, cause: error)
            case .factsFileMissing: self.init(status: .missingInput, message: error.description, cause: error)
            case .interruptedRestore: self.init(status: .targetNotEmpty, message: error.description, cause: error)
            case .pathNotConfined, .io, .factsProbe, .timedOut: self.init(status: .failure, message: error.description, cause: error)
            }
        case let error as AgentError:
            switch error {
            case .busy: self.init(status: .busy, message: error.description, cause: error)
            case .noRun: self.init(status: .notFound, message: error.description, cause: error)
            case .installRefused: self.init(status: .invalidInput, message: error.description, cause: error)
            case .printers: self.init(status: .invalidInput, message: error.description, cause: error)
            case .commandFailed, .hookFailed: self.init(status: .failure, message: error.description, cause: error)
            }
        case let error as ImageError:
            self.init(status: Self.status(of: error), message: error.description, cause: error)
        case let error as DiskError:
            switch error {
            case .unsupportedTable, .unsupportedImage, .tooSmall, .invalidLayout: self.init(status: .invalidInput, message: error.description, cause: error)
            case .inUse: self.init(status: .busy, message: error.description, cause: error)
            case .toolFailed: self.init(status: .failure, message: error.description, cause: error)
            }
        case let error as RemoteError:
            self.init(status: Self.status(of: error), message: error.description, cause: error)
        case let error as SSHHostKeyError:
            self.init(status: .failure, message: error.description, cause: error)
        default:
            self.init(status: .failure, message: "\(error)", cause: error)
        }
    }

    static func status(of error: InventoryError) -> ExitStatus {
        switch error {
        case .missingDatabase: return .missingInput
        case .database: return .failure
        case .unitNotFound, .groupNotFound, .printerNotFound, .modelNotFound: return .notFound
        case .noMatch: return .notFound
        case .conflict: return .conflict
        case .noUsableIdentifiers: return .noIdentifiers
        case .alreadyExists, .identifierTaken, .addressTaken, .unknownGroup, .refused, .invalid, .importFailed:
            return .invalidInput
        }
    }

    static func status(of error: RemoteError) -> ExitStatus {
        switch error {
        case .libraryMissing, .unreachable, .untrusted, .downloadFailed: return .serverUnavailable
        case .refused(_, let status, _):
            switch status {
            case 401, 403: return .notPermitted
            case 404: return .notFound
            case 500...: return .serverUnavailable
            default: return .invalidInput
            }
        case .invalidURL, .credential: return .invalidInput
        case .unexpectedAnswer, .imageChanged: return .failure
        case .nothingToDo, .personalizeOnly: return .serverSaidNothing
        case .needsConfirmation: return .needsConfirmation
        }
    }

    static func status(of error: ImageError) -> ExitStatus {
        switch error {
        case .corrupt, .corruptBlock, .unsafePath: return .imageDamaged
        case .wrongModel: return .wrongModel
        case .targetNotEmpty: return .targetNotEmpty
        case .notAnImage, .invalid, .wrongPassphrase, .passphraseNeeded: return .invalidInput
        case .noImageForModel: return .notFound
        case .io(_, _, let code) where code == ENOENT: return .missingInput
        case .io, .codec: return .failure
        }
    }

    public var description: String { message }

    /// What `--verbose` prints under the message: the cause, and the lower-level error it keeps, each only when it
    /// says something the message does not already say.
    public var causeLines: [String] {
        guard let cause else { return [] }
        var lines: [String] = []
        for text in [String(reflecting: cause), (cause as? any ChainedError)?.underlyingDescription].compactMap({ $0 })
        where !text.isEmpty && !message.contains(text) && !lines.contains(text) {
            lines.append(text)
        }
        return lines
    }

    /// Writes the message to standard error, and with `verbose` the cause lines under it.
    public func report(verbose: Bool, to context: CommandContext) {
        context.errorOutput("imprint: \(message)\n")
        if verbose {
            for line in causeLines { context.errorOutput("  cause: \(line)\n") }
        }
    }
}

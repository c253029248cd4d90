import Foundation
import ImprintCore

/// Errors from the agent: a busy root, a run that cannot be undone, a refused install, a failed program.
public enum AgentError: Error, Sendable {
    /// Another run holds the root's lock.
    case busy(lock: String, waited: Double)
    /// There is no run of that name to roll back, or it cannot be rolled back.
    case noRun(String)
    /// `imprint install` found that the agent could not start in the root.
    case installRefused([String])
    /// The unit's printers cannot be set up: a PPD missing from the root, an unreadable printers.conf.
    case printers(String)
    /// A program a step ran (such as `lpadmin`) failed.
    case commandFailed(command: String, status: Int32, output: String)
    /// An offline hook failed or ran past its timeout; the run's files were rolled back.
    case hookFailed(HookResult, timeout: Int)
}

extension AgentError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .busy(lock, waited):
            return "another imprint run holds \(quoted(lock)) (waited \(Int(waited)) s); let it finish, or raise --wait"
        case .noRun(let reason):
            return reason
        case .installRefused(let problems):
            return "not installed, the agent could not start in this root (--force installs anyway):\n"
                + problems.map { "  - \($0)" }.joined(separator: "\n")
        case .printers(let reason):
            return reason
        case let .commandFailed(command, status, output):
            let said = output.trimmingCharacters(in: .whitespacesAndNewlines)
            return "\(command) failed with exit status \(status)\(said.isEmpty ? "" : ": \(said)"); "
                + "fix the cause and run the step again (files were not changed)"
        case let .hookFailed(result, timeout):
            let how = result.status.map { "failed with exit status \($0)" } ?? "ran past its \(timeout) s timeout and was killed"
            let said = result.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").suffix(5).joined(separator: "\n  ")
            return "hook \(quoted(result.name)) \(how)\(said.isEmpty ? "" : ":\n  \(said)\n"); the run's files were rolled back "
                + "(what the hook itself changed was not); fix the hook with 'imprint inventory hook add' and run again"
        }
    }
}

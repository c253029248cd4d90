import ImprintCore

/// Errors from the agent: facts that cannot be read, a busy root, a run that cannot be undone, a refused install.
public enum AgentError: Error, Sendable {
    /// The facts file could not be read or parsed.
    case factsFile(path: String, reason: String)
    /// sysfs under the root could not be read.
    case probe(CoreError)
    /// Another run holds the root's lock.
    case busy(lock: String, waited: Double)
    /// There is no run of that name to roll back, or it cannot be rolled back.
    case noRun(String)
    /// `imprint install` found that the agent could not start in the root.
    case installRefused([String])
}

extension AgentError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .factsFile(path, reason):
            return "facts file \(quoted(path)): \(reason); 'imprint facts --json' prints one to start from"
        case .probe(let error):
            return "cannot read the hardware facts: \(error)"
        case let .busy(lock, waited):
            return "another imprint run holds \(quoted(lock)) (waited \(Int(waited)) s); let it finish, or raise --wait"
        case .noRun(let reason):
            return reason
        case .installRefused(let problems):
            return "not installed, the agent could not start in this root (--force installs anyway):\n"
                + problems.map { "  - \($0)" }.joined(separator: "\n")
        }
    }
}

import ImprintCore

/// Errors from the agent: facts that cannot be read.
public enum AgentError: Error, Sendable {
    /// The facts file could not be read or parsed.
    case factsFile(path: String, reason: String)
    /// sysfs under the root could not be read.
    case probe(CoreError)
}

extension AgentError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .factsFile(path, reason):
            return "facts file \(quoted(path)): \(reason); 'imprint facts --json' prints one to start from"
        case .probe(let error):
            return "cannot read the hardware facts: \(error)"
        }
    }
}

import Glibc

/// Errors raised by Imprint's core: a value that failed validation, or a path that could not be used inside a root.
public enum CoreError: Error, Equatable, Sendable {
    /// A value entered by a user, a file or a machine is not acceptable for `field`.
    case invalidValue(field: String, value: String, reason: String)
    /// A path would leave its root, or resolving it took too many symbolic links.
    case pathNotConfined(path: String, reason: String)
    /// A system call on a path inside a root failed.
    case io(path: String, operation: String, errno: Int32)
    /// The root holds the marker of a restore that did not finish (`TargetRoot.restoreMarker`).
    case interruptedRestore(root: String)
    /// The facts file does not exist.
    case factsFileMissing(path: String)
    /// The facts file could not be read or parsed.
    case factsFile(path: String, reason: String)
    /// The facts under a root's `/sys` could not be read.
    indirect case factsProbe(CoreError)
    /// A program (`ChildProcess`) ran past its time limit and was killed.
    case timedOut(command: String, after: Duration)
}

extension CoreError {
    /// Whether the file system had no room left (ENOSPC, or the user's quota: EDQUOT).
    public var isDiskFull: Bool {
        if case .io(_, _, let code) = self { return code == ENOSPC || code == EDQUOT }
        return false
    }
}

extension CoreError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .invalidValue(field, value, reason):
            return "invalid \(field) \(quoted(value)): \(reason)"
        case let .pathNotConfined(path, reason):
            return "path \(quoted(path)) cannot be used: \(reason)"
        case let .io(path, operation, code):
            let advice = isDiskFull ? "; that file system is full: free room on it or use a larger disk, then try again" : ""
            return "cannot \(operation) \(quoted(path)): \(String(cString: strerror(code)))\(advice)"
        case .interruptedRestore(let root):
            let marker = (root == "/" ? "" : root) + "/" + TargetRoot.restoreMarker
            return "a restore into \(quoted(root)) was interrupted (\(quoted(marker)) is there), so its files are incomplete; "
                + "restore the image again with 'imprint restore IMAGE --root \(root) --force'"
        case .factsFileMissing(let path):
            return "facts file \(quoted(path)) does not exist; check the path, or write one with 'imprint facts --json > FILE'"
        case let .factsFile(path, reason):
            return "facts file \(quoted(path)): \(reason); 'imprint facts --json' prints one to start from"
        case .factsProbe(let error):
            return "cannot read the hardware facts: \(error)"
        case let .timedOut(command, limit):
            return "\(command) did not finish within \(limit) and was killed"
        }
    }
}

/// Quotes a value for an error message so that spaces, empty strings and control characters stay visible.
public func quoted(_ value: String) -> String {
    var result = "'"
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        case "'": result += "\\'"
        default:
            if scalar.properties.generalCategory == .control {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result + "'"
}

/// An error made from a lower-level one whose words it keeps (SQLite's "unable to open database file"), so that
/// `imprint --verbose` can print them as the cause under the message that says what to do.
public protocol ChainedError: Error {
    /// What the lower-level error said; nil when there was none.
    var underlyingDescription: String? { get }
}

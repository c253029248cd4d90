import Foundation

/// The agent's steps, each selectable with `--only` and `--skip`.
public enum AgentStep: String, CaseIterable, Codable, Sendable, Comparable {
    case hostname
    case machineID = "machine-id"
    case hostKeys = "host-keys"
    case network
    case printers
    case accounts
    case files
    case hooks
    case identity

    public init(_ text: String) throws(CoreError) {
        guard let step = AgentStep(rawValue: text.trimmingSpaces().lowercased()) else {
            throw .invalidValue(
                field: "step", value: text, reason: "use one of \(AgentStep.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = step
    }

    public static func < (lhs: AgentStep, rhs: AgentStep) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One change to one file under the root, with the step that wants it and why.
public struct FileChange: Codable, Equatable, Sendable {
    public enum Action: Codable, Equatable, Sendable {
        /// Write these contents; `metadata` nil keeps the replaced file's (or 0644 root:root for a new one).
        case write(contents: Data, metadata: FileMetadata?)
        /// Make a symbolic link.
        case symlink(target: String)
        /// Remove the file or link.
        case remove
        /// Make a folder that does not exist yet (a new account's home), with this mode and owner.
        case folder(metadata: FileMetadata)
    }

    public var step: AgentStep
    /// The path as the unit sees it, such as `/etc/hostname`.
    public var path: String
    public var reason: String
    public var action: Action
    /// The current contents, for the diff; nil when there is no file.
    public var before: Data?
    /// Contents that must not be printed (private keys, random seeds): diffs show only their size.
    public var secret: Bool
    /// The mode and owner the file has when they differ from the ones this change sets: a change of the same
    /// contents is then still a change (an attached file's mode changed in the record).
    public var metadataBefore: FileMetadata?

    public init(step: AgentStep, path: String, reason: String, action: Action, before: Data?, secret: Bool = false) {
        self.step = step
        self.path = path
        self.reason = reason
        self.action = action
        self.before = before
        self.secret = secret
    }

    /// The contents after the change, nil for a removal or a link.
    public var after: Data? {
        if case .write(let contents, _) = action { return contents }
        return nil
    }

    /// The change as a unified diff, secrets summarised.
    public var diff: String {
        switch action {
        case .symlink(let target):
            return "--- a\(path)\n+++ b\(path)\n@@ link -> \(target) @@\n"
        case .folder(let metadata):
            return "--- /dev/null\n+++ b\(path)/\n@@ new folder, mode \(metadata.modeText), owner \(metadata.owner):\(metadata.group) @@\n"
        case .remove:
            return secret || before.map({ $0.contains(0) }) == true
                ? "--- a\(path)\n+++ /dev/null\n@@ removed (\(before?.count ?? 0) bytes) @@\n"
                : UnifiedDiff.render(path: path, old: before, new: nil)
        case .write(let contents, let metadata):
            if let old = metadataBefore, let new = metadata, contents == before {
                return "--- a\(path)\n+++ b\(path)\n@@ mode \(old.modeText) -> \(new.modeText), owner \(old.owner):\(old.group) -> \(new.owner):\(new.group) @@\n"
            }
            if secret {
                return "--- \(before == nil ? "/dev/null" : "a\(path)")\n+++ b\(path)\n@@ secret: \(contents.count) new bytes, not shown @@\n"
            }
            return UnifiedDiff.render(path: path, old: before, new: contents)
        }
    }
}

/// A program a step runs on a live system (such as `lpadmin` talking to a running cupsd), as a value: the plan
/// prints it in a dry run and tests check its argument vector without running it.
public struct ExternalCommand: Codable, Equatable, Sendable, CustomStringConvertible {
    public var step: AgentStep
    /// The program's name, found on PATH (and in /usr/sbin, /sbin) when it runs, such as `lpadmin`.
    public var executable: String
    public var arguments: [String]
    public var reason: String

    public init(step: AgentStep, executable: String, arguments: [String], reason: String) {
        self.step = step
        self.executable = executable
        self.arguments = arguments
        self.reason = reason
    }

    /// The command line as a shell would take it, each word quoted where it needs to be.
    public var description: String {
        ([executable] + arguments).map(Self.shellQuoted).joined(separator: " ")
    }

    static func shellQuoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".", "/", ":", "=", "@", "%", "+", ",": return true
            default: return false
            }
        }
        return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// Everything a run would change, in order, and what the technician should know.
public struct Plan: Equatable, Sendable {
    public var changes: [FileChange]
    /// Programs to run on a live system before the file changes are applied (the printers step's `lpadmin`).
    public var commands: [ExternalCommand]
    /// Notes such as "a reboot is due" or "the image had no ECDSA key".
    public var notes: [String]
    /// Hooks to run after the file changes, before the run's own records: they cannot be rolled back.
    public var hooks: [Hook]

    public init(changes: [FileChange] = [], commands: [ExternalCommand] = [], notes: [String] = [], hooks: [Hook] = []) {
        self.changes = changes
        self.commands = commands
        self.notes = notes
        self.hooks = hooks
    }

    /// The changes that really change something (a write of the same contents is dropped).
    public var effective: [FileChange] {
        changes.filter { change in
            if case .write(let contents, _) = change.action { return contents != change.before || change.metadataBefore != nil }
            return true
        }
    }
}

/// Where randomness comes from: the system's in a real run, a fixed sequence in tests.
public struct RandomSource: Sendable {
    public var bytes: @Sendable (Int) -> [UInt8]

    public init(bytes: @escaping @Sendable (Int) -> [UInt8]) {
        self.bytes = bytes
    }

    /// The system's cryptographic generator.
    public static let system = RandomSource { count in
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// Lowercase hex of `count` random bytes.
    public func hex(_ count: Int) -> String {
        bytes(count).map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}

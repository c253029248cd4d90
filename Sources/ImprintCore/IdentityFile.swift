/// One entry of the table of files a clone must not inherit from its master: what it is, how the agent renews it
/// on each unit and how generalization clears it from an image. The agent's steps take their paths from here and
/// `GeneralizeOperation` groups the entries into the operations `capture --generalize` runs, so the two read one
/// list (DESIGN.md: "the same list read the other way").
public struct IdentityFile: Sendable {
    /// A short name for messages and tests ("machine-id", "ssh-host-keys").
    public let name: String
    /// The paths, as the unit sees them ("/etc/ssh/ssh_host_*"; see `PathPattern` for the forms).
    public let patterns: [PathPattern]
    /// What it is, in one line.
    public let about: String
    public let renewal: Renewal
    public let clearing: Clearing

    /// How the agent gives a unit its own.
    public enum Renewal: Sendable {
        /// The step writes it anew (or rewrites the lines that name the master).
        case rewritten(by: AgentStep)
        /// The step removes the master's; the program that owns it makes its own.
        case removed(by: AgentStep)
        /// The agent leaves it alone: it is history or cache, not identity.
        case notRenewed

        /// The agent's step, nil when the agent does not renew it.
        public var step: AgentStep? {
            switch self {
            case .rewritten(let step), .removed(let step): return step
            case .notRenewed: return nil
            }
        }
    }

    /// How generalization clears it from an image (the master itself is never changed).
    public enum Clearing: Sendable {
        /// Left out; a pattern ending in `/*` leaves out the files below it and keeps the folders.
        case leftOut
        /// Left out, a folder with everything below it.
        case leftOutWhole
        /// Kept in the image with this content instead (a regular file; anything else is left out).
        case replaced(with: String)
        /// Left out when its text says so (read at capture; a file that cannot be read stays).
        case leftOutWhen(_ test: @Sendable (String) -> Bool)
        /// Kept in the image: the agent rewrites it, and a clone restored without the agent still needs it.
        case kept
    }

    public init(_ name: String, _ patterns: [String], about: String, renewal: Renewal, clearing: Clearing) {
        self.name = name
        self.patterns = patterns.map(PathPattern.init)
        self.about = about
        self.renewal = renewal
        self.clearing = clearing
    }

    /// The first path as written: the file itself for a one-file entry ("/etc/machine-id").
    public var path: String { patterns[0].description }

    /// The folder of the first pattern ("/etc/ssh" of "/etc/ssh/ssh_host_*").
    public var folder: String { patterns[0].folder }

    /// The folders of the patterns, each once, in order ("/var/lib/dhcp", "/var/lib/dhclient", ...).
    public var folders: [String] {
        patterns.map(\.folder).reduce(into: []) { folders, folder in if !folders.contains(folder) { folders.append(folder) } }
    }

    /// Whether a path as the unit sees it ("/etc/ssh/ssh_host_rsa_key") is one of this entry's.
    public func names(_ path: String) -> Bool { patterns.contains { $0.matches(path: path) } }
}

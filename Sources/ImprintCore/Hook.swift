/// A command the admin gives a group's units or one unit (`inventory hook add`): offline, run by the agent's `hooks`
/// step after the files are in place, in a chroot of the unit's root with no network (`locale-gen`,
/// `update-initramfs`, `systemctl enable ...`); or at first boot, on the unit once its network is up (`realm join`,
/// `salt-call`). What a hook changes cannot be rolled back.
public struct Hook: Codable, Equatable, Sendable {
    public enum Phase: String, Codable, Sendable, CaseIterable {
        /// In a chroot of the root, without network, by the run that applies the unit's files.
        case offline
        /// On the running unit after the network is up, by `imprint-hooks.service` (`run --first-boot-hooks`).
        case firstBoot = "first-boot"

        /// Reads a phase as a CSV cell gives it: `offline` or `first-boot`, without regard to case.
        public static func parse(_ text: String) throws(CoreError) -> Phase {
            guard let phase = Phase(rawValue: text.trimmingSpaces().lowercased()) else {
                throw .invalidValue(field: "hook phase", value: text, reason: "give offline or first-boot")
            }
            return phase
        }
    }

    /// A name for the record and messages: lowercase letters, digits, '_' and '-'.
    public var name: String
    /// A shell command line, run with the image's /bin/sh.
    public var command: String
    /// Seconds the hook may run before it is killed and the run fails.
    public var timeout: Int
    public var phase: Phase

    public static let defaultTimeout = 300

    public init(name: String, command: String, timeout: Int = Hook.defaultTimeout, phase: Phase = .offline) throws(CoreError) {
        self.phase = phase
        self.name = try LocalAccount.checkName(name, field: "hook name")
        self.command = try Self.checkCommand(command)
        self.timeout = try Self.checkTimeout(timeout)
    }

    /// A command line that is not blank, at most 4096 characters, with no NUL byte.
    public static func checkCommand(_ command: String) throws(CoreError) -> String {
        guard !command.trimmingSpaces().isEmpty, command.count <= 4096, !command.contains("\0") else {
            throw .invalidValue(field: "hook command", value: String(command.prefix(60)), reason: "give a command line of at most 4096 characters")
        }
        return command
    }

    /// Seconds from 1 to 86400 (a day).
    public static func checkTimeout(_ timeout: Int) throws(CoreError) -> Int {
        guard (1...86400).contains(timeout) else {
            throw .invalidValue(field: "hook timeout", value: String(timeout), reason: "give seconds from 1 to 86400")
        }
        return timeout
    }
}

/// What one hook did in a run: for the identity line and the run's journal.
public struct HookResult: Codable, Equatable, Sendable {
    public var name: String
    /// The exit status; nil when the hook was killed for running past its timeout.
    public var status: Int32?
    /// The end of what it printed (standard output and error), at most `HookResult.outputLimit` bytes.
    public var output: String

    public static let outputLimit = 4096

    public init(name: String, status: Int32?, output: String) {
        self.name = name
        self.status = status
        let bytes = Array(output.utf8)
        self.output = bytes.count <= Self.outputLimit ? output : String(decoding: bytes.suffix(Self.outputLimit), as: UTF8.self)
    }

    public var succeeded: Bool { status == 0 }
}

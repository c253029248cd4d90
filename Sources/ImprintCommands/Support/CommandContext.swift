import Foundation
import Glibc
import ImprintCore
import ImprintDisk
import Logging

/// Everything a command touches outside its arguments: where it writes, the environment, the clock and the logger.
/// `run()` builds the real one; tests build one that captures output and uses temporary folders.
public struct CommandContext: Sendable {
    public var output: @Sendable (String) -> Void
    public var errorOutput: @Sendable (String) -> Void
    public var environment: [String: String]
    public var clock: @Sendable () -> Date
    public var logger: Logger
    /// Runs this same command again in a private mount namespace, in place of this process (whole-disk work
    /// mounts file systems that nothing else may see). Returns only by throwing.
    public var enterPrivateMounts: @Sendable () throws -> Void

    public init(
        output: @escaping @Sendable (String) -> Void, errorOutput: @escaping @Sendable (String) -> Void,
        environment: [String: String], clock: @escaping @Sendable () -> Date = Date.init, logger: Logger,
        enterPrivateMounts: @escaping @Sendable () throws -> Void = {
            throw CommandFailure(
                status: .failure,
                message: "whole-disk work needs a private mount namespace; run it as 'unshare --mount --propagation private imprint ...'")
        }
    ) {
        self.output = output
        self.errorOutput = errorOutput
        self.environment = environment
        self.clock = clock
        self.logger = logger
        self.enterPrivateMounts = enterPrivateMounts
    }

    /// The process's own standard output, standard error and environment.
    public static func live() -> CommandContext {
        CommandContext(
            output: { text in FileHandle.standardOutput.write(Data(text.utf8)) },
            errorOutput: { text in FileHandle.standardError.write(Data(text.utf8)) },
            environment: ProcessInfo.processInfo.environment,
            logger: Logger(label: "imprint"),
            enterPrivateMounts: {
                // This executable by its real path: under unshare, /proc/self/exe would be unshare itself.
                let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
                let arguments = MountNamespace.reexec(Array(CommandLine.arguments.dropFirst()), executable: executable)
                var words = arguments.map { strdup($0) } + [nil]
                var environment = MountNamespace.reexecEnvironment(ProcessInfo.processInfo.environment)
                    .map { strdup("\($0.key)=\($0.value)") } + [nil]
                execve(arguments[0], &words, &environment)
                throw CommandFailure(
                    status: .failure, message: "cannot start \(arguments[0]): \(String(cString: strerror(errno))); install util-linux")
            })
    }

    /// Writes `text` and a line end to standard output.
    public func print(_ text: String) { output(text.hasSuffix("\n") ? text : text + "\n") }

    /// Writes a warning line to standard error.
    public func warn(_ text: String) { errorOutput("imprint: warning: \(text)\n") }

    /// Writes `value` as pretty, key-sorted JSON.
    public func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

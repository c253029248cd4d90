import Foundation
import ImprintCore

/// Runs the programs a plan names (`ExternalCommand` values), one after the other.
enum CommandRunner {
    /// What a finished program printed, and its exit status.
    struct Output {
        var status: Int32
        var output: String
        var error: String
    }

    /// Where a program named without a slash is looked for, after PATH: lpadmin lives in /usr/sbin, which a
    /// service's PATH may lack.
    static let extraFolders = ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]

    /// The path of `name`, or nil when it is not installed.
    static func locate(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map(String.init) ?? []
        for folder in path + extraFolders where FileManager.default.isExecutableFile(atPath: folder + "/" + name) {
            return folder + "/" + name
        }
        return nil
    }

    /// Runs `command` and returns what it printed, whatever its exit status.
    /// - Throws: `AgentError.commandFailed` when the program is not installed or cannot start.
    static func capture(_ command: ExternalCommand) throws(AgentError) -> Output {
        try capture(command.executable, command.arguments, description: command.description)
    }

    /// Runs `name` with `arguments` (a program no step owns, such as the installer's `strip`); `description` names
    /// it in errors.
    static func capture(_ name: String, _ arguments: [String], description: String) throws(AgentError) -> Output {
        guard let process = process(name, arguments) else {
            throw .commandFailed(command: description, status: 127, output: "\(name) is not installed on this system")
        }
        let result: ChildProcess.Result
        do {
            result = try process.run()
        } catch {
            throw .commandFailed(command: description, status: 127, output: "\(error)")
        }
        return Output(status: result.status, output: result.outputText, error: result.errorText)
    }

    /// What runs for `name` with `arguments`: the program found by `locate`, with this process's environment and
    /// nothing on its standard input; nil when it is not installed.
    static func process(_ name: String, _ arguments: [String]) -> ChildProcess? {
        locate(name).map { ChildProcess($0, arguments) }
    }

    /// Runs every command in order and stops at the first that fails.
    /// - Throws: `AgentError.commandFailed` naming the command, its exit status and what it printed.
    static func run(_ commands: [ExternalCommand]) throws(AgentError) {
        for command in commands {
            let result = try capture(command)
            if result.status != 0 {
                throw .commandFailed(command: command.description, status: result.status, output: result.error + result.output)
            }
        }
    }
}

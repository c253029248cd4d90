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
        guard let executable = locate(name) else {
            throw .commandFailed(command: description, status: 127, output: "\(name) is not installed on this system")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw .commandFailed(command: description, status: 127, output: "cannot start it: \(error)")
        }
        // Read both pipes while the program runs, so a chatty one never blocks on a full pipe.
        let errorText = ErrorText()
        let reading = DispatchGroup()
        let errorHandle = error.fileHandleForReading
        DispatchQueue.global().async(group: reading) {
            errorText.set(String(decoding: errorHandle.readDataToEndOfFile(), as: UTF8.self))
        }
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        reading.wait()
        return Output(status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self), error: errorText.get())
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

    private final class ErrorText: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""

        func set(_ value: String) { lock.withLock { text = value } }
        func get() -> String { lock.withLock { text } }
    }
}

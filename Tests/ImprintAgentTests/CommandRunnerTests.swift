@testable import ImprintAgent
import ImprintCore
import Testing

@Suite struct CommandRunnerTests {
    /// A step's command becomes a process value with the program found on PATH and the step's argument vector as it
    /// is, checked without running it.
    @Test func processOfACommand() throws {
        let command = ExternalCommand(step: .printers, executable: "sh", arguments: ["-c", "exit 0", "a b"], reason: "test")
        let process = try #require(CommandRunner.process(command.executable, command.arguments))
        #expect(process.executable.hasSuffix("/sh"))
        #expect(process.arguments == ["-c", "exit 0", "a b"])
        #expect(process.environment == nil && process.input == nil && process.timeout == nil)
        #expect(CommandRunner.process("imprint-no-such-program", []) == nil)
    }

    /// Commands run in order; the first that fails stops the run, and the error carries its status and what it printed
    /// on standard error.
    @Test func stopsAtTheFirstFailure() throws {
        let commands = [
            ExternalCommand(step: .printers, executable: "sh", arguments: ["-c", "exit 0"], reason: "passes"),
            ExternalCommand(step: .printers, executable: "sh", arguments: ["-c", "echo refused >&2; exit 4"], reason: "fails"),
            ExternalCommand(step: .printers, executable: "imprint-no-such-program", arguments: [], reason: "never reached"),
        ]
        #expect {
            try CommandRunner.run(commands)
        } throws: { error in
            guard case let .commandFailed(command, status, output) = error as? AgentError else { return false }
            return command == commands[1].description && status == 4 && output == "refused\n"
        }
    }

    /// A program that is not installed fails as the shell would say it: status 127.
    @Test func missingProgram() throws {
        let command = ExternalCommand(step: .printers, executable: "imprint-no-such-program", arguments: [], reason: "test")
        #expect {
            try CommandRunner.capture(command)
        } throws: { error in
            guard case .commandFailed(_, 127, _) = error as? AgentError else { return false }
            return true
        }
    }

    /// A program that fills standard error before it prints on standard output finishes, and both arrive whole.
    @Test func chattyProgram() throws {
        let command = ExternalCommand(
            step: .printers, executable: "sh", arguments: ["-c", "head -c 200000 /dev/zero | tr '\\0' e >&2; echo done"],
            reason: "test")
        let result = try CommandRunner.capture(command)
        #expect(result.status == 0 && result.output == "done\n" && result.error.utf8.count == 200_000)
    }
}

import Foundation
import Glibc
import ImprintCore
import ImprintTestSupport
import Testing

@Suite struct ChildProcessTests {
    /// The value carries the argument vector as given and prints it as a shell would take it, without running it.
    @Test func argumentVectorWithoutRunning() {
        let process = ChildProcess("/usr/sbin/lpadmin", ["-p", "rm204 laser", "-E"], environment: ["PATH": "/usr/bin"])
        #expect(process.executable == "/usr/sbin/lpadmin")
        #expect(process.arguments == ["-p", "rm204 laser", "-E"])
        #expect(process.description == "/usr/sbin/lpadmin -p 'rm204 laser' -E")
    }

    /// A program that fills its standard error pipe before it writes a line on standard output finishes, and both
    /// streams arrive whole.
    @Test func fullStandardErrorBeforeOutput() throws {
        let result = try ChildProcess(
            "/bin/sh", ["-c", "head -c 200000 /dev/zero >&2; echo done"], timeout: .seconds(60)
        ).run()
        #expect(result.termination == .exited(0))
        #expect(result.outputText == "done\n")
        #expect(result.error.count == 200_000)
    }

    /// A megabyte of input goes through `cat` while its output is read, so neither side waits on a full pipe.
    @Test func largeInputThroughCat() throws {
        let input = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let result = try ChildProcess("/bin/cat", input: input, timeout: .seconds(60)).run()
        #expect(result.status == 0)
        #expect(result.output == input)
    }

    /// A program that exits without reading its input neither blocks the runner nor ends the test process by
    /// SIGPIPE.
    @Test func inputTheProgramNeverReads() throws {
        let input = [UInt8](repeating: 0x61, count: 1 << 20)
        let result = try ChildProcess("/bin/sh", ["-c", "echo ignored"], input: input, timeout: .seconds(60)).run()
        #expect(result.outputText == "ignored\n")
        #expect(result.status == 0)
    }

    /// Without input the program reads /dev/null: it sees the end at once.
    @Test func noInputIsEmpty() throws {
        let result = try ChildProcess("/usr/bin/wc", ["-c"], timeout: .seconds(60)).run()
        #expect(result.outputText.trimmingCharacters(in: .whitespaces) == "0\n")
    }

    /// The environment given is the whole environment, and the working directory is the one given.
    @Test func environmentAndWorkingDirectory() throws {
        let folder = try TemporaryDirectory()
        let result = try ChildProcess(
            "/bin/sh", ["-c", "env; pwd"], environment: ["IMPRINT_ONLY": "yes"], workingDirectory: folder.path
        ).run()
        let lines = result.outputText.split(separator: "\n").map(String.init)
        #expect(lines.contains("IMPRINT_ONLY=yes"))
        #expect(!lines.contains { $0.hasPrefix("HOME=") })
        #expect(lines.last == URL(fileURLWithPath: folder.path).resolvingSymlinksInPath().path)
    }

    /// An exit status comes back as it is; a signal comes back as its number, as Foundation's Process reports it.
    @Test func exitStatusAndSignal() throws {
        let exited = try ChildProcess("/bin/sh", ["-c", "exit 3"]).run()
        #expect(exited.termination == .exited(3) && exited.status == 3)
        let killed = try ChildProcess("/bin/sh", ["-c", "kill -KILL $$"]).run()
        #expect(killed.termination == .signaled(SIGKILL) && killed.status == 9)
    }

    /// A program that runs past its time limit is killed, and the error names it and the limit.
    @Test func timeoutKills() throws {
        let started = ContinuousClock.now
        #expect {
            try ChildProcess("/bin/sleep", ["30"], timeout: .milliseconds(300)).run()
        } throws: { error in
            (error as? CoreError) == .timedOut(command: "/bin/sleep 30", after: .milliseconds(300))
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    /// A program that closes its output and runs on is killed at its time limit too.
    @Test func timeoutAfterOutputCloses() throws {
        let started = ContinuousClock.now
        #expect(throws: CoreError.self) {
            try ChildProcess("/bin/sh", ["-c", "exec >&- 2>&-; sleep 30"], timeout: .milliseconds(300)).run()
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    /// A program that does not exist is an error, not an exit status.
    @Test func missingProgram() throws {
        #expect(throws: CoreError.io(path: "/nonexistent/imprint-test", operation: "start", errno: ENOENT)) {
            try ChildProcess("/nonexistent/imprint-test").run()
        }
    }
}

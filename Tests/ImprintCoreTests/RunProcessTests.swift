import ImprintTestSupport
import Testing

@Suite struct RunProcessTests {
    /// The tests' helper returns when a program fills its standard error (more than a pipe holds) before it closes
    /// standard output; a helper that read standard output to its end first would wait forever, and the time limit
    /// turns that into a failure.
    @Test func fullStandardErrorDoesNotHang() throws {
        let result = try runProcess("/bin/sh", ["-c", "head -c 200000 /dev/zero >&2; echo done"], timeout: .seconds(60))
        #expect(result.status == 0)
        #expect(result.output == "done\n")
        #expect(result.error.utf8.count == 200_000)
    }

    /// Input reaches the program and ends, so a program reading to the end of its input finishes.
    @Test func inputEnds() throws {
        let result = try runProcess("/usr/bin/tr", ["a-z", "A-Z"], input: "imprint\n", timeout: .seconds(60))
        #expect(result.output == "IMPRINT\n")
    }
}

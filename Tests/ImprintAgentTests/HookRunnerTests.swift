import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintTestSupport
import Testing

@Suite struct HookRunnerTests {
    /// A hook runs in a chroot of the root inside private network, mount and PID namespaces (everything it starts
    /// is killed with it), with the unit's name in its environment and its timeout as the limit.
    @Test func hookCommandLine() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        var profile = try demoProfile()
        profile.seat = 7
        let hook = try Hook(name: "locales", command: "locale-gen", timeout: 5)
        let process = HookRunner.process(hook, root: root, environment: HookRunner.environment(profile))
        #expect(process.executable == "/usr/bin/unshare")
        #expect(Array(process.arguments.prefix(5)) == ["--net", "--mount", "--pid", "--fork", "--kill-child"])
        #expect(Array(process.arguments.suffix(2)) == [root.path, "locale-gen"])
        #expect(process.arguments.contains { $0.contains("exec /usr/sbin/chroot \"$root\" /bin/sh -c \"$1\"") })
        #expect(process.timeout == .seconds(5))
        #expect(process.environment?["IMPRINT_HOSTNAME"] == "RM204-07" && process.environment?["IMPRINT_SEAT"] == "7")
    }
}

import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintTestSupport
import Testing

@Suite struct HookRunnerTests {
    /// A hook runs in a chroot of the root inside private network, mount and PID namespaces (everything it starts
    /// is killed with it), with the unit's name but no custom field in its environment, and its timeout as limit.
    @Test func hookCommandLine() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        var profile = try demoProfile()
        profile.seat = 7
        profile.fields = ["licence_key": CustomFieldValue(value: "K-1", secret: true)]
        let hook = try Hook(name: "locales", command: "locale-gen", timeout: 5)
        let process = HookRunner.process(hook, root: root, environment: HookRunner.environment(profile))
        #expect(process.executable == "/usr/bin/unshare")
        #expect(Array(process.arguments.prefix(5)) == ["--net", "--mount", "--pid", "--fork", "--kill-child"])
        #expect(Array(process.arguments.suffix(2)) == [root.path, "locale-gen"])
        #expect(process.arguments.contains { $0.contains("exec /usr/sbin/chroot \"$root\" /bin/sh -c \"$1\"") })
        #expect(process.timeout == .seconds(5))
        #expect(process.environment?["IMPRINT_HOSTNAME"] == "RM204-07" && process.environment?["IMPRINT_SEAT"] == "7")
        // README's list, and no custom field (a secret would end up in whatever the hook prints or logs).
        #expect(Set(process.environment?.keys.map { $0 } ?? []) == [
            "PATH", "LANG", "HOME", "IMPRINT_HOSTNAME", "IMPRINT_FQDN", "IMPRINT_GROUP", "IMPRINT_SEAT", "IMPRINT_REVISION",
        ])
    }

    /// On the running system (`--root /`, as at boot) the same namespaces, without the chroot.
    @Test func liveHookCommandLine() throws {
        let hook = try Hook(name: "locales", command: "locale-gen", timeout: 5)
        let process = HookRunner.process(hook, root: try TargetRoot("/"), environment: [:])
        #expect(process.executable == "/usr/bin/unshare")
        #expect(process.arguments == ["--net", "--mount", "--pid", "--fork", "--kill-child", "/bin/sh", "-c", "locale-gen"])
    }

    /// A first-boot hook runs on the unit as it is (its network, systemd as PID 1), its process group killed by
    /// timeout(1) at its limit.
    @Test func firstBootHookCommandLine() throws {
        let hook = try Hook(name: "salt", command: "salt-call state.apply", timeout: 5, phase: .firstBoot)
        let process = HookRunner.process(hook, root: try TargetRoot("/"), environment: [:])
        #expect(process.executable == "/usr/bin/timeout")
        #expect(process.arguments == ["-s", "KILL", "5", "/bin/sh", "-c", "salt-call state.apply"])
    }
}

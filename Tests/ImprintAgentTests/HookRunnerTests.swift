import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintTestSupport
import Testing

@Suite struct HookRunnerTests {
    /// A hook runs in a chroot of the root inside private network, mount and PID namespaces (everything it starts
    /// is killed with it), with the unit's name and custom fields in its environment, and its timeout as limit.
    @Test func hookCommandLine() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        var profile = try demoProfile()
        profile.seat = 7
        profile.fields = ["licence_key": CustomFieldValue(value: "K-1", secret: true), "veyon_room": CustomFieldValue(value: "Room 204", secret: false)]
        let hook = try Hook(name: "locales", command: "locale-gen", timeout: 5)
        let process = HookRunner.process(hook, root: root, environment: HookRunner.environment(profile))
        #expect(process.executable == "/usr/bin/unshare")
        #expect(Array(process.arguments.prefix(5)) == ["--net", "--mount", "--pid", "--fork", "--kill-child"])
        #expect(Array(process.arguments.suffix(2)) == [root.path, "locale-gen"])
        #expect(process.arguments.contains { $0.contains("exec /usr/sbin/chroot \"$root\" /bin/sh -c \"$1\"") })
        #expect(process.timeout == .seconds(5))
        #expect(process.environment?["IMPRINT_HOSTNAME"] == "RM204-07" && process.environment?["IMPRINT_SEAT"] == "7")
        // README's list: a field's name in capitals after IMPRINT_FIELD_.
        #expect(Set(process.environment?.keys.map { $0 } ?? []) == [
            "PATH", "LANG", "HOME", "IMPRINT_HOSTNAME", "IMPRINT_FQDN", "IMPRINT_GROUP", "IMPRINT_SEAT", "IMPRINT_REVISION",
            "IMPRINT_FIELD_LICENCE_KEY", "IMPRINT_FIELD_VEYON_ROOM",
        ])
        #expect(process.environment?["IMPRINT_FIELD_LICENCE_KEY"] == "K-1")
    }

    /// What a hook prints is kept with each secret value masked, a longer secret holding a shorter one masked whole;
    /// a value that is not secret stays.
    @Test func secretsAreMaskedInWhatAHookPrints() throws {
        var profile = try demoProfile()
        profile.fields = [
            "pin": CustomFieldValue(value: "4711", secret: true), "otp": CustomFieldValue(value: "OTP-4711-x", secret: true),
            "room": CustomFieldValue(value: "Room 204", secret: false), "empty": CustomFieldValue(value: "", secret: true),
        ]
        let printed = "joining Room 204 with OTP-4711-x (pin 4711)\n"
        #expect(HookRunner.masked(printed, profile: profile) == "joining Room 204 with ******** (pin ********)\n")
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

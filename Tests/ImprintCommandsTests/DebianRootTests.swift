import Foundation
import ImprintTestSupport
import Testing

/// The agent where it must run: installed into a real Debian root (debootstrap) and run inside it with chroot.
@Suite(.serialized) struct DebianRootTests {
    /// Install takes the static binary without a complaint and systemd-analyze accepts both services among Debian's
    /// own units; the installed agent, run inside the root as at first boot, keeps the machine-id systemd made,
    /// sets the running hostname, writes keys sshd accepts and a hosts line getent finds; the next boot's run does
    /// nothing; and with the master's id still in place it makes a new one and says a reboot is due.
    @Test func installedAgentRunsInChroot() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let binary = try staticImprintBinary()
        let root = try folder.copyDebianRoot()
        let masterID = try String(contentsOfFile: root + "/etc/machine-id", encoding: .utf8)

        let install = try runProcess(binary, ["install", "--root", root, "--inventory", folder.file("inventory.db"), "--model", "OptiPlex 7090"])
        #expect(install.status == 0, "\(install.error)")
        #expect(!install.output.contains("note:"), "\(install.output)")
        #expect(try String(contentsOfFile: root + "/var/lib/imprint/master-machine-id", encoding: .utf8) == masterID)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/var/lib/dbus/machine-id") == "/etc/machine-id")
        for unit in ["imprint-agent.service", "imprint-printers.service"] {
            let verify = try runProcess("/usr/bin/systemd-analyze", ["verify", "--root=\(root)", "/etc/systemd/system/\(unit)"])
            #expect(verify.status == 0 && verify.error.isEmpty, "\(unit): \(verify.error)")
        }

        // What systemd does at first boot with an 'uninitialized' machine-id: a fresh one.
        let firstBootID = "4f1d2c3b4a5968778695a4b3c2d1e0f9"
        try (firstBootID + "\n").write(toFile: root + "/etc/machine-id", atomically: false, encoding: .utf8)
        try FileManager.default.copyItem(atPath: fixturePath("demo/facts/RM204-07.json"), toPath: root + "/tmp/facts.json")
        let agent = "/usr/local/sbin/imprint run --facts /tmp/facts.json --source boot"
        let script = """
            \(agent) || exit 90
            echo "hostname: $(hostname)"
            mkdir -p /run/sshd
            for key in /etc/ssh/ssh_host_*_key; do /usr/sbin/sshd -t -f /dev/null -h "$key" || exit 91; echo "sshd accepts $key"; done
            getent -s files hosts RM204-07 || exit 92
            \(agent) || exit 93
            """
        let boot = try chroot(root, script)
        #expect(boot.status == 0, "\(boot.output)\n\(boot.error)")
        #expect(boot.output.contains("RM204-07 (revision 1): applied run"))
        #expect(boot.output.contains("note: machine-id \(firstBootID) kept: systemd made it at first boot"))
        #expect(!boot.output.contains("reboot"))
        #expect(boot.output.contains("hostname: RM204-07\n"))
        for type in ["ed25519", "ecdsa", "rsa"] { #expect(boot.output.contains("sshd accepts /etc/ssh/ssh_host_\(type)_key")) }
        #expect(boot.output.contains("127.0.1.1       RM204-07.school.example.org RM204-07"))
        #expect(boot.output.contains("nothing to do, this revision was applied"))
        let machineID = try runProcess("/usr/bin/systemd-machine-id-setup", ["--root=\(root)", "--print"])
        #expect(machineID.output == firstBootID + "\n", "\(machineID.error)")
        let identity = try String(contentsOfFile: root + "/var/log/imprint/identity.jsonl", encoding: .utf8)
        #expect(identity.contains("\"old\":\"\(masterID.trimmingCharacters(in: .newlines))\""))

        // A unit booted with the master's id still in /etc/machine-id: a new id, and a reboot is due.
        try masterID.write(toFile: root + "/etc/machine-id", atomically: false, encoding: .utf8)
        let stale = try chroot(root, "/usr/local/sbin/imprint run --facts /tmp/facts.json --only machine-id")
        #expect(stale.status == 0, "\(stale.error)")
        #expect(stale.output.contains("reboot the unit so every service takes the new one"))
        let renewed = try String(contentsOfFile: root + "/etc/machine-id", encoding: .utf8)
        #expect(renewed != masterID && renewed.count == 33)

        // Without /proc the static runtime cannot read its arguments: a clear error, not the help and exit 0.
        let bare = try runProcess("/usr/sbin/chroot", [root, "/usr/local/sbin/imprint", "run", "--facts", "/tmp/facts.json"])
        #expect(bare.status == 64)
        #expect(bare.error.contains("/proc is not mounted"))
    }

    /// Runs `script` with /bin/sh inside `root` as the unit would: its own /proc, and a private hostname and mounts.
    func chroot(_ root: String, _ script: String) throws -> ProcessResult {
        try runProcess("/usr/bin/unshare", [
            "--uts", "--mount", "--fork", "/bin/sh", "-c", "mount -t proc proc \"$0/proc\" && exec /usr/sbin/chroot \"$0\" /bin/sh -c \"$1\"",
            root, script,
        ])
    }
}

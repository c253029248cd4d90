import Foundation
@testable import ImprintCommands
import ImprintTestSupport
import Testing

@Suite struct HookTests {
    /// Offline hooks in a chroot of the real Debian root: they run after the files are in place (systemctl reads
    /// an attached file), without network (only lo), once per record revision (a second run, a no-op, does not run
    /// them again); their output is in the identity line and the journal. A hook that fails, or runs past its
    /// timeout, fails the run (exit 1) and the run's files are rolled back.
    @Test func offlineHooksInTheDebianRoot() throws {
        let folder = try TemporaryDirectory()
        let root = try folder.copyDebianRoot()
        demo(folder)
        #expect(imprint(["inventory", "field", "add", "boot_target"], in: folder).status == 0)
        #expect(imprint(["inventory", "group", "set", "RM204", "--field", "boot_target=multi-user.target"], in: folder).status == 0)
        let template = try folder.write("target.mustache", "{{boot_target}}\n")
        #expect(imprint(["inventory", "file", "add", "/etc/kiosk/target", "--group", "RM204", "--template", template], in: folder).status == 0)
        let hooks: [(String, String)] = [
            ("default-target", #"systemctl set-default "$(cat /etc/kiosk/target)" && echo "$IMPRINT_HOSTNAME seat $IMPRINT_SEAT" >> /root/hook-runs"#),
            ("no-network", #"sed -n 's/^ *\([a-z0-9]*\):.*/\1/p' /proc/net/dev"#),
        ]
        for (name, command) in hooks {
            let added = imprint(["inventory", "hook", "add", name, "--group", "RM204", "--command", command, "--timeout", "60"], in: folder)
            #expect(added.status == 0, "\(added.err)")
        }
        let facts = fixturePath("demo/facts/RM204-07.json")
        let planned = imprint(["run", "--root", root, "--facts", facts, "--dry-run"], in: folder)
        #expect(planned.out.contains("# hooks: default-target, offline in a chroot, timeout 60 s; cannot be rolled back\nwould run: systemctl set-default"), "\(planned.out)")
        #expect(planned.out.contains("note: hooks default-target, no-network run offline after the files are in place; what a hook changes cannot be rolled back"))
        #expect(!FileManager.default.fileExists(atPath: root + "/root/hook-runs"), "a dry run runs no hook")

        let applied = imprint(["run", "--root", root, "--facts", facts], in: folder)
        #expect(applied.status == 0, "\(applied.err)")
        #expect(applied.out.contains("hooks       default-target exited 0"), "\(applied.out)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/etc/systemd/system/default.target")
            == "/lib/systemd/system/multi-user.target")
        #expect(try String(contentsOfFile: root + "/root/hook-runs", encoding: .utf8) == "RM204-07 seat 7\n")
        let line = try #require(try String(contentsOfFile: root + "/var/log/imprint/identity.jsonl", encoding: .utf8).split(separator: "\n").last)
        let identity = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let results = try #require(identity["hooks"] as? [[String: Any]])
        #expect(results.map { $0["name"] as? String } == ["default-target", "no-network"])
        #expect(results.allSatisfy { $0["status"] as? Int == 0 })
        #expect(results[1]["output"] as? String == "lo\n", "the hook saw no network card but lo: \(results[1])")
        let runs = try FileManager.default.contentsOfDirectory(atPath: root + "/var/lib/imprint/runs")
        let journal = try String(contentsOfFile: root + "/var/lib/imprint/runs/\(try #require(runs.first))/journal.json", encoding: .utf8)
        #expect(journal.contains("\"name\" : \"default-target\""), "\(journal)")

        // A no-op run (the next boot) runs no hook.
        let again = imprint(["run", "--root", root, "--facts", facts], in: folder)
        #expect(again.out.contains("nothing to do"), "\(again.out)")
        #expect(try String(contentsOfFile: root + "/root/hook-runs", encoding: .utf8) == "RM204-07 seat 7\n")

        // A failing hook fails the run, which rolls back its files (the new target file), and names the hook.
        #expect(imprint(["inventory", "group", "set", "RM204", "--field", "boot_target=graphical.target"], in: folder).status == 0)
        #expect(imprint(["inventory", "hook", "add", "check", "--group", "RM204", "--command", "echo licence server unreachable >&2; exit 3"], in: folder).status == 0)
        let failed = imprint(["run", "--root", root, "--facts", facts], in: folder)
        #expect(failed.status == 1, "\(failed.out) \(failed.err)")
        #expect(failed.err.contains("hook 'check' failed with exit status 3:\n  licence server unreachable"), "\(failed.err)")
        #expect(try String(contentsOfFile: root + "/etc/kiosk/target", encoding: .utf8) == "multi-user.target\n", "rolled back")
        #expect(try String(contentsOfFile: root + "/var/log/imprint/identity.jsonl", encoding: .utf8).split(separator: "\n").count == 1)

        // So does one that runs past its timeout: it is killed, with what it started.
        #expect(imprint(["inventory", "hook", "add", "check", "--group", "RM204", "--command", "sleep 600", "--timeout", "1"], in: folder).status == 0)
        let slow = imprint(["run", "--root", root, "--facts", facts], in: folder)
        #expect(slow.status == 1 && slow.err.contains("hook 'check' ran past its 1 s timeout and was killed"), "\(slow.err)")
        #expect(try String(contentsOfFile: root + "/etc/kiosk/target", encoding: .utf8) == "multi-user.target\n")
        let sleeping = try runProcess("/usr/bin/pgrep", ["-f", "^sleep 600$"])
        #expect(sleeping.output.isEmpty, "the hook's own processes were killed too")

        // Fixed, the new revision applies and runs the hooks once more; --force runs them again.
        #expect(imprint(["inventory", "hook", "add", "check", "--group", "RM204", "--command", "true"], in: folder).status == 0)
        #expect(imprint(["run", "--root", root, "--facts", facts], in: folder).status == 0)
        #expect(try String(contentsOfFile: root + "/etc/kiosk/target", encoding: .utf8) == "graphical.target\n")
        #expect(imprint(["run", "--root", root, "--facts", facts], in: folder).out.contains("nothing to do"))
        #expect(imprint(["run", "--root", root, "--facts", facts, "--force"], in: folder).status == 0)
        // default-target ran in each of the five runs that applied or failed after it: what a hook changed (its line
        // in /root/hook-runs) stays when a later hook fails the run.
        #expect(try String(contentsOfFile: root + "/root/hook-runs", encoding: .utf8) == String(repeating: "RM204-07 seat 7\n", count: 5))
    }

    /// An empty command or a timeout out of range is refused on the command line, naming the value.
    @Test func badHookArguments() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let empty = imprint(["inventory", "hook", "add", "x", "--group", "RM204", "--command", " "], in: folder)
        #expect(empty.status == 64 && empty.err.contains("invalid hook command"), "\(empty.err)")
        let long = imprint(["inventory", "hook", "add", "x", "--group", "RM204", "--command", "true", "--timeout", "0"], in: folder)
        #expect(long.status == 64 && long.err.contains("invalid hook timeout '0': give seconds from 1 to 86400"), "\(long.err)")
    }

    /// First-boot hooks run on the unit itself: any root but / is refused, naming it; and the offline run of a unit
    /// whose only hook is a first-boot one runs no hook.
    @Test func firstBootHooksOnlyOnTheUnit() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        #expect(imprint(["inventory", "hook", "add", "salt", "--group", "RM204", "--first-boot", "--command", "false"], in: folder).status == 0)
        let root = try folder.copyFixture("roots/rm204-master", as: "unit")
        let facts = fixturePath("demo/facts/RM204-07.json")
        let refused = imprint(["run", "--root", root, "--facts", facts, "--first-boot-hooks"], in: folder)
        #expect(refused.status == 65 && refused.err.contains("first-boot hooks run on the unit itself"), "\(refused.err)")
        let offline = imprint(["run", "--root", root, "--facts", facts], in: folder)
        #expect(offline.status == 0 && !offline.out.contains("hooks       salt"), "\(offline.out) \(offline.err)")
        let listed = imprint(["inventory", "hook", "list", "--json"], in: folder).out
        #expect(listed.contains("\"phase\" : \"first-boot\""), "\(listed)")
    }
}

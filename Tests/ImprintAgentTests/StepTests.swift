import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintTestSupport
import Testing

@Suite struct HostsFileTests {
    /// The 127.0.1.1 line is replaced (FQDN first), every other line kept, a duplicate 127.0.1.1 line dropped.
    @Test func replaces() {
        let hosts = "127.0.0.1\tlocalhost\n127.0.1.1\tmaster.example.org master\n10.0.0.2 files\n127.0.1.1 old\n::1 localhost\n"
        #expect(HostnameStep.renderHosts(hosts, hostname: "pc1", fqdn: "pc1.school.org")
            == "127.0.0.1\tlocalhost\n127.0.1.1\tpc1.school.org pc1\n10.0.0.2 files\n::1 localhost\n")
    }

    /// Without a 127.0.1.1 line one is added after 127.0.0.1; without a file a minimal one is made.
    @Test func adds() {
        #expect(HostnameStep.renderHosts("127.0.0.1 localhost\n::1 localhost\n", hostname: "pc1", fqdn: "pc1")
            == "127.0.0.1 localhost\n127.0.1.1\tpc1\n::1 localhost\n")
        #expect(HostnameStep.renderHosts(nil, hostname: "pc1", fqdn: "pc1").hasPrefix("127.0.0.1\tlocalhost\n127.0.1.1\tpc1\n"))
    }

    /// KEY=value files get the key set or added, other lines kept.
    @Test func assignments() {
        #expect(HostnameStep.setAssignment("HOSTNAME", to: "pc1.org", in: "NETWORKING=yes\nHOSTNAME=master\n") == "NETWORKING=yes\nHOSTNAME=pc1.org\n")
        #expect(HostnameStep.setAssignment("PRETTY_HOSTNAME", to: "pc1", in: "") == "PRETTY_HOSTNAME=pc1\n")
    }

    /// The iSCSI initiator keeps its prefix and gets a new unique part.
    @Test func initiator() {
        let text = "## DO NOT EDIT\nInitiatorName=iqn.1993-08.org.debian:01:5a1b2c3d4e5f\n"
        let renamed = MachineIDStep.renameInitiator(text, random: .system)
        #expect(renamed.hasPrefix("## DO NOT EDIT\nInitiatorName=iqn.1993-08.org.debian:01:"))
        #expect(renamed != text && renamed.count == text.count)
    }
}

@Suite struct AgentRunTests {
    /// A run gives the master root the unit's hostname, hosts line, pretty name, mail name and a new machine-id,
    /// removes the credential secret, renews the random seed and logs the identity.
    @Test func personalizes() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        let outcome = try Agent.run(request(try demoProfile()), root: root)
        #expect(outcome.result == .applied)
        #expect(try root.readTrimmedText("/etc/hostname") == "RM204-07")
        #expect(try root.readTrimmedText("/etc/hosts")?.contains("127.0.1.1\tRM204-07.school.example.org RM204-07") == true)
        #expect(try root.readTrimmedText("/etc/hosts")?.contains("10.20.0.10\tfiles.school.example.org files") == true)
        #expect(try root.readTrimmedText("/etc/machine-info") == "PRETTY_HOSTNAME=RM204-07\nICON_NAME=computer-desktop")
        #expect(try root.readTrimmedText("/etc/mailname") == "RM204-07.school.example.org")
        #expect(try root.readTrimmedText("/etc/machine-id") == "0123456789abcdef0123456789abcdef")
        #expect(try root.metadata("/etc/machine-id")?.mode == 0o444)
        #expect(try root.linkTarget("/var/lib/dbus/machine-id") == "/etc/machine-id")
        #expect(try root.readFile("/var/lib/systemd/credential.secret") == nil)
        #expect(try root.metadata("/var/lib/systemd/random-seed")?.mode == 0o600)
        let log = try #require(try root.readTrimmedText("/var/log/imprint/identity.jsonl"))
        let line = try #require(try JSONSerialization.jsonObject(with: Data(log.utf8)) as? [String: Any])
        #expect(line["unit"] as? String == "RM204-07")
        #expect((line["machineID"] as? [String: String])?["old"] == "5d2b8a1f0c7e4e3a9b6d1c2e3f4a5b6c")
    }

    /// On a running unit, a machine-id that differs from the master's on record (systemd made it at first boot)
    /// is kept with no reboot due; the master's own id is replaced, with a note that a reboot is due.
    @Test func liveRunKeepsFirstBootMachineID() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        _ = try folder.write("rm204-master/var/lib/imprint/master-machine-id", "5d2b8a1f0c7e4e3a9b6d1c2e3f4a5b6c\n")
        var live = request(try demoProfile(), steps: [.machineID, .identity], dryRun: true)
        live.live = true

        let still = try Agent.run(live, root: root)
        #expect(still.plan.effective.contains { $0.path == "/etc/machine-id" })
        #expect(still.plan.notes.contains { $0.contains("reboot the unit") })

        _ = try folder.write("rm204-master/etc/machine-id", "fedcba9876543210fedcba9876543210\n")
        let fresh = try Agent.run(live, root: root)
        #expect(!fresh.plan.effective.contains { $0.path == "/etc/machine-id" })
        #expect(!fresh.plan.notes.contains { $0.contains("reboot") })
        #expect(fresh.identity?.machineID?.old == "5d2b8a1f0c7e4e3a9b6d1c2e3f4a5b6c")
        #expect(fresh.identity?.machineID?.new == "fedcba9876543210fedcba9876543210")
    }

    /// The real tools accept what the run wrote: dbus-uuidgen the machine-id, systemd-firstboot the hostname,
    /// getent (in a chroot holding only getent, its libraries and our /etc/hosts) the hosts line.
    @Test func realToolsAccept() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        _ = try Agent.run(request(try demoProfile()), root: root)
        let machineID = root.path + "/etc/machine-id"
        let before = try Data(contentsOf: URL(fileURLWithPath: machineID))
        #expect(try runProcess("/usr/bin/dbus-uuidgen", ["--ensure=" + machineID]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: machineID)) == before, "dbus-uuidgen rewrote an id it found invalid")

        let empty = try TemporaryDirectory("firstboot")
        let hostname = try #require(try root.readTrimmedText("/etc/hostname"))
        let firstboot = try runProcess("/usr/bin/systemd-firstboot", ["--root=" + empty.path, "--hostname=" + hostname])
        #expect(firstboot.status == 0, "\(firstboot.error)")
        #expect(try String(contentsOfFile: empty.file("etc/hostname"), encoding: .utf8) == hostname + "\n")

        let jail = try TemporaryDirectory("getent")
        try FileManager.default.createDirectory(atPath: jail.file("usr/bin"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "/usr/bin/getent", toPath: jail.file("usr/bin/getent"))
        let libraries = try runProcess("/usr/bin/ldd", ["/usr/bin/getent"]).output
            .split(separator: "\n").compactMap { line in line.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("/") }.map(String.init) }
        for library in libraries {
            try FileManager.default.createDirectory(atPath: jail.file((library as NSString).deletingLastPathComponent), withIntermediateDirectories: true)
            // Copy the bytes: the loader's path is a link to a path the jail does not have.
            try Data(contentsOf: URL(fileURLWithPath: library)).write(to: URL(fileURLWithPath: jail.file(library)))
            chmod(jail.file(library), 0o755)
        }
        try jail.write("etc/nsswitch.conf", "hosts: files\n")
        try FileManager.default.copyItem(atPath: root.path + "/etc/hosts", toPath: jail.file("etc/hosts"))
        let lookup = try runProcess("/usr/sbin/chroot", [jail.path, "/usr/bin/getent", "-s", "files", "hosts", "RM204-07"])
        #expect(lookup.status == 0, "\(lookup.error)")
        #expect(lookup.output.hasPrefix("127.0.1.1") && lookup.output.contains("RM204-07.school.example.org"))
    }

    /// New host keys replace the master's, one per type the image had; ssh-keygen reads each and sshd accepts it;
    /// the fingerprints in the identity log are the new keys'.
    @Test func hostKeysRenewed() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        let masterKey = try root.readFile("/etc/ssh/ssh_host_ed25519_key")
        let outcome = try Agent.run(request(try demoProfile()), root: root)
        let keys = try #require(outcome.identity?.hostKeys)
        #expect(keys.map(\.type) == ["ed25519", "ecdsa", "rsa"])
        #expect(try root.readFile("/etc/ssh/ssh_host_ed25519_key") != masterKey)
        for key in keys {
            let path = root.path + "/etc/ssh/ssh_host_\(key.type)_key"
            #expect(try root.metadata("/etc/ssh/ssh_host_\(key.type)_key")?.mode == 0o600)
            let listed = try runProcess("/usr/bin/ssh-keygen", ["-l", "-f", path])
            #expect(listed.status == 0 && listed.output.contains(key.fingerprint))
            let derived = try runProcess("/usr/bin/ssh-keygen", ["-y", "-f", path]).output.split(separator: " ")
            let published = try String(contentsOfFile: path + ".pub", encoding: .utf8)
            #expect(published.split(separator: " ").prefix(2) == derived.prefix(2))
            #expect(published.hasSuffix(" root@RM204-07\n"))
            let sshd = try sshdTest(hostKeys: [path])
            #expect(sshd.status == 0, "\(sshd.error)")
        }
        let log = try #require(try root.readTrimmedText("/var/log/imprint/identity.jsonl"))
        #expect(keys.allSatisfy { log.contains($0.fingerprint) })
    }

    /// A generalized image without host keys gets all three types, so sshd starts.
    @Test func hostKeysForGeneralizedImage() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        try FileManager.default.removeItem(atPath: root.path + "/etc/ssh")
        let outcome = try Agent.run(request(try demoProfile(), steps: [.hostKeys, .identity]), root: root)
        #expect(outcome.identity?.hostKeys.count == 3)
        #expect(outcome.plan.notes.contains { $0.contains("no SSH host keys") })
        #expect(root.exists("/etc/ssh/ssh_host_rsa_key.pub"))
    }

    /// A second run at the same revision has nothing to do and changes nothing; an edited record is applied.
    @Test func oncePerRevision() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        let initial = try Agent.run(request(try demoProfile()), root: root)
        let after = try snapshot(root.path)
        #expect(try Agent.run(request(try demoProfile()), root: root).result == .nothingToDo)
        #expect(try snapshot(root.path) == after)
        let key = try root.readFile("/etc/ssh/ssh_host_ed25519_key.pub")
        let edited = try Agent.run(request(try demoProfile(revision: 2, domain: "lab.example.org")), root: root)
        #expect(edited.result == .applied)
        // The identity line of a run that keeps them still names the unit's machine-id and key fingerprints.
        #expect(edited.identity?.machineID?.new == "0123456789abcdef0123456789abcdef")
        #expect(edited.identity?.machineID?.old == "0123456789abcdef0123456789abcdef")
        #expect(edited.identity?.hostKeys.count == 3)
        #expect(Set(edited.identity?.hostKeys.map(\.fingerprint) ?? []) == Set(initial.identity?.hostKeys.map(\.fingerprint) ?? ["none"]))
        #expect(try root.readFile("/etc/ssh/ssh_host_ed25519_key.pub") == key, "an edited record must not renew the host keys")
        #expect(!edited.plan.changes.contains { $0.step == .machineID })
        #expect(try root.readTrimmedText("/etc/mailname") == "RM204-07.lab.example.org")
        #expect(try root.readTrimmedText("/var/log/imprint/identity.jsonl")?.split(separator: "\n").count == 2)
        #expect(try Agent.run(request(try demoProfile(revision: 2), force: true), root: root).result == .applied)
    }

    /// A personalized root restored onto another unit (other identifiers) gets a new identity, not the first unit's.
    @Test func cloneOfPersonalizedRootRenews() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        _ = try Agent.run(request(try demoProfile()), root: root)
        let key = try root.readFile("/etc/ssh/ssh_host_ed25519_key.pub")
        var other = try demoProfile()
        other.hostname = try Hostname("RM204-08")
        other.identifiers = [try Identifier(.serial, "7XK08Q99")]
        let outcome = try Agent.run(request(other), root: root)
        #expect(outcome.plan.changes.contains { $0.step == .machineID })
        #expect(try root.readFile("/etc/ssh/ssh_host_ed25519_key.pub") != key)
    }

    /// A dry run plans every change and writes nothing.
    @Test func dryRunWritesNothing() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        let before = try snapshot(root.path)
        let outcome = try Agent.run(request(try demoProfile(), dryRun: true), root: root)
        #expect(outcome.result == .planned)
        #expect(outcome.plan.effective.map(\.path).contains("/etc/hostname"))
        #expect(outcome.plan.effective.first { $0.path == "/etc/hostname" }?.diff.contains("-master\n+RM204-07\n") == true)
        #expect(try snapshot(root.path) == before)
    }

    /// --only hostname touches the hostname files and the identity log, nothing of machine-id.
    @Test func onlyOneStep() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        let outcome = try Agent.run(request(try demoProfile(), steps: [.hostname, .identity]), root: root)
        #expect(Set(outcome.plan.effective.map(\.step)) == [.hostname, .identity])
        #expect(try root.readTrimmedText("/etc/machine-id") == "5d2b8a1f0c7e4e3a9b6d1c2e3f4a5b6c")
        #expect(try root.readFile("/var/lib/imprint/state.json") == nil)
    }

    /// Rolling back the latest run gives back the exact tree it started from (run records aside).
    @Test func rollbackRestores() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        let before = try snapshot(root.path)
        _ = try Agent.run(request(try demoProfile()), root: root)
        let journal = try Agent.rollBack(nil, root: root)
        #expect(journal.state == .rolledBack)
        // Folders a run made (/var/log for the identity log, in a root without one) stay, empty; every file and link
        // is as it was.
        let after = try snapshot(root.path, excluding: ["var/lib/imprint", "var/log/imprint"])
            .filter { before[$0.key] != nil || $0.value != "folder" }
        #expect(after == before.filter { !$0.key.hasPrefix("var/lib/imprint") && !$0.key.hasPrefix("var/log/imprint") })
        #expect(throws: AgentError.self) { try Agent.rollBack(nil, root: root) }
    }

    /// A root whose /etc links outside, whose files link outside, or dangle, is personalized inside the root only.
    @Test func hostileRoots() throws {
        let folder = try TemporaryDirectory()
        try folder.write("outside/hostname", "host-file\n")
        try folder.write("outside/machine-id", "ffffffffffffffffffffffffffffffff\n")
        let outsideBefore = try snapshot(folder.file("outside"))
        for layout in ["etc-link", "file-links", "dangling"] {
            let root = folder.file("root-\(layout)")
            try FileManager.default.createDirectory(atPath: root + "/var/lib/dbus", withIntermediateDirectories: true)
            switch layout {
            case "etc-link":
                try FileManager.default.createSymbolicLink(atPath: root + "/etc", withDestinationPath: folder.file("outside"))
            case "file-links":
                try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
                try FileManager.default.createSymbolicLink(atPath: root + "/etc/hostname", withDestinationPath: folder.file("outside/hostname"))
                try FileManager.default.createSymbolicLink(atPath: root + "/etc/machine-id", withDestinationPath: "../../../../../../outside/machine-id")
            default:
                try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
                try FileManager.default.createSymbolicLink(atPath: root + "/etc/hosts", withDestinationPath: "/nonexistent/hosts")
            }
            let target = try TargetRoot(root)
            _ = try Agent.run(request(try demoProfile()), root: target)
            #expect(try target.readTrimmedText("/etc/hostname") == "RM204-07", "\(layout)")
            #expect(try snapshot(folder.file("outside")) == outsideBefore, "\(layout) wrote outside its root")
        }
    }

    /// A run started while another holds the lock waits, then says which lock is busy.
    @Test func lockIsExclusive() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        let held = try RunLock(root: root, wait: 0, waiting: {})
        var told = false
        #expect {
            try Agent.run(request(try demoProfile()), root: root) { told = true }
        } throws: { error in
            String(describing: error).contains("/var/lib/imprint/lock")
        }
        #expect(told)
        withExtendedLifetime(held) {}
    }
}

@Suite struct OncePerUnitTests {
    /// A request with real randomness, so a machine-id or key made twice would differ.
    func fresh(_ steps: Set<AgentStep> = Set(AgentStep.allCases), force: Bool = false) throws -> RunRequest {
        RunRequest(
            profile: try demoProfile(), matched: [], steps: steps, force: force, source: "test", agentVersion: "test",
            lockWait: 1)
    }

    /// Every choice of steps, three times over, against a personalized root: nothing to do, and the machine-id, the
    /// host keys and every file stay as they were.
    @Test func everySelectionKeepsTheIdentity() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        let first = try Agent.run(try fresh(), root: root)
        #expect(first.result == .applied)
        let machineID = try root.readTrimmedText("/etc/machine-id")
        let keys = try HostKeysStep.current(root: root)
        let after = try snapshot(root.path)
        let all = AgentStep.allCases
        for mask in 1..<(1 << all.count) {
            let steps = Set(all.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element))
            for round in 1...3 {
                let outcome = try Agent.run(try fresh(steps), root: root)
                let name = "\(steps.sorted().map(\.rawValue)) round \(round)"
                #expect(outcome.result == .nothingToDo, "\(name): \(outcome.plan.effective.map(\.path))")
                #expect(outcome.identity == nil, "\(name)")
            }
        }
        #expect(try root.readTrimmedText("/etc/machine-id") == machineID)
        #expect(try HostKeysStep.current(root: root) == keys)
        #expect(try snapshot(root.path) == after)
    }

    /// A run of some steps on a new root makes the identity once: the full run after it keeps the machine-id and
    /// keys, a later --only host-keys keeps them and says why, and only --force renews them.
    @Test func identityMadeByAPartialRunIsKept() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        let partial = try Agent.run(try fresh(Set(AgentStep.allCases).subtracting([.network])), root: root)
        #expect(partial.result == .applied)
        let machineID = try root.readTrimmedText("/etc/machine-id")
        let keys = try HostKeysStep.current(root: root)
        #expect(machineID != "5d2b8a1f0c7e4e3a9b6d1c2e3f4a5b6c")
        let full = try Agent.run(try fresh(), root: root)
        #expect(full.result == .applied, "the network step had not run: this revision was not applied yet")
        #expect(!full.plan.effective.contains { $0.step == .machineID || $0.step == .hostKeys })
        #expect(try root.readTrimmedText("/etc/machine-id") == machineID)
        #expect(try HostKeysStep.current(root: root) == keys)
        let onlyKeys = try Agent.run(try fresh([.hostKeys, .identity]), root: root)
        #expect(onlyKeys.result == .nothingToDo)
        #expect(onlyKeys.plan.notes.contains("host keys kept: this unit already has its own (--force renews it)"))
        let forced = try Agent.run(try fresh([.hostKeys, .identity], force: true), root: root)
        #expect(forced.result == .applied)
        #expect(try HostKeysStep.current(root: root).map(\.fingerprint) != keys.map(\.fingerprint))
        #expect(try root.readTrimmedText("/etc/machine-id") == machineID, "--only host-keys --force renews the keys only")
        let newKeys = try HostKeysStep.current(root: root)
        #expect(try Agent.run(try fresh(), root: root).result == .nothingToDo)
        #expect(try Agent.run(try fresh([.machineID, .identity]), root: root).result == .nothingToDo)
        #expect(try HostKeysStep.current(root: root) == newKeys)
        #expect(try Agent.run(try fresh([.machineID, .identity], force: true), root: root).result == .applied)
        #expect(try root.readTrimmedText("/etc/machine-id") != machineID)
    }
}

@Suite struct RunFolderTests {
    /// A unit keeps the folders (backups, journal) of its newest five runs and of the run its state names, so old
    /// private host keys do not pile up; the newest run still rolls back.
    @Test func oldRunsArePruned() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        var names: [String] = []
        for round in 0..<8 {
            var forced = request(try demoProfile(), force: true)
            forced.time = Date(timeIntervalSince1970: 1_795_000_000 + Double(round) * 60)
            names.append(try Agent.run(forced, root: root).run)
        }
        #expect(try Journal.runs(root) == Array(names.suffix(Applier.keptRuns)))
        // A run of some steps that changes a file but not the state keeps the state's run.
        var renamed = try demoProfile(revision: 2)
        renamed.hostname = try Hostname("RM204-70")
        for round in 0..<6 {
            var partial = request(renamed, steps: [.hostname])
            partial.time = Date(timeIntervalSince1970: 1_796_000_000 + Double(round) * 60)
            partial.profile.hostname = try Hostname("RM204-7\(round)")
            _ = try Agent.run(partial, root: root)
        }
        let runs = try Journal.runs(root)
        #expect(runs.count == Applier.keptRuns + 1)
        #expect(runs.first == names.last, "the run the state names is kept")
        let backups = try runs.flatMap { run in try root.listFolder(Journal.folder(run) + "/backup") }
        #expect(!backups.isEmpty)
        #expect(try Agent.rollBack(nil, root: root).state == .rolledBack)
    }
}

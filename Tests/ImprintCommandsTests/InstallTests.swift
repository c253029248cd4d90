import Foundation
import ImprintCommands
import ImprintCore
import ImprintInventory
import ImprintTestSupport
import Testing

/// Every file under `path` with its type, mode and contents hash, to show that a command changed nothing.
func treeSnapshot(_ path: String) throws -> String {
    try runProcess("/bin/sh", ["-c", "cd '\(path)' && find . -printf '%p %y %m %l\\n' | sort && find . -type f -exec sha256sum {} + | sort"]).output
}

@Suite struct InstallTests {
    var debugBinary: String { packageRoot.appendingPathComponent(".build/debug/imprint").path }

    /// A binary that needs the shared Swift runtime is refused, naming the runtime and the missing libraries,
    /// and the root is left as it was.
    @Test func refusesBinaryThatCannotStart() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let root = try folder.copyFixture("roots/rm204-master")
        let before = try treeSnapshot(root)
        let result = imprint(["install", "--root", root, "--binary", debugBinary, "--unit", "RM204-07"], in: folder)
        #expect(result.status == 65)
        #expect(result.err.contains("libswiftCore.so"))
        #expect(result.err.contains("--static-swift-stdlib"))
        #expect(result.err.contains("libsqlite3.so.0 (Debian package libsqlite3-0)"))
        #expect(result.err.contains("libzstd.so.1 (Debian package libzstd1)"))
        #expect(try treeSnapshot(root) == before)
    }

    /// A dry run prints the service as a diff and the binaries by size, and writes nothing.
    @Test func dryRunWritesNothing() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let root = try folder.copyFixture("roots/rm204-master")
        let before = try treeSnapshot(root)
        let result = imprint(["install", "--root", root, "--binary", debugBinary, "--force", "--dry-run", "--unit", "RM204-07"], in: folder)
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("+++ b/etc/systemd/system/imprint-agent.service"))
        #expect(result.out.contains("+ExecStart=/usr/local/sbin/imprint run --root / --inventory /var/lib/imprint/inventory.db --source boot"))
        #expect(result.out.contains("@@ binary: "))
        #expect(result.out.contains("# the agent, Swift runtime linked in, stripped: "))
        #expect(result.out.contains("-5d2b8a1f0c7e4e3a9b6d1c2e3f4a5b6c\n+uninitialized"))
        #expect(try treeSnapshot(root) == before)
    }

    /// With --server the root gets the server's address (and with --ca-file the site's authority), the report service
    /// and timer (enabled, accepted by `systemd-analyze verify`), and a copy of the inventory without the secret
    /// field values no attached file uses (a first-boot hook's credential, which the server hands out); a server
    /// address that is not a server's root URL, or an authority file with no PEM certificate, is refused before
    /// anything is written.
    @Test func installsReportingToAServer() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        for command in [
            ["inventory", "field", "add", "join_otp", "--secret"], ["inventory", "field", "add", "licence_key", "--secret"],
            ["inventory", "set", "RM204-07", "--field", "join_otp=OTP-for-the-hook", "--field", "licence_key=KEY-for-the-file"],
            ["inventory", "file", "add", "/etc/cad/licence.key", "--group", "RM204", "--from-field", "licence_key"],
        ] {
            let made = imprint(command, in: folder)
            #expect(made.status == 0, "\(command): \(made.err)")
        }
        let root = try folder.copyFixture("roots/rm204-master")
        let before = try treeSnapshot(root)
        let bad = imprint(["install", "--root", root, "--binary", debugBinary, "--force", "--unit", "RM204-07", "--server", "ftp://imprint.example.org/v1"], in: folder)
        #expect(bad.status == 64)
        #expect(bad.err.contains("'--server'") && bad.err.contains("http"))
        #expect(try treeSnapshot(root) == before)

        let notPEM = try folder.write("site-ca.der", "not a certificate")
        let badAuthority = imprint(["install", "--root", root, "--binary", debugBinary, "--force", "--unit", "RM204-07", "--server", "https://imprint.example.org:8443/", "--ca-file", notPEM], in: folder)
        #expect(badAuthority.status == 65 && badAuthority.err.contains("holds no PEM certificate"), "\(badAuthority.err)")
        #expect(try treeSnapshot(root) == before)

        let authority = try folder.write("site-ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        let result = imprint(["install", "--root", root, "--binary", debugBinary, "--force", "--unit", "RM204-07", "--server", "https://imprint.example.org:8443/", "--ca-file", authority], in: folder)
        #expect(result.status == 0, "\(result.err)")
        #expect(try String(contentsOfFile: root + "/etc/imprint/server", encoding: .utf8) == "https://imprint.example.org:8443\n")
        #expect(FileManager.default.contents(atPath: root + "/etc/imprint/server-ca.pem") == FileManager.default.contents(atPath: authority))
        let unitCopy = try Data(contentsOf: URL(fileURLWithPath: root + "/var/lib/imprint/inventory.db"))
        #expect(unitCopy.range(of: Data("OTP-for-the-hook".utf8)) == nil, "the hook's credential is in the unit's copy")
        #expect(unitCopy.range(of: Data("KEY-for-the-file".utf8)) != nil, "the boot run needs the file's value")
        let units = root + "/etc/systemd/system"
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: units + "/multi-user.target.wants/imprint-report.service") == "/etc/systemd/system/imprint-report.service")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: units + "/timers.target.wants/imprint-report.timer") == "/etc/systemd/system/imprint-report.timer")
        let service = try String(contentsOfFile: units + "/imprint-report.service", encoding: .utf8)
        #expect(service.contains("ExecStart=/usr/local/sbin/imprint report --root /"))
        #expect(service.contains("After=network-online.target"))
        // systemd reads both files as a unit would: ExecStart pointed at a binary that exists here.
        let check = try TemporaryDirectory()
        let copy = try check.write("imprint-report.service", service.replacingOccurrences(of: "/usr/local/sbin/imprint", with: debugBinary))
        let timer = try check.write("imprint-report.timer", try String(contentsOfFile: units + "/imprint-report.timer", encoding: .utf8))
        let verified = try runProcess("/usr/bin/systemd-analyze", ["verify", copy, timer])
        #expect(verified.status == 0 && verified.error.isEmpty, "\(verified.error)")
        // Without --server none of it is written.
        let plain = try folder.copyFixture("roots/rm204-master", as: "plain")
        #expect(imprint(["install", "--root", plain, "--binary", debugBinary, "--force", "--unit", "RM204-07"], in: folder).status == 0)
        #expect(!FileManager.default.fileExists(atPath: plain + "/etc/imprint/server"))
        let plainCopy = try Data(contentsOf: URL(fileURLWithPath: plain + "/var/lib/imprint/inventory.db"))
        #expect(plainCopy.range(of: Data("OTP-for-the-hook".utf8)) != nil, "without a server the copy must carry it")
        #expect(!FileManager.default.fileExists(atPath: plain + "/etc/systemd/system/imprint-report.service"))
    }

    /// The agent goes in stripped, says its size before and after, and still runs from the target root.
    @Test func installsStrippedAgentThatRuns() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let root = try folder.copyFixture("roots/rm204-master")
        let result = imprint(["install", "--root", root, "--binary", debugBinary, "--force", "--unit", "RM204-07"], in: folder)
        #expect(result.status == 0, "\(result.err)")
        let installed = root + "/usr/local/sbin/imprint"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: installed)[.size] as? Int)
        let original = try #require(try FileManager.default.attributesOfItem(atPath: debugBinary)[.size] as? Int)
        #expect(size < original)
        let megabytes = { (bytes: Int) in String(format: "%.1f MB", Double(bytes) / 1_000_000) }
        #expect(result.out.contains(
            "/usr/local/sbin/imprint  (the agent, Swift runtime linked in, stripped: \(megabytes(size)) (\(megabytes(original)) with debug info))"))
        let version = try runProcess(installed, ["--version"])
        #expect(version.status == 0 && version.output == imprintVersion + "\n", "\(version.error)")
    }

    /// An install writes the agent, a working inventory copy, the master's id and an enabled service that
    /// systemd-analyze accepts; a second install changes nothing; a broken override is caught by the same check.
    @Test func installsEnabledServiceThatSystemdAccepts() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let root = try folder.copyFixture("roots/rm204-master")
        let result = imprint(["install", "--root", root, "--binary", debugBinary, "--force", "--model", "OptiPlex 7090"], in: folder)
        #expect(result.status == 0, "\(result.err)")

        let binary = try FileManager.default.attributesOfItem(atPath: root + "/usr/local/sbin/imprint")
        #expect((binary[.posixPermissions] as? Int) == 0o755)
        let copy = try Inventory(path: root + "/var/lib/imprint/inventory.db", readOnly: true)
        #expect(try copy.units().count == 30)
        #expect(try String(contentsOfFile: root + "/etc/machine-id", encoding: .utf8) == "uninitialized\n")
        #expect(try String(contentsOfFile: root + "/var/lib/imprint/master-machine-id", encoding: .utf8) == "5d2b8a1f0c7e4e3a9b6d1c2e3f4a5b6c\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/etc/systemd/system/sysinit.target.wants/imprint-agent.service")
            == "/etc/systemd/system/imprint-agent.service")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/etc/systemd/system/multi-user.target.wants/imprint-printers.service")
            == "/etc/systemd/system/imprint-printers.service")
        let printersUnit = try String(contentsOfFile: root + "/etc/systemd/system/imprint-printers.service", encoding: .utf8)
        #expect(printersUnit.contains("\nAfter=network-online.target cups.service imprint-agent.service\n"))
        #expect(printersUnit.contains("\nExecStart=/usr/local/sbin/imprint run --root / --inventory /var/lib/imprint/inventory.db --only printers"))

        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/etc/systemd/system/multi-user.target.wants/imprint-hooks.service")
            == "/etc/systemd/system/imprint-hooks.service")
        let hooksUnit = try String(contentsOfFile: root + "/etc/systemd/system/imprint-hooks.service", encoding: .utf8)
        // After the report service, which gets a unit linked to a server its token before the hooks ask with it.
        #expect(hooksUnit.contains("\nAfter=network-online.target imprint-agent.service imprint-report.service\n"))
        #expect(hooksUnit.contains("\nExecStart=/usr/local/sbin/imprint run --root / --inventory /var/lib/imprint/inventory.db --first-boot-hooks"))

        // The printers service has systemd's default dependencies, which this small root lacks: DebianRootTests
        // verifies it among Debian's units.
        let verify = try runProcess("/usr/bin/systemd-analyze", ["verify", "--root=\(root)", "/etc/systemd/system/imprint-agent.service"])
        #expect(verify.status == 0 && verify.error.isEmpty, "\(verify.error)")

        let again = imprint(["install", "--root", root, "--binary", debugBinary, "--force", "--json", "--model", "OptiPlex 7090"], in: folder)
        #expect(again.status == 0)
        let view = try JSONSerialization.jsonObject(with: Data(again.out.utf8)) as? [String: Any]
        let actions = (view?["files"] as? [[String: Any]])?.compactMap { $0["action"] as? String }
        #expect(actions == ["unchanged", "unchanged", "unchanged", "unchanged", "unchanged"])

        let other = try TemporaryDirectory()
        let broken = try other.copyFixture("roots/rm204-master")
        try FileManager.default.createDirectory(atPath: broken + "/etc/imprint/templates", withIntermediateDirectories: true)
        try "[Service]\nExecStart=imprint-without-a-path run\n".write(
            toFile: broken + "/etc/imprint/templates/imprint-agent.service", atomically: true, encoding: .utf8)
        let overridden = imprint(["install", "--root", broken, "--binary", debugBinary, "--force", "--whole-inventory"], in: folder)
        #expect(overridden.out.contains("imprint-agent.service comes from the root's override /etc/imprint/templates/imprint-agent.service"))
        let refused = try runProcess("/usr/bin/systemd-analyze", ["verify", "--root=\(broken)", "/etc/systemd/system/imprint-agent.service"])
        #expect(refused.status != 0 || refused.error.contains("imprint-without-a-path"))
    }

    /// The unit's copy of the inventory holds only what the unit can need: one unit for --unit or --facts, a
    /// model's or a group's units, never another site's Wi-Fi passphrase; with no scope install refuses.
    @Test func copyHoldsOnlyWhatTheUnitNeeds() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        #expect(imprint(["inventory", "group", "add", "FARSITE"], in: folder).status == 0)
        let laptop = imprint([
            "inventory", "add", "FAR-LAPTOP-1", "--group", "FARSITE", "--model", "Latitude 5440", "--serial", "FARSERIAL9",
            "--mac", "aa:bb:cc:00:00:09", "--wifi-ssid", "far-staff", "--wifi-passphrase-file", try folder.write("passphrase", "secretpass\n"),
        ], in: folder)
        #expect(laptop.status == 0, "\(laptop.err)")
        let site = try Data(contentsOf: URL(fileURLWithPath: folder.file("inventory.db")))
        #expect(site.range(of: Data("secretpass".utf8)) != nil, "the site's inventory holds it, so the check below can fail")

        let unscoped = imprint(["install", "--root", try folder.copyFixture("roots/rm204-master", as: "none"), "--binary", debugBinary, "--force"], in: folder)
        #expect(unscoped.status == 64)
        #expect(unscoped.err.contains("'--whole-inventory'"), "\(unscoped.err)")

        for (name, scope, units) in [
            ("unit", ["--unit", "RM204-07"], 1), ("facts", ["--facts", fixturePath("demo/facts/RM204-07.json")], 1),
            ("model", ["--model", "optiplex 7090"], 30), ("group", ["--group", "RM204"], 30), ("whole", ["--whole-inventory"], 31),
        ] {
            let root = try folder.copyFixture("roots/rm204-master", as: name)
            let result = imprint(["install", "--root", root, "--binary", debugBinary, "--force"] + scope, in: folder)
            #expect(result.status == 0, "\(name): \(result.err)")
            #expect(result.out.contains("inventory copy: \(units) unit"), "\(name): \(result.out)")
            let path = root + "/var/lib/imprint/inventory.db"
            #expect(try Inventory(path: path, readOnly: true).units().count == units, "\(name)")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect((bytes.range(of: Data("secretpass".utf8)) != nil) == (name == "whole"), "\(name)")
            #expect((bytes.range(of: Data("FARSERIAL9".utf8)) != nil) == (name == "whole"), "\(name)")
            if units == 1 {
                #expect(bytes.range(of: Data("7XK08Q".utf8)) == nil, "\(name): another seat's serial is in the copy")
                #expect(bytes.range(of: Data("3c:52:82:20:04:08".utf8)) == nil, "\(name): another seat's MAC is in the copy")
            }
        }
    }

    /// The first applied run on a unit's copy shrinks it to the unit's own record, says so in its output and
    /// identity line, and no other seat's serial or MAC stays in the file; a seat whose record is not in a unit's
    /// copy gets the not-found error and nothing changes.
    @Test func firstRunShrinksTheCopy() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let root = try folder.copyFixture("roots/rm204-master")
        #expect(imprint(["install", "--root", root, "--binary", debugBinary, "--force", "--model", "OptiPlex 7090"], in: folder).status == 0)
        let copy = root + "/var/lib/imprint/inventory.db"
        let other = try TemporaryDirectory()
        let otherRoot = try other.copyFixture("roots/rm204-master")
        let installedSnapshot = try treeSnapshot(otherRoot)

        let run = imprint(["run", "--root", root, "--inventory", copy, "--facts", fixturePath("demo/facts/RM204-07.json")], in: folder)
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.contains("inventory   this unit's copy now holds its own record only"))
        let line = try String(contentsOfFile: root + "/var/log/imprint/identity.jsonl", encoding: .utf8)
        #expect(line.contains("\"inventoryCopy\":\"own record only\""))
        #expect(try Inventory(path: copy, readOnly: true).units().map(\.draft.hostname.value) == ["RM204-07"])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: copy))
        for seat in ["7XK08Q", "3c:52:82:20:04:08", "7XK01Q70", "3c:52:82:20:04:30"] {
            #expect(bytes.range(of: Data(seat.utf8)) == nil, "\(seat) is still in the unit's copy")
        }
        #expect(imprint(["run", "--root", root, "--inventory", copy, "--facts", fixturePath("demo/facts/RM204-07.json")], in: folder)
            .out.contains("nothing to do"))
        // The site's inventory is never shrunk, and a run on a seat the copy lacks changes nothing.
        #expect(try Inventory(path: folder.file("inventory.db"), readOnly: true).units().count == 30)
        let missing = imprint(["run", "--root", otherRoot, "--inventory", copy, "--facts", fixturePath("demo/facts/RM204-08.json")], in: other)
        #expect(missing.status == 10, "\(missing.err)")
        #expect(try treeSnapshot(otherRoot) == installedSnapshot)
    }

    /// An empty group that lets unknown units enrol is kept in the copy, so a unit enrols offline from it; a model no
    /// unit has is refused, naming the models there are.
    @Test func enrolmentGroupTravelsWithTheCopy() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        #expect(imprint(["inventory", "group", "add", "LAB", "--naming-pattern", "LAB-{serial}", "--enroll", "yes"], in: folder).status == 0)
        let typo = imprint(["install", "--root", try folder.copyFixture("roots/rm204-master", as: "typo"), "--binary", debugBinary,
            "--force", "--model", "OptiPlex 9999"], in: folder)
        #expect(typo.status == 10 && typo.err.contains("no unit of model 'OptiPlex 9999'") && typo.err.contains("'optiplex 7090'"), "\(typo.err)")
        let root = try folder.copyFixture("roots/rm204-master")
        let install = imprint(["install", "--root", root, "--binary", debugBinary, "--force", "--group", "LAB"], in: folder)
        #expect(install.status == 0 && install.out.contains("inventory copy: 0 units"), "\(install.err)")
        let copy = root + "/var/lib/imprint/inventory.db"
        let run = imprint(["run", "--root", root, "--inventory", copy, "--facts", fixturePath("demo/facts/not-in-inventory.json")], in: folder)
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.hasPrefix("enrolled into LAB as LAB-7XK99QZZ"))
        #expect(try Inventory(path: folder.file("inventory.db"), readOnly: true).units().count == 30, "the site's inventory is untouched")
    }
}

import ArgumentParser
import Foundation
@testable import ImprintCommands
import ImprintTestSupport
import Logging
import Testing

/// Output captured from a command run in-process.
final class Captured: @unchecked Sendable {
    private let lock = NSLock()
    private var outText = ""
    private var errText = ""
    var out: String { lock.withLock { outText } }
    var err: String { lock.withLock { errText } }
    func appendOut(_ text: String) { lock.withLock { outText += text } }
    func appendErr(_ text: String) { lock.withLock { errText += text } }
}

struct CommandResult {
    var status: Int32
    var out: String
    var err: String
}

/// Parses and runs `arguments` against a context whose inventory lives in `folder`, as the real binary would.
func imprint(_ arguments: [String], in folder: TemporaryDirectory) -> CommandResult {
    let captured = Captured()
    let context = CommandContext(
        output: { captured.appendOut($0) }, errorOutput: { captured.appendErr($0) },
        environment: ["IMPRINT_INVENTORY": folder.file("inventory.db")],
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    do {
        let command = try Imprint.parseAsRoot(arguments)
        guard let runnable = command as? any ContextCommand else {
            return CommandResult(status: 0, out: Imprint.helpMessage(for: type(of: command)), err: "")
        }
        try runnable.run(context)
        return CommandResult(status: 0, out: captured.out, err: captured.err)
    } catch let exit as ExitCode {
        return CommandResult(status: exit.rawValue, out: captured.out, err: captured.err)
    } catch let failure where !(failure is CommandFailure) && Imprint.exitCode(for: failure).rawValue != 1 {
        return CommandResult(status: Imprint.exitCode(for: failure).rawValue, out: captured.out, err: Imprint.message(for: failure))
    } catch {
        let failure = CommandFailure(error)
        return CommandResult(status: failure.status.rawValue, out: captured.out, err: captured.err + failure.message)
    }
}

func demo(_ folder: TemporaryDirectory) {
    _ = imprint(["inventory", "init"], in: folder)
    for name in ["printers", "groups", "units"] {
        _ = imprint(["inventory", "import", fixturePath("demo/\(name).csv")], in: folder)
    }
}

@Suite struct CommandTests {
    /// Identify finds the demo unit from its sysfs fixture, in text and JSON.
    @Test func identifyDemoUnit() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let text = imprint(["identify", "--root", fixturePath("sysfs/optiplex-7090")], in: folder)
        #expect(text.status == 0)
        #expect(text.out.hasPrefix("RM204-07 (RM204-07.school.example.org, revision 1)"))
        let json = imprint(["identify", "--facts", fixturePath("demo/facts/RM204-12.json"), "--json"], in: folder)
        let object = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
        #expect(object?["hostname"] as? String == "RM204-12")
    }

    /// Not found, conflict and placeholder-only facts have their own exit statuses and say what to do.
    @Test func identifyFailures() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let missing = imprint(["identify", "--facts", fixturePath("demo/facts/not-in-inventory.json")], in: folder)
        #expect(missing.status == ExitStatus.notFound.rawValue)
        #expect(missing.err.contains("imprint inventory add HOSTNAME --serial 7XK99QZZ"))
        let placeholder = imprint(["identify", "--root", fixturePath("sysfs/placeholder-board")], in: folder)
        #expect(placeholder.status == ExitStatus.notFound.rawValue)
        #expect(placeholder.err.contains("To be filled by O.E.M."))

        let conflictFacts = try folder.write("conflict.json", #"{"serial": "7XK07QF9", "macs": ["3c:52:82:20:04:08"]}"#)
        let conflict = imprint(["identify", "--facts", conflictFacts], in: folder)
        #expect(conflict.status == ExitStatus.conflict.rawValue)
        #expect(conflict.err.contains("RM204-07") && conflict.err.contains("RM204-08"))

        let onlyPlaceholders = try folder.write("ph.json", #"{"serial": "Default string", "uuid": "00000000-0000-0000-0000-000000000000"}"#)
        #expect(imprint(["identify", "--facts", onlyPlaceholders], in: folder).status == ExitStatus.noIdentifiers.rawValue)
    }

    /// Identify against a missing inventory says how to create one and creates nothing.
    @Test func identifyWithoutInventory() throws {
        let folder = try TemporaryDirectory()
        let result = imprint(["identify", "--facts", fixturePath("demo/facts/RM204-01.json")], in: folder)
        #expect(result.status == ExitStatus.missingInput.rawValue)
        #expect(result.err.contains("imprint inventory init"))
        #expect(!FileManager.default.fileExists(atPath: folder.file("inventory.db")))
    }

    /// A hostname with a newline is refused at the command line, naming the value; nothing is stored.
    @Test func addRefusesNewline() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let result = imprint(["inventory", "add", "evil\nname"], in: folder)
        #expect(result.status == ExitStatus.usage.rawValue)
        #expect(result.err.contains("'evil\\nname'"))
        #expect(imprint(["inventory", "list", "--json"], in: folder).out.components(separatedBy: "\"hostname\"").count == 31)
    }

    /// Add, set and show work together; a duplicate MAC is refused naming the unit that has it.
    @Test func addSetShow() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let added = imprint(
            ["inventory", "add", "RM204-31", "--group", "RM204", "--serial", "NEW31", "--mac", "3C:52:82:20:04:1F",
             "--ipv4", "10.20.4.131/24", "--gateway4", "10.20.4.1"], in: folder)
        #expect(added.status == 0)
        let duplicate = imprint(["inventory", "add", "RM204-32", "--mac", "3c:52:82:20:04:1f"], in: folder)
        #expect(duplicate.status == ExitStatus.invalidInput.rawValue)
        #expect(duplicate.err.contains("RM204-31"))
        let badGateway = imprint(["inventory", "set", "RM204-31", "--gateway4", "10.99.0.1"], in: folder)
        #expect(badGateway.status == ExitStatus.invalidInput.rawValue)
        #expect(imprint(["inventory", "set", "NEW31", "--mtu", "9000", "--notes", "window seat"], in: folder).status == 0)
        let shown = imprint(["inventory", "show", "RM204-31", "--json"], in: folder)
        let object = try JSONSerialization.jsonObject(with: Data(shown.out.utf8)) as? [String: Any]
        #expect(object?["revision"] as? Int == 2)
        let interfaces = object?["interfaces"] as? [[String: Any]]
        #expect(interfaces?.first?["mtu"] as? Int == 9000)
        #expect(interfaces?.first?["addresses"] as? [String] == ["10.20.4.131/24"])
    }

    /// A list option takes the separators a CSV cell takes: `--dns '10.0.0.53;10.0.0.54'` sets what a `dns` cell
    /// holding the same text sets, for a unit and for a group.
    @Test func listOptionsSplitLikeCSVCells() throws {
        let folder = try TemporaryDirectory()
        #expect(imprint(["inventory", "init"], in: folder).status == 0)
        let csv = try folder.write(
            "units.csv", "hostname,macs,ipv4,dns,search\nRM9-01,3c:52:82:09:00:01,10.9.0.1/24,10.0.0.53;10.0.0.54,a.example;b.example\n")
        #expect(imprint(["inventory", "import", csv], in: folder).status == 0)
        let added = imprint(
            ["inventory", "add", "RM9-02", "--mac", "3c:52:82:09:00:02", "--ipv4", "10.9.0.2/24",
             "--dns", "10.0.0.53;10.0.0.54", "--search", "a.example;b.example"], in: folder)
        #expect(added.status == 0, "\(added.err)")
        func firstInterface(_ unit: String) throws -> [String: Any]? {
            let shown = imprint(["inventory", "show", unit, "--json"], in: folder).out
            let object = try JSONSerialization.jsonObject(with: Data(shown.utf8)) as? [String: Any]
            return (object?["interfaces"] as? [[String: Any]])?.first
        }
        let fromCSV = try firstInterface("RM9-01")
        let fromFlags = try firstInterface("RM9-02")
        #expect(fromCSV?["dns"] as? [String] == ["10.0.0.53", "10.0.0.54"])
        #expect(fromFlags?["dns"] as? [String] == ["10.0.0.53", "10.0.0.54"])
        #expect(fromFlags?["search"] as? [String] == fromCSV?["search"] as? [String])

        #expect(imprint(["inventory", "group", "add", "RM9", "--dns", "10.0.0.53;10.0.0.54"], in: folder).status == 0)
        let group = imprint(["inventory", "group", "show", "RM9", "--json"], in: folder).out
        let groupObject = try JSONSerialization.jsonObject(with: Data(group.utf8)) as? [String: Any]
        #expect(groupObject?["dns"] as? [String] == ["10.0.0.53", "10.0.0.54"])
    }

    /// Import reports bad rows with line numbers and the invalid-input status; --skip-invalid imports the rest.
    @Test func importReportsRows() throws {
        let folder = try TemporaryDirectory()
        _ = imprint(["inventory", "init"], in: folder)
        let file = try folder.write("room.csv", "hostname,macs\npc-1,3c:52:82:aa:00:01\npc_2,3c:52:82:aa:00:02\npc-3,3c:52:82:aa:00:01\n")
        let failed = imprint(["inventory", "import", file], in: folder)
        #expect(failed.status == ExitStatus.invalidInput.rawValue)
        #expect(failed.err.contains("line 3:") && failed.err.contains("line 4:"))
        let skipped = imprint(["inventory", "import", file, "--skip-invalid", "--json"], in: folder)
        #expect(skipped.status == ExitStatus.invalidInput.rawValue)
        let report = try JSONSerialization.jsonObject(with: Data(skipped.out.utf8)) as? [String: Any]
        #expect((report?["skipped"] as? [String])?.count == 3)
    }

    /// A shared static address and a broadcast address are refused by import (every bad row listed, nothing
    /// imported), add and set, with exit status 65 and the messages README's "What happens when..." table quotes.
    @Test func importRefusesSharedAddresses() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        func expectRefused(_ result: CommandResult, _ messages: [String], quotedInREADME: Bool = true) {
            #expect(result.status == ExitStatus.invalidInput.rawValue, "\(result.err)")
            for message in messages {
                #expect(result.err.contains(message), "\(result.err)")
                if quotedInREADME { #expect(readme.contains("`\(message)`"), "README quotes: \(message)") }
            }
        }
        let file = try folder.write("units.csv", """
            hostname,group,macs,ipv4
            RM204-41,RM204,3c:52:82:20:04:41,10.20.4.141/24
            RM204-42,RM204,3c:52:82:20:04:42,10.20.4.150/24
            RM204-43,RM204,3c:52:82:20:04:43,10.20.4.150/24
            RM204-44,RM204,3c:52:82:20:04:44,10.20.4.107/24
            RM204-45,RM204,3c:52:82:20:04:45,10.20.4.255/24
            RM204-46,RM204,3c:52:82:20:04:46,10.20.4.146/24

            """)
        let before = try Data(contentsOf: URL(fileURLWithPath: folder.file("inventory.db")))
        expectRefused(imprint(["inventory", "import", file], in: folder), [
            "line 3: address 10.20.4.150 is also on line 4 (RM204-43)",
            "line 4: address 10.20.4.150 is also on line 3 (RM204-42)",
            "address 10.20.4.107 already belongs to unit RM204-07; give each unit its own address, or change RM204-07's first with 'imprint inventory set RM204-07 --ipv4 ADDRESS/PREFIX'",
            "invalid address '10.20.4.255/24': is the broadcast address of 10.20.4.0/24, which no unit can have; give a host address from 10.20.4.1 to 10.20.4.254",
        ])
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder.file("inventory.db"))) == before, "nothing is written")

        expectRefused(imprint(["inventory", "add", "RM204-44", "--mac", "3c:52:82:20:04:44", "--ipv4", "10.20.4.107/24"], in: folder), [
            "address 10.20.4.107 already belongs to unit RM204-07;",
        ], quotedInREADME: false)
        expectRefused(imprint(["inventory", "set", "RM204-08", "--ipv4", "10.20.4.107/24"], in: folder), [
            "address 10.20.4.107 already belongs to unit RM204-07;",
        ], quotedInREADME: false)
        expectRefused(imprint(["inventory", "add", "RM204-45", "--mac", "3c:52:82:20:04:45", "--ipv4", "10.20.4.255/24"], in: folder), [
            "invalid address '10.20.4.255/24': is the broadcast address of 10.20.4.0/24, which no unit can have;",
        ], quotedInREADME: false)
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder.file("inventory.db"))) == before, "nothing is written")

        let skipped = imprint(["inventory", "import", file, "--skip-invalid"], in: folder)
        #expect(skipped.status == ExitStatus.invalidInput.rawValue)
        #expect(skipped.out.hasPrefix("imported units: 2 added, 0 updated, 0 unchanged, 4 skipped\n"))
    }

    /// A unit naming a group the inventory does not have is refused by import (every such row listed, nothing
    /// imported), add and set, naming the closest existing group, with exit status 65 and the messages README's
    /// "What happens when..." table quotes; --create-groups creates the groups on purpose.
    @Test func unknownGroupRefused() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let file = try folder.write("units.csv", """
            hostname,group,macs
            RM204-41,RM024,3c:52:82:20:04:41
            RM204-42,RM204,3c:52:82:20:04:42
            RM204-43,RM024,3c:52:82:20:04:43

            """)
        let before = try Data(contentsOf: URL(fileURLWithPath: folder.file("inventory.db")))
        let csvMessage = "no group 'RM024' (the closest existing group is 'RM204'); fix the group name, "
            + "or import with --create-groups to create the groups the file names"
        let commandMessage = "no group 'RM024' (the closest existing group is 'RM204'); fix the group name, "
            + "or create it first with 'imprint inventory group add RM024'"
        #expect(readme.contains("`line 2: \(csvMessage)`") && readme.contains("`\(commandMessage)`"))
        let imported = imprint(["inventory", "import", file], in: folder)
        #expect(imported.status == ExitStatus.invalidInput.rawValue)
        #expect(imported.err.contains("2 bad rows, nothing imported"))
        #expect(imported.err.contains("line 2: \(csvMessage)") && imported.err.contains("line 4: \(csvMessage)"))
        for arguments in [["add", "RM204-41", "--group", "RM024"], ["set", "RM204-07", "--group", "RM024"]] {
            let refused = imprint(["inventory"] + arguments, in: folder)
            #expect(refused.status == ExitStatus.invalidInput.rawValue)
            #expect(refused.err.contains(commandMessage), "\(refused.err)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder.file("inventory.db"))) == before, "nothing is written")

        let created = imprint(["inventory", "import", file, "--create-groups"], in: folder)
        #expect(created.status == 0)
        #expect(created.out == "imported units: 3 added, 0 updated, 0 unchanged, 0 skipped\ncreated groups: RM024\n")
        #expect(imprint(["inventory", "list", "--group", "RM024"], in: folder).out.hasSuffix("2 units\n"))
    }

    /// The import help explains --create-groups and the refused groups and addresses, as README's inventory table
    /// lists the flag; add's --group says the group must exist.
    @Test func importHelpExplainsGroupsAndAddresses() throws {
        func help(_ command: any ParsableCommand.Type) -> String {
            Imprint.helpMessage(for: command).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        let text = help(InventoryImport.self)
        #expect(text.contains("--create-groups Create the groups units name that do not exist yet, with default settings"))
        #expect(text.contains("a group the inventory does not have is a bad row naming the closest existing group"))
        #expect(text.contains("an address on two rows, or already another unit's, is a bad row naming the other unit, "
            + "and so is a subnet's network or broadcast address"))
        #expect(help(InventoryAdd.self).contains("inherits; it must exist ('inventory group add')"))
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("`import FILE [--skip-invalid] [--update] [--create-groups] [--dry-run] [--json]`"))
    }

    /// Export with -o writes a private file that imports back.
    @Test func exportToFile() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let out = folder.file("units.csv")
        #expect(imprint(["inventory", "export", "-o", out], in: folder).status == 0)
        #expect(try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int == 0o600)
        #expect(try String(contentsOfFile: out, encoding: .utf8).components(separatedBy: "\n").count == 32)
        #expect(imprint(["inventory", "export", "-o", out, "--kind", "groups"], in: folder).status == 0)
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("name,domain"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".imprint-") }.isEmpty)
    }

    /// Naming from a file continues the room's numbering.
    @Test func nameFromFile() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let list = try folder.write("serials.txt", "# new seats\nNEWA\n\nNEWB\n")
        let result = imprint(["inventory", "name", "--group", "RM204", "--from", list], in: folder)
        #expect(result.status == 0)
        #expect(result.out == "RM204-31  serial NEWA\nRM204-32  serial NEWB\n")
    }

    /// Group and printer management refuse what would break the inventory.
    @Test func groupsAndPrinters() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        #expect(imprint(["inventory", "printer", "add", "bad name", "--uri", "ipp://x/y"], in: folder).status == ExitStatus.usage.rawValue)
        #expect(imprint(["inventory", "printer", "add", "lab", "--uri", "ipp://10.0.0.9/ipp/print"], in: folder).status == 0)
        #expect(imprint(["inventory", "group", "add", "LAB", "--printer", "lab", "--default-printer", "lab", "--naming-pattern", "LAB-{###}"], in: folder).status == 0)
        #expect(imprint(["inventory", "printer", "remove", "lab"], in: folder).status == ExitStatus.invalidInput.rawValue)
        let shown = imprint(["inventory", "group", "show", "LAB", "--json"], in: folder)
        #expect(shown.out.contains("\"namingPattern\" : \"LAB-{###}\""))
    }

    /// An unknown machine is refused by run; with --enroll it joins the group under a name built from its own
    /// serial, and says so in its output, identity line and history; a counter pattern is refused offline.
    @Test func runEnrols() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let root = try folder.copyFixture("roots/rm204-master")
        let facts = fixturePath("demo/facts/not-in-inventory.json")
        let refused = imprint(["run", "--root", root, "--facts", facts], in: folder)
        #expect(refused.status == ExitStatus.notFound.rawValue)
        let counter = imprint(["run", "--root", root, "--facts", facts, "--enroll", "RM204"], in: folder)
        #expect(counter.status == ExitStatus.invalidInput.rawValue, "\(counter.err)")
        #expect(counter.err.contains("names units with a counter (RM204-{##})"))
        #expect(try String(contentsOfFile: root + "/etc/hostname", encoding: .utf8) == "master\n")
        #expect(imprint(["inventory", "group", "set", "RM204", "--naming-pattern", "RM204-{serial}"], in: folder).status == 0)
        let preview = imprint(["run", "--root", root, "--facts", facts, "--enroll", "RM204", "--dry-run"], in: folder)
        #expect(preview.out.hasPrefix("would enrol into RM204 as RM204-7XK99QZZ\n"), "\(preview.out)")
        #expect(imprint(["inventory", "show", "RM204-7XK99QZZ"], in: folder).status == ExitStatus.notFound.rawValue)
        let enrolled = imprint(["run", "--root", root, "--facts", facts, "--enroll", "RM204"], in: folder)
        #expect(enrolled.status == 0, "\(enrolled.err)")
        #expect(enrolled.out.hasPrefix("enrolled into RM204 as RM204-7XK99QZZ\n"))
        #expect(try String(contentsOfFile: root + "/etc/hostname", encoding: .utf8) == "RM204-7XK99QZZ\n")
        let line = try String(contentsOfFile: root + "/var/log/imprint/identity.jsonl", encoding: .utf8)
        #expect(line.contains("\"enrolledInto\":\"RM204\""))
        let history = imprint(["inventory", "history", "RM204-7XK99QZZ"], in: folder).out
        #expect(history.contains("applied") && history.contains("enrolled into RM204 as RM204-7XK99QZZ"), "\(history)")
    }

    /// A technician's re-run of some steps on a personalized unit says nothing to do and why the identity is kept, as
    /// README's table shows; --force renews the keys.
    @Test func partialRerunKeepsTheIdentity() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let root = try folder.copyFixture("roots/rm204-master")
        let facts = fixturePath("demo/facts/RM204-07.json")
        #expect(imprint(["run", "--root", root, "--facts", facts], in: folder).status == 0)
        let key = try String(contentsOfFile: root + "/etc/ssh/ssh_host_ed25519_key.pub", encoding: .utf8)
        let keys = imprint(["run", "--root", root, "--facts", facts, "--only", "host-keys"], in: folder)
        #expect(keys.status == 0)
        #expect(keys.out.contains("nothing to do for host-keys, all as the record says"))
        #expect(keys.out.contains("note: host keys kept: this unit already has its own (--force renews it)"))
        let skip = imprint(["run", "--root", root, "--facts", facts, "--skip", "network", "--detailed-exitcodes"], in: folder)
        #expect(skip.status == 0 && skip.out.contains("note: machine-id and host keys kept"), "\(skip.out)")
        #expect(try String(contentsOfFile: root + "/etc/ssh/ssh_host_ed25519_key.pub", encoding: .utf8) == key)
        let forced = imprint(["run", "--root", root, "--facts", facts, "--only", "host-keys", "--force"], in: folder)
        #expect(forced.status == 0 && forced.out.contains("applied run"))
        #expect(try String(contentsOfFile: root + "/etc/ssh/ssh_host_ed25519_key.pub", encoding: .utf8) != key)
        let history = imprint(["inventory", "history", "RM204-07"], in: folder).out
        #expect(history.split(separator: "\n").filter { $0.contains("applied") }.count == 2)
    }

    /// status tells a root given its identity by a run of some steps from one that had every step applied.
    @Test func statusAfterAPartialRun() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let root = try folder.copyFixture("roots/rm204-master")
        let facts = fixturePath("demo/facts/RM204-07.json")
        #expect(imprint(["status", "--root", root, "--facts", facts], in: folder).out.hasPrefix("not personalized yet"))
        #expect(imprint(["run", "--root", root, "--facts", facts, "--skip", "network"], in: folder).status == 0)
        let partial = imprint(["status", "--root", root, "--facts", facts], in: folder).out
        #expect(partial.contains("RM204-07: given its identity by run "), "\(partial)")
        #expect(partial.contains("but no run of every step has applied a revision yet"))
        #expect(imprint(["run", "--root", root, "--facts", facts], in: folder).status == 0)
        let full = imprint(["status", "--root", root, "--facts", facts], in: folder).out
        #expect(full.contains("RM204-07: personalized at revision 1") && full.contains("a run now: nothing to do"), "\(full)")
    }

    /// Help texts explain the exit statuses.
    @Test func helpListsExitStatuses() {
        let help = Imprint.helpMessage(for: IdentifyCommand.self)
        #expect(help.contains("10  no unit matches the facts"))
        #expect(help.contains("--facts <file>"))
    }
}

@Suite struct BinaryTests {
    /// The built binary exits with the documented statuses (the exit code is the process's, not a test double's).
    @Test func exitStatusesOfTheProcess() throws {
        let binary = packageRoot.appendingPathComponent(".build/debug/imprint").path
        #expect(FileManager.default.isExecutableFile(atPath: binary), "build the package first: swift build")
        let folder = try TemporaryDirectory()
        let environment = ["IMPRINT_INVENTORY": folder.file("inventory.db"), "PATH": "/usr/bin:/bin"]
        #expect(try runProcess(binary, ["inventory", "init"], environment: environment).status == 0)
        for name in ["printers", "groups", "units"] {
            #expect(try runProcess(binary, ["inventory", "import", fixturePath("demo/\(name).csv")], environment: environment).status == 0)
        }
        let found = try runProcess(binary, ["identify", "--root", fixturePath("sysfs/optiplex-7090")], environment: environment)
        #expect(found.status == 0 && found.output.hasPrefix("RM204-07"))
        let missing = try runProcess(binary, ["identify", "--facts", fixturePath("demo/facts/not-in-inventory.json")], environment: environment)
        #expect(missing.status == 10 && missing.error.hasPrefix("imprint: no unit matches"))
        let usage = try runProcess(binary, ["inventory", "add", "bad_name"], environment: environment)
        #expect(usage.status == 64)
        let fromStdin = try runProcess(
            binary, ["inventory", "import", "-"], environment: environment, input: "hostname,macs\nextra-1,3c:52:82:aa:00:01\n")
        #expect(fromStdin.status == 0 && fromStdin.output.contains("1 added"))
    }
}

import Foundation
@testable import ImprintCommands
import ImprintTestSupport
import Testing

/// The demo room with a `licence_key` column added to its units file (a key of its own per unit), imported with
/// `--secret-field licence_key`, as an admin keeps the keys in the same spreadsheet as the names.
func demoWithLicences(_ folder: TemporaryDirectory) throws -> [String: String] {
    _ = imprint(["inventory", "init"], in: folder)
    for name in ["printers", "groups"] {
        _ = imprint(["inventory", "import", fixturePath("demo/\(name).csv")], in: folder)
    }
    var keys: [String: String] = [:]
    var lines = try fixtureText("demo/units.csv").split(separator: "\n").map(String.init)
    lines[0] += ",licence_key"
    for index in 1..<lines.count {
        let hostname = String(lines[index].prefix { $0 != "," })
        keys[hostname] = "CAD-\(String(format: "%04d", index * 7919 % 10000))-\(hostname.suffix(2))"
        lines[index] += "," + (keys[hostname] ?? "")
    }
    let csv = try folder.write("units-with-keys.csv", lines.joined(separator: "\n") + "\n")
    let imported = imprint(["inventory", "import", csv, "--secret-field", "licence_key"], in: folder)
    #expect(imported.status == 0, "\(imported.err)")
    return keys
}

/// Every path under `root` with its mode and SHA-256, but the run lock and its folder, which every run takes before
/// it reads the record.
func treeState(_ root: String) throws -> String {
    try runProcess("/bin/sh", ["-c", "cd \"$1\" && find . -path ./var/lib/imprint -prune -o -printf '%p %m\\n' -type f -exec sha256sum {} +", "sh", root]).output
}

/// The mode bits of a file.
func mode(_ path: String) throws -> Int {
    try #require((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue)
}

@Suite struct AttachedFileTests {
    /// A licence file per unit from a CSV column, for the 30 units of the demo room: each unit's file holds its own
    /// key, mode 0600; --dry-run and --json show no key; rollback removes the file, which did not exist before.
    @Test func licenceFilePerUnitFromACSVColumn() throws {
        let folder = try TemporaryDirectory()
        let keys = try demoWithLicences(folder)
        #expect(keys.count == 30)
        let attached = imprint(["inventory", "file", "add", "/opt/cad/licence.key", "--group", "RM204", "--from-field", "licence_key"], in: folder)
        #expect(attached.status == 0, "\(attached.err)")
        #expect(attached.out.contains("(secret, mode 0600)"), "a file of a secret field is secret: \(attached.out)")
        for (hostname, key) in keys.sorted(by: { $0.key < $1.key }) {
            let root = folder.file("roots/\(hostname)")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let facts = fixturePath("demo/facts/\(hostname).json")
            let licence = root + "/opt/cad/licence.key"
            let planned = imprint(["run", "--root", root, "--facts", facts, "--only", "files", "--dry-run"], in: folder)
            #expect(planned.status == 0, "\(hostname): \(planned.err)")
            #expect(planned.out.contains("+++ b/opt/cad/licence.key") && planned.out.contains("secret:"), "\(planned.out)")
            let json = imprint(["run", "--root", root, "--facts", facts, "--only", "files", "--dry-run", "--json"], in: folder)
            #expect(json.out.contains("/opt/cad/licence.key"))
            for output in [planned.out, planned.err, json.out] { #expect(!output.contains(key), "\(hostname)'s key printed") }
            #expect(!FileManager.default.fileExists(atPath: licence), "a dry run writes nothing")

            let applied = imprint(["run", "--root", root, "--facts", facts, "--only", "files"], in: folder)
            #expect(applied.status == 0, "\(hostname): \(applied.err)")
            #expect(!applied.out.contains(key))
            #expect(try String(contentsOfFile: licence, encoding: .utf8) == key + "\n")
            #expect(try mode(licence) == 0o600)
            let journal = try FileManager.default.contentsOfDirectory(atPath: root + "/var/lib/imprint/runs")
                .map { try String(contentsOfFile: root + "/var/lib/imprint/runs/\($0)/journal.json", encoding: .utf8) }
            #expect(journal.allSatisfy { !$0.contains(key) }, "the journal names the file, never its contents")
            let log = (try? String(contentsOfFile: root + "/var/log/imprint/identity.jsonl", encoding: .utf8)) ?? ""
            #expect(!log.contains(key))

            let rolledBack = imprint(["rollback", "--root", root], in: folder)
            #expect(rolledBack.status == 0, "\(hostname): \(rolledBack.err)")
            #expect(!FileManager.default.fileExists(atPath: licence), "rollback removes a file that did not exist before")
            #expect(FileManager.default.fileExists(atPath: root + "/opt/cad"), "the folder the run made stays")
        }
        // Nor does the inventory print a secret.
        for arguments in [["inventory", "show", "RM204-07", "--json"], ["inventory", "show", "RM204-07"], ["inventory", "list", "--json"]] {
            let shown = imprint(arguments, in: folder)
            #expect(shown.out.contains("********") && !shown.out.contains(keys["RM204-07"] ?? "?"), "\(arguments)")
        }
        // The keys go back out in the export (the admin's spreadsheet), and read back in unchanged.
        let exported = imprint(["inventory", "export"], in: folder).out
        #expect(exported.split(separator: "\n").first?.hasSuffix(",licence_key") == true)
        #expect(exported.contains(keys["RM204-07"] ?? "?"))
        let again = try folder.write("again.csv", exported)
        let reimported = imprint(["inventory", "import", again, "--update"], in: folder)
        #expect(reimported.status == 0 && reimported.out.contains("0 updated, 30 unchanged"), "\(reimported.out) \(reimported.err)")
    }

    /// A Veyon-style configuration rendered from a group's template with each unit's seat number, hostname and a
    /// group field; Python's configparser (QSettings files are INI) reads the values back.
    @Test func veyonConfigurationWithTheSeatNumber() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        #expect(imprint(["inventory", "field", "add", "veyon_room"], in: folder).status == 0)
        #expect(imprint(["inventory", "group", "set", "RM204", "--field", "veyon_room=Room 204"], in: folder).status == 0)
        let template = try folder.write("veyon.conf.mustache", """
            [Network]
            HostName={{hostname}}
            [Seat]
            Number={{seat}}
            Room={{veyon_room}}
            {{#macs}}
            MAC={{.}}
            {{/macs}}

            """)
        let attached = imprint([
            "inventory", "file", "add", "/etc/xdg/Veyon Solutions/Veyon.conf", "--group", "RM204", "--template", template,
            "--mode", "0640",
        ], in: folder)
        #expect(attached.status == 0, "\(attached.err)")
        let listed = imprint(["inventory", "file", "list", "--json"], in: folder)
        #expect(listed.out.contains("\"mode\" : \"0640\"") && listed.out.contains("HostName={{hostname}}"), "\(listed.out)")
        for (hostname, seat) in [("RM204-07", 7), ("RM204-12", 12)] {
            let root = try folder.copyFixture("roots/rm204-master", as: hostname)
            let run = imprint(["run", "--root", root, "--facts", fixturePath("demo/facts/\(hostname).json")], in: folder)
            #expect(run.status == 0, "\(run.err)")
            let conf = root + "/etc/xdg/Veyon Solutions/Veyon.conf"
            #expect(try mode(conf) == 0o640)
            let read = try runProcess("/usr/bin/python3", ["-c", """
                import configparser, sys
                c = configparser.ConfigParser(strict=False); c.optionxform = str
                c.read(sys.argv[1])
                print(c["Network"]["HostName"], c["Seat"]["Number"], c["Seat"]["Room"], sep="|")
                """, conf])
            #expect(read.status == 0, "\(read.error)")
            #expect(read.output == "\(hostname)|\(seat)|Room 204\n")
            // The unit's run is once per revision: the next run has nothing to do.
            let second = imprint(["run", "--root", root, "--facts", fixturePath("demo/facts/\(hostname).json")], in: folder)
            #expect(second.out.contains("nothing to do"), "\(second.out)")
        }
        // A unit added with a value of its own has it; a unit without one has its group's.
        #expect(imprint(["inventory", "add", "RM204-31", "--group", "RM204", "--field", "veyon_room=Lab"], in: folder).status == 0)
        #expect(imprint(["inventory", "show", "RM204-31", "--json"], in: folder).out.contains("\"veyon_room\" : \"Lab\""))
        #expect(imprint(["inventory", "show", "RM204-30"], in: folder).out.contains("veyon_room = Room 204 (group's)"))
        // A unit's own value wins over its group's, and the new revision rewrites the file.
        #expect(imprint(["inventory", "set", "RM204-07", "--field", "veyon_room=Annex"], in: folder).status == 0)
        let root = folder.file("RM204-07")
        let rerun = imprint(["run", "--root", root, "--facts", fixturePath("demo/facts/RM204-07.json"), "--dry-run"], in: folder)
        #expect(rerun.out.contains("-Room=Room 204") && rerun.out.contains("+Room=Annex"), "\(rerun.out)")
        // Detached, the file goes at the next run (backed up, so a rollback brings it back).
        #expect(imprint(["inventory", "file", "remove", "/etc/xdg/Veyon Solutions/Veyon.conf", "--group", "RM204"], in: folder).status == 0)
        #expect(imprint(["run", "--root", root, "--facts", fixturePath("demo/facts/RM204-07.json")], in: folder).status == 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/xdg/Veyon Solutions/Veyon.conf"))
        #expect(imprint(["rollback", "--root", root], in: folder).status == 0)
        #expect(FileManager.default.fileExists(atPath: root + "/etc/xdg/Veyon Solutions/Veyon.conf"))
    }

    /// Bad input is refused with a message naming the value and exit 65, nothing written: a path out of the root,
    /// a template naming an unknown field, a secret file readable by others, a unit lacking a value a file needs.
    @Test func badInputIsRefusedNamingIt() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let template = try folder.write("t.mustache", "key={{licence_kye}}\n")
        #expect(imprint(["inventory", "field", "add", "licence_key", "--secret"], in: folder).status == 0)
        let cases: [([String], String)] = [
            (["/etc/../../host/passwd", "--group", "RM204", "--template", template], "climbs out of its folder with '..'"),
            (["etc/x.conf", "--group", "RM204", "--template", template], "is not absolute"),
            (["/var/lib/imprint/state.json", "--group", "RM204", "--template", template], "where Imprint keeps its runs"),
            (["/etc/x.conf", "--group", "RM204", "--template", template], "invalid field 'licence_kye': is named by the file /etc/x.conf"),
            (["/etc/x.key", "--group", "RM204", "--from-field", "licence_key", "--mode", "0644"], "a secret file is readable by its owner only"),
            (["/etc/x.key", "--group", "RM204", "--from-field", "no_such"], "invalid field 'no_such': is named by the file /etc/x.key"),
        ]
        for (arguments, message) in cases {
            let result = imprint(["inventory", "file", "add"] + arguments, in: folder)
            #expect(result.status == 65 || result.status == 64, "\(arguments): \(result.status)")
            #expect(result.err.contains(message), "\(arguments): \(result.err)")
        }
        let unknown = imprint(["inventory", "file", "add", "/etc/x.conf", "--group", "RM204", "--template", template], in: folder)
        #expect(unknown.status == 65 && unknown.err.contains("the closest is 'licence_key'"), "\(unknown.err)")
        let listed = try JSONSerialization.jsonObject(with: Data(imprint(["inventory", "file", "list", "--json"], in: folder).out.utf8))
        #expect((listed as? [Any])?.isEmpty == true, "no refused file was attached")

        // A unit without a value the file needs stops the run before anything is written.
        #expect(imprint(["inventory", "file", "add", "/etc/x.key", "--group", "RM204", "--from-field", "licence_key"], in: folder).status == 0)
        #expect(imprint(["inventory", "set", "RM204-07", "--field", "licence_key=AB-12"], in: folder).status == 0)
        let root = try folder.copyFixture("roots/rm204-master", as: "unit")
        let before = try treeState(root)
        let run = imprint(["run", "--root", root, "--facts", fixturePath("demo/facts/RM204-08.json")], in: folder)
        #expect(run.status == 65, "\(run.err)")
        #expect(run.err.contains("invalid value of file /etc/x.key 'licence_key': unit RM204-08 has no licence_key"), "\(run.err)")
        #expect(try treeState(root) == before, "nothing written")
        // An owner the image does not have is named, also before anything is written.
        let plain = try folder.write("plain.mustache", "x={{hostname}}\n")
        #expect(imprint(["inventory", "file", "add", "/etc/y.conf", "--unit", "RM204-07", "--template", plain, "--owner", "veyon"], in: folder).status == 0)
        let owned = imprint(["run", "--root", root, "--facts", fixturePath("demo/facts/RM204-07.json")], in: folder)
        #expect(owned.status == 65 && owned.err.contains("invalid user of file /etc/y.conf 'veyon': the image has no such user"), "\(owned.err)")
        #expect(try treeState(root) == before, "nothing written")
    }

    /// A link in the image that points outside the root (`/etc/veyon -> /tmp/host-veyon`) is resolved inside the
    /// root: the attached file lands in the root, never on the host.
    @Test func aLinkOutOfTheRootStaysInside() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let template = try folder.write("t.mustache", "name={{hostname}}\n")
        #expect(imprint(["inventory", "file", "add", "/etc/veyon/seat.conf", "--group", "RM204", "--template", template], in: folder).status == 0)
        let root = try folder.copyFixture("roots/rm204-master", as: "unit")
        let outside = folder.file("host-veyon")
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/veyon", withDestinationPath: outside)
        let run = imprint(["run", "--root", root, "--facts", fixturePath("demo/facts/RM204-07.json"), "--only", "files"], in: folder)
        #expect(run.status == 0, "\(run.err)")
        #expect(!FileManager.default.fileExists(atPath: outside + "/seat.conf"))
        #expect(try String(contentsOfFile: root + outside + "/seat.conf", encoding: .utf8) == "name=RM204-07\n")
    }

    /// A secret value is read from a file (`--field-file`, off the command line), a secret file may be 0400, and
    /// `file list --json` shows a secret file's template as null.
    @Test func secretsStayOffTheCommandLineAndOutOfLists() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        #expect(imprint(["inventory", "field", "add", "wifi_psk", "--secret"], in: folder).status == 0)
        let secretFile = try folder.write("psk", "pass-4-rm204\n")
        #expect(imprint(["inventory", "group", "set", "RM204", "--field-file", "wifi_psk=\(secretFile)"], in: folder).status == 0)
        let template = try folder.write("t", "psk={{wifi_psk}}\n")
        let added = imprint(["inventory", "file", "add", "/etc/psk.conf", "--group", "RM204", "--template", template, "--mode", "0400"], in: folder)
        #expect(added.status == 0 && added.out.contains("(secret, mode 0400)"), "\(added.out) \(added.err)")
        let listed = imprint(["inventory", "file", "list", "--json"], in: folder).out
        #expect(listed.contains("\"template\" : null") && listed.contains("\"secret\" : true"), "\(listed)")
        let root = folder.file("unit")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        #expect(imprint(["run", "--root", root, "--facts", fixturePath("demo/facts/RM204-07.json"), "--only", "files"], in: folder).status == 0)
        #expect(try String(contentsOfFile: root + "/etc/psk.conf", encoding: .utf8) == "psk=pass-4-rm204\n")
        #expect(try mode(root + "/etc/psk.conf") == 0o400)
    }
}

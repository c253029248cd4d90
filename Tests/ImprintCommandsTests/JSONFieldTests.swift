import Foundation
@testable import ImprintCommands
import ImprintTestSupport
import Testing

@Suite struct JSONFieldTests {
    /// README's "JSON output" table: for each command, the fields it documents (`identity.unit`, `[].name`, ...).
    func documentedFields() throws -> [String: Set<String>] {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "### JSON output").dropFirst().first)
            .components(separatedBy: "\n## ")[0].components(separatedBy: "\n### ")[0]
        var fields: [String: Set<String>] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { String($0) }
            guard cells.count >= 4 else { continue }
            let names = { (cell: String) in cell.matches(of: #/`([^`]+)`/#).map { String($0.1) } }
            for command in names(cells[1]) {
                fields[command, default: []].formUnion(names(cells[2]))
            }
        }
        return fields
    }

    /// The keys of `json`, as paths: top-level keys, and `identity.KEY` for an identity object; an array's first
    /// element stands for all of them (`[].name`).
    func keys(_ json: String) throws -> Set<String> {
        var object = try JSONSerialization.jsonObject(with: Data(json.utf8))
        if let array = object as? [Any] { object = try #require(array.first) }
        let dictionary = try #require(object as? [String: Any])
        var result = Set(dictionary.keys)
        if let identity = dictionary["identity"] as? [String: Any] {
            result.formUnion(identity.keys.map { "identity." + $0 })
        }
        return result
    }

    /// Every `--json` output has exactly the fields README documents for it, empty ones as null, and the identity
    /// is an object wherever it appears.
    @Test func outputsMatchTheDocumentedFields() throws {
        let documented = try documentedFields()
        let folder = try TemporaryDirectory()
        demo(folder)
        let root = try folder.copyFixture("roots/rm204-master")
        let facts = fixturePath("demo/facts/RM204-07.json")
        let binary = packageRoot.appendingPathComponent(".build/debug/imprint").path
        let image = folder.file("master.imprint")
        let library = folder.file("library")
        try FileManager.default.createDirectory(atPath: library, withIntermediateDirectories: true)
        let runs: [(String, [String])] = [
            ("facts", ["facts", "--facts", facts, "--json"]),
            ("capture", ["capture", "--root", fixturePath("roots/rm204-master"), "-o", image, "--model", "OptiPlex 7090", "--json"]),
            ("verify", ["verify", image, "--json"]),
            ("inspect", ["inspect", image, "--json"]),
            ("restore", ["restore", image, "--root", folder.file("restored"), "--facts", facts, "--json"]),
            ("library list", ["library", "add", image, "--library", library]),
            ("library list", ["library", "list", "--library", library, "--json"]),
            ("library verify", ["library", "verify", "--library", library, "--json"]),
            ("identify", ["identify", "--facts", facts, "--json"]),
            ("run", ["run", "--root", root, "--facts", facts, "--json"]),
            ("status", ["status", "--root", root, "--facts", facts, "--json"]),
            ("inventory history", ["inventory", "history", "RM204-07", "--json"]),
            ("rollback", ["rollback", "--root", root, "--json"]),
            ("install", ["install", "--root", root, "--binary", binary, "--force", "--unit", "RM204-07", "--dry-run", "--json"]),
            ("inventory show", ["inventory", "show", "RM204-07", "--json"]),
            ("inventory list", ["inventory", "list", "--json"]),
            ("inventory name", ["inventory", "name", "--pattern", "LAB-{serial}", "5CG2041XQ7", "--json"]),
            ("inventory printer list", ["inventory", "printer", "list", "--json"]),
            ("inventory group show", ["inventory", "group", "show", "RM204", "--json"]),
            ("inventory field list", ["inventory", "field", "add", "licence_key", "--secret"]),
            ("inventory field list", ["inventory", "field", "list", "--json"]),
            ("inventory field list", ["inventory", "group", "set", "RM204", "--field", "licence_key=SITE-KEY-1"]),
            ("inventory file list", ["inventory", "file", "add", "/etc/licence.key", "--group", "RM204", "--from-field", "licence_key"]),
            ("inventory file list", ["inventory", "file", "list", "--json"]),
            ("inventory account list", ["inventory", "account", "add", "kiosk", "--unit", "RM204-08", "--autologin"]),
            ("inventory account list", ["inventory", "account", "list", "--json"]),
            ("inventory hook list", ["inventory", "hook", "add", "enrol", "--unit", "RM204-08", "--first-boot", "--command", "true"]),
            ("inventory hook list", ["inventory", "hook", "list", "--json"]),
            ("inventory import", ["inventory", "import", fixturePath("demo/printers.csv"), "--update", "--dry-run", "--json"]),
        ]
        try FileManager.default.createDirectory(atPath: folder.file("restored"), withIntermediateDirectories: true)
        for (command, arguments) in runs {
            let result = imprint(arguments, in: folder)
            #expect(result.status == 0, "\(command): \(result.err)")
            if !arguments.contains("--json") { continue }
            let wanted = try #require(documented[command], "README documents no fields for \(command)")
            // `[].name` is the key of each element; `changes[]` is the key `changes`.
            let expanded = Set(wanted.map { field in
                String(field.hasPrefix("[].") ? field.dropFirst(3) : field[...]).replacingOccurrences(of: "[]", with: "")
            })
            #expect(try keys(result.out) == expanded, "\(command): \(result.out.prefix(300))")
        }
        // A Wi-Fi passphrase never leaves the inventory in JSON.
        let passphrase = try folder.write("passphrase", "secretpass\n")
        #expect(imprint(["inventory", "set", "RM204-08", "--wifi-ssid", "staff", "--wifi-passphrase-file", passphrase], in: folder).status == 0)
        for arguments in [["inventory", "show", "RM204-08", "--json"], ["inventory", "list", "--json"]] {
            let listed = imprint(arguments, in: folder).out
            #expect(listed.contains("\"passphrase\" : \"********\"") && !listed.contains("secretpass"), "\(arguments)")
        }
        // Nor does a secret field's value.
        let group = imprint(["inventory", "group", "show", "RM204", "--json"], in: folder).out
        #expect(group.contains("\"licence_key\" : \"********\"") && !group.contains("SITE-KEY-1"), "\(group)")
        let shown = imprint(["inventory", "show", "RM204-07", "--json"], in: folder).out
        #expect(shown.contains("\"gateway6\" : null") && shown.contains("\"dhcp6\" : false"), "\(shown)")
        // 802.1X and several Wi-Fi networks from a pasted document: the methods are shown, no password or identity.
        let document = try folder.write("campus.yaml", """
            network:
              version: 2
              ethernets:
                lan: {match: {macaddress: "3c:52:82:20:04:08"}, dhcp4: true, auth: {key-management: 802.1x, method: peap, identity: seat8@school.example.org, password: "wired-s3cret", phase2-auth: mschapv2}}
              wifis:
                wlan:
                  match: {macaddress: "3c:52:82:20:14:08"}
                  renderer: NetworkManager
                  dhcp4: true
                  access-points:
                    campus: {auth: {key-management: eap, method: ttls, identity: seat8@school.example.org, password: "wifi-s3cret", phase2-auth: pap}}
                    staff: {password: "staff-s3cret"}
            """)
        #expect(imprint(["inventory", "set", "RM204-08", "--netplan-file", document], in: folder).status == 0)
        let campus = imprint(["inventory", "show", "RM204-08", "--json"], in: folder).out
        #expect(!campus.contains("s3cret") && !campus.contains("seat8@"), "\(campus)")
        let cards = try #require(((try JSONSerialization.jsonObject(with: Data(campus.utf8)) as? [String: Any])?["effective"] as? [String: Any])?["interfaces"] as? [[String: Any]])
        #expect(cards.first?["auth"] as? String == "peap")
        let networks = try #require(cards.last?["accessPoints"] as? [[String: Any]])
        #expect(networks.map { $0["ssid"] as? String } == ["campus", "staff"])
        #expect(networks.map { $0["eap"] as? String } == ["ttls", nil] && networks.map { $0["passphrase"] as? String } == [nil, "********"])
        let text = imprint(["inventory", "show", "RM204-08"], in: folder).out
        #expect(text.contains("802.1X peap") && text.contains("wifi 'campus' (802.1X ttls) wifi 'staff'") && !text.contains("s3cret"), "\(text)")
        let status = imprint(["status", "--root", root, "--facts", facts, "--json"], in: folder).out
        #expect(status.contains("\"problem\" : null"))
        let history = try JSONSerialization.jsonObject(with: Data(imprint(["inventory", "history", "RM204-07", "--json"], in: folder).out.utf8))
        #expect(((history as? [[String: Any]])?.first?["identity"] as? [String: Any])?["unit"] as? String == "RM204-07")
    }

    /// A failure under --json prints the error object on standard output, with the exit status the code names.
    @Test func failuresAreJSONToo() throws {
        let binary = packageRoot.appendingPathComponent(".build/debug/imprint").path
        let folder = try TemporaryDirectory()
        demo(folder)
        let environment = ["IMPRINT_INVENTORY": folder.file("inventory.db"), "PATH": "/usr/bin:/bin"]
        let missing = try runProcess(
            binary, ["identify", "--facts", fixturePath("demo/facts/not-in-inventory.json"), "--json"], environment: environment)
        #expect(missing.status == 10)
        let object = try JSONSerialization.jsonObject(with: Data(missing.output.utf8)) as? [String: Any]
        let error = try #require(object?["error"] as? [String: Any])
        #expect(error["code"] as? String == "not-found")
        #expect(error["status"] as? Int == 10)
        #expect((error["message"] as? String)?.hasPrefix("no unit matches serial 7XK99QZZ") == true)
        #expect(missing.error.hasPrefix("imprint: no unit matches"))
        let busy = try runProcess(binary, ["inventory", "group", "show", "NOSUCH", "--json"], environment: environment)
        #expect(busy.status == 10 && busy.output.contains("\"code\" : \"not-found\""), "\(busy.output)")
        // library verify reports every image as a row, the failed ones too, and exits 20.
        let library = folder.file("library")
        try FileManager.default.createDirectory(atPath: library, withIntermediateDirectories: true)
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: library + "/garbage.imprint"))
        let verified = try runProcess(binary, ["library", "verify", "--library", library, "--json"], environment: environment)
        #expect(verified.status == 20)
        let rows = try JSONSerialization.jsonObject(with: Data(verified.output.utf8)) as? [[String: Any]]
        #expect(rows?.count == 1 && rows?.first?["ok"] as? Bool == false, "\(verified.output)")
        let plain = try runProcess(binary, ["identify", "--facts", fixturePath("demo/facts/not-in-inventory.json")], environment: environment)
        #expect(plain.output.isEmpty, "without --json standard output stays empty")
    }
}

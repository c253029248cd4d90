import Foundation
import ImprintCore
import ImprintInventory
import ImprintTestSupport
import Testing

@Suite struct CustomFieldTests {
    /// An inventory made before custom fields, files, accounts and hooks (schema v4) is upgraded in place by
    /// migrations "v5 ...", "v6 ..." and "v7 ...", keeping its units, and then holds all of them.
    @Test func upgradesAnInventoryWithoutFields() throws {
        let folder = try TemporaryDirectory()
        _ = try demoInventory(folder)
        let database = folder.file("inventory.db")
        let downgrade = try runProcess("/usr/bin/sqlite3", [database, """
            DROP TABLE attachedFile; DROP TABLE unitFieldValue; DROP TABLE groupFieldValue; DROP TABLE customField;
            DROP TABLE localAccount; DROP TABLE hook;
            DELETE FROM grdb_migrations WHERE identifier LIKE 'v5 %' OR identifier LIKE 'v6 %' OR identifier LIKE 'v7 %';
            """])
        #expect(downgrade.status == 0, "\(downgrade.error)")
        let upgraded = try Inventory(path: database)
        #expect(try upgraded.units().count == 30)
        try upgraded.addField(CustomField(name: "licence_key", secret: true))
        var changes = UnitChanges()
        changes.fields = ["licence_key": "AB-12"]
        let record = try upgraded.updateUnit("RM204-07", changes)
        #expect(record.profile.fields["licence_key"] == CustomFieldValue(value: "AB-12", secret: true))
        let migrations = try runProcess("/usr/bin/sqlite3", [database, "SELECT identifier FROM grdb_migrations ORDER BY rowid"])
        #expect(migrations.output.split(separator: "\n").suffix(3) == ["v5 custom fields and attached files", "v6 local accounts", "v7 hooks"])
        try upgraded.addAccount(LocalAccount(name: "kiosk", autologin: true), to: .group("RM204"))
        try upgraded.addHook(Hook(name: "locales", command: "locale-gen"), to: .group("RM204"))
        let profile = try upgraded.unit("RM204-07").profile
        #expect(profile.accounts.map(\.name) == ["kiosk"] && profile.hooks.map(\.name) == ["locales"])
        // The schema itself refuses a file attached to nothing, or with no content.
        let unbound = try runProcess("/usr/bin/sqlite3", [database, "INSERT INTO attachedFile (path, template) VALUES ('/etc/x', 'x')"])
        #expect(unbound.status != 0 && unbound.error.contains("CHECK constraint failed"), "\(unbound.error)")
    }

    /// A unit's own value wins over its group's; a field valued only on the group reaches every unit of it. Setting
    /// a value or attaching a file raises the revision of the units it reaches, so the agent applies it.
    @Test func unitValuesOverGroupValuesAndRevisions() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        try inventory.addField(CustomField(name: "veyon_room"))
        let before = try inventory.unit("RM204-03").revision
        var group = GroupChanges()
        group.fields = ["veyon_room": "Room 204"]
        try inventory.updateGroup("RM204", group)
        #expect(try inventory.unit("RM204-03").revision == before + 1)
        var own = UnitChanges()
        own.fields = ["veyon_room": "Annex"]
        #expect(try inventory.updateUnit("RM204-07", own).profile.fields["veyon_room"]?.value == "Annex")
        #expect(try inventory.unit("RM204-03").profile.fields["veyon_room"]?.value == "Room 204")
        #expect(try inventory.unit("RM204-03").profile.seat == 3)
        let file = try UnitFile(path: "/etc/veyon/room", content: .template("{{veyon_room}} {{seat}}\n"))
        try inventory.attachFile(file, to: .group("RM204"))
        #expect(try inventory.unit("RM204-03").revision == before + 2)
        #expect(try inventory.unit("RM204-03").profile.files == [file])
        // Attaching the same file again changes nothing, and no revision.
        try inventory.attachFile(file, to: .group("RM204"))
        #expect(try inventory.unit("RM204-03").revision == before + 2)
        // A unit's file of the same path replaces its group's.
        let mine = try UnitFile(path: "/etc/veyon/room", content: .template("mine\n"))
        try inventory.attachFile(mine, to: .unit("RM204-07"))
        #expect(try inventory.unit("RM204-07").profile.files == [mine])
        // Declared secret later, the field is secret for every unit, and the units with a value get a new revision.
        let revision = try inventory.unit("RM204-03").revision
        try inventory.addField(CustomField(name: "veyon_room", secret: true))
        #expect(try inventory.unit("RM204-03").revision == revision + 1)
        #expect(try inventory.unit("RM204-03").profile.fields["veyon_room"]?.secret == true)
        // The field cannot go while a file names it; the value goes with --field NAME=.
        #expect { try inventory.removeField("veyon_room") } throws: { "\($0)".contains("used by the file /etc/veyon/room of group RM204") }
        own.fields = ["veyon_room": ""]
        #expect(try inventory.updateUnit("RM204-07", own).profile.fields["veyon_room"]?.value == "Room 204")
    }

    /// A CSV column is a custom field only when named (or declared): an unknown column is still a bad header that
    /// says how to name it; a declared field's column imports without a flag, and --update keeps the values of a
    /// field the file has no column for.
    @Test func csvColumnsNamedAsFields() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let csv = CSV.format([["hostname", "group", "licence_key"], ["RM204-90", "RM204", "K-90"]])
        #expect { try inventory.importCSV(csv, file: "u.csv") } throws: {
            "\($0)".contains("unknown column 'licence_key'") && "\($0)".contains("--field licence_key (or --secret-field)")
        }
        _ = try inventory.importCSV(csv, file: "u.csv", fields: [CustomField(name: "licence_key", secret: true)])
        #expect(try inventory.unit("RM204-90").profile.fields["licence_key"] == CustomFieldValue(value: "K-90", secret: true))
        #expect(try inventory.customFields() == [CustomField(name: "licence_key", secret: true)])
        let renamed = CSV.format([["hostname", "group", "notes"], ["RM204-90", "RM204", "seat 90"]])
        _ = try inventory.importCSV(renamed, file: "v.csv", update: true)
        #expect(try inventory.unit("RM204-90").draft.fields == ["licence_key": "K-90"])
        // A value with a line break could start a new line in any file: refused, and a secret one is not shown.
        let broken = CSV.format([["hostname", "group", "licence_key"], ["RM204-91", "RM204", "K-91\nX"]])
        #expect { try inventory.importCSV(broken, file: "w.csv") } throws: {
            "\($0)".contains("line 2: invalid value of field licence_key '********'") && !"\($0)".contains("K-91")
        }
        // A groups file carries fields the same way, and its export reads back unchanged.
        try inventory.addField(CustomField(name: "veyon_room"))
        _ = try inventory.importCSV(CSV.format([["name", "veyon_room"], ["LAB", "Lab 1"]]), file: "g.csv")
        #expect(try inventory.group("LAB").draft.fields == ["veyon_room": "Lab 1"])
        let groups = try inventory.exportCSV(.groups)
        #expect(groups.hasPrefix(CSVKind.groups.columns.joined(separator: ",") + ",licence_key,veyon_room\n"), "\(groups)")
        let again = try inventory.importCSV(groups, file: "groups.csv", update: true)
        #expect(again.updated.isEmpty && again.unchanged.count == 2, "\(again)")
        // A value for a field the inventory does not have is refused, naming it.
        var unknown = UnitChanges()
        unknown.fields = ["veyon_rom": "x"]
        #expect { try inventory.updateUnit("RM204-90", unknown) } throws: {
            "\($0)".contains("invalid field 'veyon_rom': is not a field of the inventory (its fields are licence_key, veyon_room)")
        }
        // A field may not take a built-in value's or a CSV column's name.
        #expect(throws: CoreError.self) { try CustomField(name: "seat") }
        #expect { try inventory.addField(CustomField(name: "notes")) } throws: { "\($0)".contains("is a column of the inventory's CSV files") }
    }

    /// Paths, modes and templates are checked when a file is attached: no `..`, no relative path, no file in
    /// Imprint's own folder, no secret readable by others, no unclosed section or partial.
    @Test func fileValuesAreChecked() throws {
        for (path, reason) in [("/etc/../root/x", "'..'"), ("etc/x", "not absolute"), ("/etc//x", "empty or '.'"),
                               ("/var/lib/imprint/state.json", "Imprint keeps")] {
            #expect { try UnitFile(path: path, content: .template("x")) } throws: { "\($0)".contains(reason) }
        }
        #expect { try UnitFile(path: "/etc/x", content: .template("x"), mode: 0o640, secret: true) } throws: {
            "\($0)".contains("readable by its owner only")
        }
        #expect(throws: CoreError.self) { try UnitFile(path: "/etc/x", content: .template("x"), mode: 0o4755) }
        for (template, reason) in [("{{#macs}}{{.}}", "never closed"), ("{{> other}}", "partial"), ("{{=<% %>=}}", "delimiters"),
                                   ("{{hostname", "never closed"), ("{{#a}}{{/b}}", "closes 'b' where 'a' is open")] {
            #expect { try UnitFile(path: "/etc/x", content: .template(template)) } throws: { "\($0)".contains(reason) }
        }
        let names = try TemplateNames.scan("{{hostname}} {{#domain}}{{domain}}{{/domain}} {{^serial}}none{{/serial}} {{{licence_key}}}")
        #expect(names.required == ["hostname", "licence_key"])
        #expect(names.all == ["hostname", "domain", "serial", "licence_key"])
    }
}

import Foundation
import ImprintCore
import ImprintInventory
import ImprintTestSupport
import Testing

/// The demo room with a secret `licence_key` field valued on two units, and files, accounts and hooks attached to
/// its group and to single units: every column of the three kinds used, text that needs quoting included.
func demoWithAttachments(_ folder: TemporaryDirectory) throws -> Inventory {
    let inventory = try demoInventory(folder)
    try inventory.addField(CustomField(name: "licence_key", secret: true))
    for (hostname, key) in [("RM204-07", "CAD-0007"), ("RM204-08", "CAD-0008")] {
        var changes = UnitChanges()
        changes.fields = ["licence_key": key]
        try inventory.updateUnit(hostname, changes)
    }
    try inventory.attachFile(UnitFile(path: "/opt/cad/licence.key", content: .field("licence_key")), to: .group("RM204"))
    try inventory.attachFile(
        UnitFile(path: "/etc/xdg/Veyon Solutions/Veyon.conf", content: .template("[Seat]\r\nNumber={{seat}}, \"{{hostname}}\"\n"),
                 mode: 0o640, owner: "root", group: "adm"),
        to: .group("RM204"))
    try inventory.attachFile(UnitFile(path: "/etc/cloud/cloud-init.disabled", content: .template("")), to: .group("RM204"))
    try inventory.attachFile(
        UnitFile(path: "/etc/motd", content: .template("  seat {{seat}}  "), owner: "kiosk", group: "kiosk", secret: true),
        to: .unit("3c:52:82:20:04:07"))
    try inventory.addAccount(LocalAccount(name: "kiosk", groups: ["audio", "video"], autologin: true), to: .group("RM204"))
    try inventory.addAccount(
        LocalAccount(name: "tech", groups: ["sudo"], shell: "/bin/zsh", passwordHash: "$6$saltsalt$0123456789abcdefABCDEF./"),
        to: .group("RM204"))
    try inventory.addAccount(LocalAccount(name: "exam", shell: "/bin/sh"), to: .unit("RM204-12"))
    try inventory.addHook(Hook(name: "locales", command: "locale-gen", timeout: 600), to: .group("RM204"))
    try inventory.addHook(Hook(name: "salt", command: "salt-call state.apply", phase: .firstBoot), to: .unit("RM204-12"))
    try inventory.addHook(Hook(name: "default-target", command: "set -e\nsystemctl set-default 'graphical.target'"), to: .group("RM204"))
    return inventory
}

@Suite struct AttachmentCSVTests {
    /// Export then import onto a fresh inventory (printers, groups, units, then files, accounts, hooks) gives back
    /// every file, account and hook with every field, hooks in their order, and the same export of every kind.
    @Test func exportImportRoundTrip() throws {
        let folder = try TemporaryDirectory()
        let source = try demoWithAttachments(folder)
        let copyFolder = try TemporaryDirectory()
        let copy = try makeInventory(copyFolder)
        for kind in [CSVKind.printers, .groups, .units, .files, .accounts, .hooks] {
            let report = try copy.importCSV(
                try source.exportCSV(kind), file: kind.rawValue, fields: [CustomField(name: "licence_key", secret: true)])
            #expect(report.kind == kind)
        }
        #expect(try copy.attachedFiles() == source.attachedFiles())
        #expect(try copy.attachedAccounts() == source.attachedAccounts())
        #expect(try copy.attachedHooks() == source.attachedHooks())
        #expect(try copy.attachedHooks().map(\.hook.name) == ["locales", "default-target", "salt"])
        #expect(try copy.unit("RM204-07").profile.files.map(\.path).sorted()
            == ["/etc/cloud/cloud-init.disabled", "/etc/motd", "/etc/xdg/Veyon Solutions/Veyon.conf", "/opt/cad/licence.key"])
        for kind in CSVKind.allCases {
            #expect(try copy.exportCSV(kind) == source.exportCSV(kind), "\(kind)")
        }
        // The secrets are in the export, as the admin's spreadsheet: the hash and the secret file's template.
        #expect(try source.exportCSV(.accounts).contains("$6$saltsalt$0123456789abcdefABCDEF./"))
        #expect(try source.exportCSV(.files).contains("\n,RM204-07,/etc/motd,,kiosk,kiosk,yes,,\"  seat {{seat}}  \"\n"))
    }

    /// The export imported back with --update changes nothing: every row unchanged, no unit's revision raised.
    @Test func reimportIsUnchanged() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoWithAttachments(folder)
        let revisions = try inventory.units().map(\.revision)
        for kind in [CSVKind.files, .accounts, .hooks] {
            let report = try inventory.importCSV(try inventory.exportCSV(kind), file: kind.rawValue, update: true)
            #expect(report.added.isEmpty && report.updated.isEmpty && !report.unchanged.isEmpty, "\(kind): \(report)")
        }
        #expect(try inventory.units().map(\.revision) == revisions)
        #expect(try inventory.importCSV(try inventory.exportCSV(.files), file: "files.csv", update: true).unchanged.contains(
            "unit RM204-07: /etc/motd"))
    }

    /// A row for a path or name the group or unit already has is refused without --update, naming the line and the
    /// key column; with it the row replaces the attachment (a hook keeps its place) and raises the revisions.
    @Test func updateReplaces() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoWithAttachments(folder)
        let text = "group,hook,command,timeout\nRM204,locales,locale-gen --purge,60\nRM204,fonts,fc-cache,\n"
        let problems = try importProblems(inventory, text)
        #expect(problems == [RowProblem(
            line: 2, column: "hook", reason: "group RM204 already has the hook 'locales'; import with --update to replace it")])
        let revision = try inventory.unit("RM204-03").revision
        let report = try inventory.importCSV(text, file: "hooks.csv", update: true)
        #expect(report.updated == ["group RM204: locales"] && report.added == ["group RM204: fonts"])
        #expect(try inventory.unit("RM204-03").revision > revision)
        #expect(try inventory.attachedHooks(of: .group("RM204")).map(\.hook) == [
            Hook(name: "locales", command: "locale-gen --purge", timeout: 60),
            Hook(name: "default-target", command: "set -e\nsystemctl set-default 'graphical.target'"),
            Hook(name: "fonts", command: "fc-cache"),
        ])
    }

    /// Every bad cell is refused naming its line and column (an unknown group or unit, a path outside the root, a
    /// bad mode, a template naming an unknown field, both or neither of group and unit, a row twice), every bad cell
    /// of a row listed, and the file imports nothing.
    @Test func badFilesRows() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        try inventory.addField(CustomField(name: "licence_key", secret: true))
        let text = """
            group,unit,path,mode,owner,secret,from_field,template
            RM024,,/etc/a,,,,,{{nope}}
            ,RM204-99,/etc/b,,,,,x
            RM204,,/etc/../etc/shadow,,,,,x
            RM204,,/var/lib/imprint/state.json,,,,,x
            RM204,,/etc/c,4755,,,,x
            RM204,,/etc/d,0644,,yes,,x
            RM204,,/opt/cad/licence.key,,,,,{{licence_kye}}
            RM204,,/etc/e,,,,licence_key,{{hostname}}
            RM204,RM204-07,/etc/f,,,,,x
            ,,/etc/g,,,,,x
            RM204,,/etc/h,,Root,maybe,,{{#macs}}
            RM204,,/etc/i,0644,,,licence_key,
            RM204,,/etc/j,,,,,one
            RM204,,/etc/j,,,,,two
            RM204,,/etc/ok,,,,,fine
            """
        let problems = try importProblems(inventory, text)
        let found = problems.map { "\($0.line) \($0.column ?? "-")" }
        #expect(found == [
            "2 group", "2 template", "3 unit", "4 path", "5 path", "6 mode", "7 mode", "8 template", "9 from_field", "10 unit", "11 group",
            "12 secret", "12 owner", "12 template", "13 mode", "15 path",
        ])
        #expect(problems[0].description == "line 2, column 'group': no group 'RM024' (the closest existing group is 'RM204'); "
            + "fix the group name, or create it first with 'imprint inventory group add RM024'")
        #expect(problems[1].reason.contains("'nope'"), "an unknown group does not hide a bad template")
        #expect(problems[2].reason.contains("no unit 'RM204-99'"))
        #expect(problems[3].reason.contains("'..'"))
        #expect(problems[4].reason.contains("/var/lib/imprint/"))
        #expect(problems[7].reason.contains("'licence_kye'") && problems[7].reason.contains("the closest is 'licence_key'"))
        #expect(problems[14].reason.contains("(the file uses a secret field)"))
        #expect(problems[15].reason.contains("is also on line 14"))
        #expect(try inventory.attachedFiles().isEmpty, "a bad row imports nothing")
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        for problem in [problems[5], problems[7]] {
            let quotedLine = problem.description.replacingOccurrences(of: "line \(problem.line),", with: "line \(problem.line == 6 ? 3 : 2),")
            #expect(readme.contains("  \(quotedLine)\n"), "README quotes \(quotedLine)")
        }
        let skipped = try inventory.importCSV(text, file: "files.csv", skipInvalid: true)
        #expect(skipped.added == ["group RM204: /etc/j", "group RM204: /etc/ok"])
        #expect(skipped.skipped.count == 16)
    }

    /// Accounts and hooks rows are checked like `account add` and `hook add`: a bad hash is masked, a second
    /// autologin account of a group is refused, a bad phase, timeout or command names its column.
    @Test func badAccountAndHookRows() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let accounts = """
            group,unit,account,groups,shell,autologin,password_hash
            RM204,,kiosk,,,yes,
            RM204,,other,,,yes,
            RM204,,Tech,audio,bash,no,plain-text-password
            """
        let accountProblems = try importProblems(inventory, accounts).sorted { ($0.line, $0.column ?? "") < ($1.line, $1.column ?? "") }
        #expect(accountProblems.map { "\($0.line) \($0.column ?? "-")" } == ["2 autologin", "3 autologin", "4 account", "4 password_hash", "4 shell"])
        #expect(accountProblems[0].reason == "group RM204 would log in kiosk and other automatically, and a display logs in one user; "
            + "leave autologin on for one of them", "\(accountProblems[0].reason)")
        #expect(accountProblems[3].reason.contains("'********'") && !accountProblems[3].reason.contains("plain-text"))
        let hooks = """
            group,unit,hook,phase,timeout,command
            RM204,,a,later,,true
            RM204,,b,,0,true
            RM204,,c,,ten,true
            RM204,,d,first-boot,,
            """
        let hookProblems = try importProblems(inventory, hooks)
        #expect(hookProblems.map { "\($0.line) \($0.column ?? "-")" } == ["2 phase", "3 timeout", "4 timeout", "5 command"])
        #expect(try inventory.attachedAccounts().isEmpty && inventory.attachedHooks().isEmpty)
    }

    /// A file that moves autologin from one account to another is taken whichever row comes first (the rule of one
    /// autologin account per group is checked once every row is in); one that leaves two on is refused whole, with
    /// --skip-invalid too.
    @Test func autologinMovesInEitherOrder() throws {
        for rows in [["RM204,,tech,sudo,/bin/zsh,yes,", "RM204,,kiosk,audio video,/bin/bash,no,"],
                     ["RM204,,kiosk,audio video,/bin/bash,no,", "RM204,,tech,sudo,/bin/zsh,yes,"]] {
            let folder = try TemporaryDirectory()
            let inventory = try demoInventory(folder)
            try inventory.addAccount(LocalAccount(name: "kiosk", groups: ["audio", "video"], autologin: true), to: .group("RM204"))
            try inventory.addAccount(LocalAccount(name: "tech", groups: ["sudo"], shell: "/bin/zsh"), to: .group("RM204"))
            let text = (["group,unit,account,groups,shell,autologin,password_hash"] + rows).joined(separator: "\n") + "\n"
            let report = try inventory.importCSV(text, file: "accounts.csv", update: true)
            #expect(Set(report.updated) == ["group RM204: kiosk", "group RM204: tech"], "\(report)")
            let automatic = try inventory.attachedAccounts(of: .group("RM204")).filter(\.account.autologin).map(\.account.name)
            #expect(automatic == ["tech"])
        }
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        try inventory.addAccount(LocalAccount(name: "kiosk", groups: ["audio", "video"], autologin: true), to: .group("RM204"))
        let both = "group,unit,account,groups,shell,autologin,password_hash\nRM204,,tech,sudo,/bin/zsh,yes,\n"
        let problems = try importProblems(inventory, both)
        #expect(problems.map { "\($0.line) \($0.column ?? "-")" } == ["2 autologin"], "\(problems)")
        #expect(try inventory.attachedAccounts().map(\.account.name) == ["kiosk"], "nothing imported")
        // Leaving the row out would not mend it: refused with --skip-invalid too.
        #expect(throws: InventoryError.self) { try inventory.importCSV(both, file: "accounts.csv", skipInvalid: true) }
        #expect(try inventory.attachedAccounts().map(\.account.name) == ["kiosk"], "nothing imported")
    }

    /// A dry run reports what it would add and stores nothing.
    @Test func dryRun() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let report = try inventory.importCSV(try fixtureText("demo/hooks.csv"), file: "hooks.csv", dryRun: true)
        #expect(report.added == ["group RM204: locales", "group RM204: default-target", "unit RM204-01: salt"])
        #expect(try inventory.attachedHooks().isEmpty)
    }

    /// The header tells the kind: the demo's units, groups and printers files as before, each export's header its
    /// own kind, and a column an older inventory holds as a custom field named `path` tells no kind (the groups
    /// file stays a groups file); no new field may take a key column's name.
    @Test func detection() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        for kind in [CSVKind.printers, .groups, .units, .files, .accounts, .hooks] {
            #expect(try inventory.importCSV(try fixtureText("demo/\(kind.rawValue).csv"), file: kind.rawValue).kind == kind)
        }
        for kind in CSVKind.allCases {
            #expect(try inventory.importCSV(try inventory.exportCSV(kind), file: kind.rawValue, update: true, dryRun: true).kind == kind)
        }
        #expect { try inventory.addField(CustomField(name: "path")) } throws: { "\($0)".contains("is a column of the inventory's CSV files") }
        let added = try runProcess("/usr/bin/sqlite3", [folder.file("inventory.db"), "INSERT INTO customField (name, secret) VALUES ('path', 0)"])
        #expect(added.status == 0, "\(added.error)")
        let report = try inventory.importCSV("name,path\nRM204,/srv/rm204\n", file: "groups.csv", update: true)
        #expect(report.kind == .groups && report.updated == ["RM204"])
        #expect { try inventory.importCSV("group,unit\nRM204,\n", file: "x.csv") } throws: {
            "\($0)".contains("the header names no 'hostname' (units), 'name' (groups), 'uri' (printers), 'path' (files), "
                + "'account' (accounts) or 'hook' (hooks) column")
        }
    }
}

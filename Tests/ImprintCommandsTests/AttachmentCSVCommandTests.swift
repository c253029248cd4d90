import ArgumentParser
import Foundation
@testable import ImprintCommands
import ImprintTestSupport
import Testing

@Suite struct AttachmentCSVCommandTests {
    /// The demo's files, accounts and hooks files import after the room; --dry-run lists what it would add and
    /// stores nothing; the export of accounts, with its password hashes, is written mode 0600 and imports back
    /// unchanged.
    @Test func importDryRunAndPrivateExport() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let planned = imprint(["inventory", "import", fixturePath("demo/files.csv"), "--dry-run"], in: folder)
        #expect(planned.status == 0, "\(planned.err)")
        #expect(planned.out == """
            would import files: 3 added, 0 updated, 0 unchanged, 0 skipped
            would add group RM204: /etc/salt/minion_id
            would add group RM204: /etc/xdg/Veyon Solutions/Veyon.conf
            would add unit RM204-01: /etc/motd

            """)
        #expect(!imprint(["inventory", "file", "list"], in: folder).out.contains("/etc/motd"), "a dry run stores nothing")
        for kind in ["files", "accounts", "hooks"] {
            let imported = imprint(["inventory", "import", fixturePath("demo/\(kind).csv")], in: folder)
            #expect(imported.status == 0 && imported.out.hasPrefix("imported \(kind): "), "\(imported.err)")
        }
        #expect(imprint(["inventory", "account", "list"], in: folder).out.contains("kiosk"))
        let out = folder.file("accounts.csv")
        #expect(imprint(["inventory", "export", "--kind", "accounts", "-o", out], in: folder).status == 0)
        #expect(try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int == 0o600)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == fixtureText("demo/accounts.csv"))
        let again = imprint(["inventory", "import", out, "--update"], in: folder)
        #expect(again.out == "imported accounts: 0 added, 0 updated, 2 unchanged, 0 skipped\n", "\(again.err)")
        let refused = imprint(["inventory", "export", "--kind", "licences"], in: folder)
        #expect(refused.status == ExitStatus.usage.rawValue)
        #expect(refused.err.contains("'--kind' must be units, groups, printers, files, accounts or hooks, not 'licences'"), "\(refused.err)")
    }

    /// A bad row is refused with exit status 65, naming its line and column, and nothing is imported.
    @Test func badRowNamesLineAndColumn() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let file = try folder.write("files.csv", "group,unit,path,template\nRM204,,/etc/x.conf,{{licence_kye}}\n,RM204-07,etc/y,\n")
        let before = try Data(contentsOf: URL(fileURLWithPath: folder.file("inventory.db")))
        let refused = imprint(["inventory", "import", file], in: folder)
        #expect(refused.status == ExitStatus.invalidInput.rawValue)
        #expect(refused.err.contains("2 bad rows, nothing imported"), "\(refused.err)")
        #expect(refused.err.contains("line 2, column 'template': invalid field 'licence_kye': is named by the file /etc/x.conf"))
        #expect(refused.err.contains("line 3, column 'path': invalid file path 'etc/y': is not absolute"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder.file("inventory.db"))) == before, "nothing is written")
    }

    /// The import help lists the columns of every kind and how a row attaches; the export help says secrets are
    /// written and the file is made 0600.
    @Test func helpTexts() {
        func help(_ command: any ParsableCommand.Type) -> String {
            Imprint.helpMessage(for: command).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        let text = help(InventoryImport.self)
        #expect(text.contains("a 'hostname' column means units, 'uri' printers, 'path' files, 'account' accounts, 'hook' hooks"))
        #expect(text.contains("Files columns: group, unit, path, mode, owner, file_group, secret, from_field, template."))
        #expect(text.contains("Accounts columns: group, unit, account, groups, shell, autologin, password_hash."))
        #expect(text.contains("Hooks columns: group, unit, hook, phase, timeout, command."))
        let export = help(InventoryExport.self)
        #expect(export.contains("password hashes (accounts)") && export.contains("created mode 0600"))
        #expect(export.contains("What to export: units, groups, printers, files, accounts or hooks."))
    }
}

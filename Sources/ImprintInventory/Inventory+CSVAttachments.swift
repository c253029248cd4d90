import Foundation
import GRDB
import ImprintCore

// The files, accounts and hooks CSV files: one row per attachment, with a `group` or a `unit` cell saying where.

/// How one kind of attachment is read from a CSV row, checked against the inventory and stored.
struct AttachmentColumns<Item: Equatable> {
    /// What the item is called in messages: `file`, `account`, `hook`.
    var noun: String
    var kind: CSVKind
    /// The item's name where it is attached: a file's path, an account's or a hook's name.
    var key: (Item) -> String
    /// Reads the kind's own cells, reporting each bad one.
    var read: ([String: String], inout CellErrors) -> Item?
    /// The item as the inventory would store it (it only reads); throws a `CellError` when the inventory refuses it.
    var check: (Item, Database) throws -> Item
    /// The item of this name attached to exactly this group or unit.
    var existing: (String, Attachment, Database) throws -> Item?
    /// Stores the item, replacing the one of the same name there; throws a `CellError` when refused.
    var store: (Item, Attachment, Database) throws -> Void
    /// Checks what the whole file stored, once every row is in (a rule across rows, whose order must not matter);
    /// returns the problems, by line, which refuse the whole file.
    var checkStored: ([(line: Int, item: Item, attachment: Attachment)], Database) throws -> [RowProblem] = { _, _ in [] }
}

/// Collects every bad cell of one row, each with its column, so the admin fixes a row once.
struct CellErrors {
    var line: Int
    var problems: [RowProblem] = []

    mutating func add(_ column: String, _ reason: String) {
        problems.append(RowProblem(line: line, column: column, reason: reason))
    }

    mutating func check<T>(_ column: String, _ body: () throws(CoreError) -> T) -> T? {
        do {
            return try body()
        } catch {
            add(column, error.description)
            return nil
        }
    }
}

/// A cell that the inventory refuses, found once the row was read: an unknown group, a field no unit has.
struct CellError: Error {
    var column: String
    var reason: String
}

extension Inventory {
    /// Imports the rows of a files, accounts or hooks file. A row equal to what the group or unit has is reported
    /// unchanged and raises no revision; a row for a path or name it has with other values is an error unless
    /// `update`, and then replaces it as `file add`, `account add` or `hook add` does.
    func importAttachments<Item>(
        _ rows: [(line: Int, fields: [String: String])], _ columns: AttachmentColumns<Item>, into report: inout ImportReport,
        problems: inout [RowProblem], wholeFile: inout [RowProblem], update: Bool, db: Database
    ) throws {
        let keyColumn = columns.kind.keyColumn
        var seen: [String: Int] = [:]
        var stored: [(line: Int, item: Item, attachment: Attachment)] = []
        for (line, fields) in rows {
            var errors = CellErrors(line: line)
            let place = Self.attachment(fields, errors: &errors)
            let read = columns.read(fields, &errors)
            guard errors.problems.isEmpty, let place, let read else {
                problems += errors.problems
                continue
            }
            // An unknown group or unit and a refused value are both reported, so the admin fixes the row once.
            var failures: [CellError] = []
            var resolvedPlace: Attachment?
            var checked: Item?
            do { resolvedPlace = try resolved(place, db: db) } catch let error as CellError { failures.append(error) }
            do { checked = try columns.check(read, db) } catch let error as CellError { failures.append(error) }
            guard failures.isEmpty, let attachment = resolvedPlace, let item = checked else {
                problems += failures.map { RowProblem(line: line, column: $0.column, reason: $0.reason) }
                continue
            }
            do {
                let key = columns.key(item)
                let name = "\(attachment): \(key)"
                if let first = seen[name] {
                    throw CellError(column: keyColumn, reason: "\(columns.noun) \(quoted(key)) of \(attachment) is also on line \(first)")
                }
                seen[name] = line
                try db.inSavepoint {
                    let existing = try columns.existing(key, attachment, db)
                    if existing == item {
                        report.unchanged.append(name)
                        return .commit
                    }
                    if existing != nil && !update {
                        throw CellError(
                            column: keyColumn,
                            reason: "\(attachment) already has the \(columns.noun) \(quoted(key)); import with --update to replace it")
                    }
                    try columns.store(item, attachment, db)
                    if existing == nil { report.added.append(name) } else { report.updated.append(name) }
                    stored.append((line, item, attachment))
                    return .commit
                }
            } catch let error as CellError {
                problems.append(RowProblem(line: line, column: error.column, reason: error.reason))
            }
        }
        wholeFile += try columns.checkStored(stored, db)
    }

    /// Where a row attaches: its `group` cell or its `unit` cell (a hostname or an identifier), exactly one.
    static func attachment(_ fields: [String: String], errors: inout CellErrors) -> Attachment? {
        switch (cell(fields, "group"), cell(fields, "unit")) {
        case (let group?, nil): return .group(group.trimmingSpaces())
        case (nil, let unit?): return .unit(unit.trimmingSpaces())
        case (nil, nil): errors.add("group", "give the group whose units get it, or the unit (a hostname or an identifier)")
        case (.some, .some): errors.add("unit", "give the group or the unit, not both")
        }
        return nil
    }

    /// The group as the inventory has it, or the unit by its hostname; an unknown one is a bad cell.
    func resolved(_ attachment: Attachment, db: Database) throws -> Attachment {
        do {
            switch attachment {
            case .group(let name):
                _ = try unitGroupId(name, create: false, db: db)
                return attachment
            case .unit(let reference):
                return .unit(try hostname(ofUnit: try unitId(reference, db: db), db: db))
            }
        } catch let error as InventoryError {
            throw CellError(column: attachment.flag, reason: error.description)
        }
    }

    /// The `group` and `unit` cells of an attachment.
    static func attachmentCells(_ attachment: Attachment) -> [String] {
        switch attachment {
        case .group(let name): return [name, ""]
        case .unit(let hostname): return ["", hostname]
        }
    }

    // MARK: - Files

    var fileColumns: AttachmentColumns<UnitFile> {
        AttachmentColumns(
            noun: "file", kind: .files, key: \.path, read: Self.file,
            check: { file, db in
                let checked: UnitFile
                do {
                    checked = try self.checkedFile(file, db: db)
                } catch let error as InventoryError {
                    if case .field = file.content { throw CellError(column: "from_field", reason: error.description) }
                    throw CellError(column: "template", reason: error.description)
                }
                if let mode = checked.mode {
                    do throws(CoreError) { try UnitFile.checkMode(mode, secret: checked.secret) } catch {
                        throw CellError(column: "mode", reason: error.description + " (the file uses a secret field)")
                    }
                }
                return checked
            },
            existing: attachedFile(_:at:db:), store: storeFile(_:to:db:))
    }

    /// The file a row of a files CSV describes. Its content is the value of the field `from_field` names, or else
    /// the `template` cell as it is: an empty one is an empty file.
    static func file(_ fields: [String: String], errors: inout CellErrors) -> UnitFile? {
        func value(_ column: String) -> String? { cell(fields, column) }
        let path = errors.check("path") { () throws(CoreError) in try UnitFile.checkPath(fields["path"] ?? "") }
        let secret = errors.check("secret") { () throws(CoreError) in
            try value("secret").map { text throws(CoreError) in try YesNo.parse(text, field: "secret") } ?? false
        }
        let mode = errors.check("mode") { () throws(CoreError) in
            try value("mode").map { text throws(CoreError) in
                let bits = try UnitFile.parseMode(text)
                try UnitFile.checkMode(bits, secret: secret ?? false)
                return bits
            }
        } ?? nil
        let owner = errors.check("owner") { () throws(CoreError) in try UnitFile.checkAccount(value("owner") ?? "root", field: "owner") }
        // Without a file group the owner's name is the group, as `file add --owner USER` has it.
        let group = errors.check("file_group") { () throws(CoreError) in
            try UnitFile.checkAccount(value("file_group") ?? owner ?? "root", field: "file group")
        }
        let template = fields["template"] ?? ""
        let content: UnitFile.Content?
        if let name = value("from_field") {
            if !template.isEmpty { errors.add("from_field", "give the file's content in 'template' or in 'from_field', not both") }
            content = errors.check("from_field") { () throws(CoreError) in UnitFile.Content.field(try CustomField.checkName(name)) }
        } else {
            content = errors.check("template") { () throws(CoreError) in
                _ = try TemplateNames.scan(template)
                return UnitFile.Content.template(template)
            }
        }
        guard errors.problems.isEmpty, let path, let secret, let owner, let group, let content else { return nil }
        return errors.check("path") { () throws(CoreError) in
            try UnitFile(path: path, content: content, mode: mode, owner: owner, group: group, secret: secret)
        }
    }

    static func csvFields(_ file: UnitFile) -> [String] {
        var field = ""
        var template = ""
        switch file.content {
        case .field(let name): field = name
        case .template(let text): template = text
        }
        return [file.path, file.mode.map { FileMetadata(mode: $0).modeText } ?? "", file.owner, file.group, YesNo.text(file.secret),
                field, template]
    }

    // MARK: - Accounts

    var accountColumns: AttachmentColumns<LocalAccount> {
        AttachmentColumns(
            noun: "account", kind: .accounts, key: \.name, read: Self.account, check: { account, _ in account },
            existing: attachedAccount(_:at:db:),
            store: { account, attachment, db in try self.storeAccount(account, to: attachment, db: db) },
            checkStored: { stored, db in
                // One autologin account per group or unit, checked once the file is in: a file that moves autologin
                // from one account to another may list them in either order.
                var problems: [RowProblem] = []
                for attachment in Set(stored.map(\.attachment)).sorted(by: { "\($0)" < "\($1)" }) {
                    let names = try self.autologinAccounts(at: attachment, db: db)
                    guard names.count > 1 else { continue }
                    for row in stored where row.attachment == attachment && row.item.autologin {
                        problems.append(RowProblem(
                            line: row.line, column: "autologin",
                            reason: "\(attachment) would log in \(names.joined(separator: " and ")) automatically, and a display logs in "
                                + "one user; leave autologin on for one of them"))
                    }
                }
                return problems
            })
    }

    /// The account a row of an accounts CSV describes; an empty `password_hash` locks the password.
    static func account(_ fields: [String: String], errors: inout CellErrors) -> LocalAccount? {
        func value(_ column: String) -> String? { cell(fields, column) }
        let name = errors.check("account") { () throws(CoreError) in try LocalAccount.checkName(fields["account"] ?? "", field: "account name") }
        let groups = errors.check("groups") { () throws(CoreError) in
            try ValueList.split(value("groups") ?? "").map { text throws(CoreError) in try LocalAccount.checkName(text, field: "account group") }
        }
        let shell = errors.check("shell") { () throws(CoreError) in try LocalAccount.checkShell(value("shell")?.trimmingSpaces() ?? LocalAccount.defaultShell) }
        let hash = errors.check("password_hash") { () throws(CoreError) in
            try value("password_hash").map { text throws(CoreError) in try LocalAccount.checkHash(text.trimmingSpaces()) }
        } ?? nil
        let autologin = errors.check("autologin") { () throws(CoreError) in
            try value("autologin").map { text throws(CoreError) in try YesNo.parse(text, field: "autologin") } ?? false
        }
        guard errors.problems.isEmpty, let name, let groups, let shell, let autologin else { return nil }
        return errors.check("account") { () throws(CoreError) in
            try LocalAccount(name: name, groups: groups, shell: shell, passwordHash: hash, autologin: autologin)
        }
    }

    static func csvFields(_ account: LocalAccount) -> [String] {
        [account.name, account.groups.joined(separator: " "), account.shell, YesNo.text(account.autologin), account.passwordHash ?? ""]
    }

    // MARK: - Hooks

    var hookColumns: AttachmentColumns<Hook> {
        AttachmentColumns(
            noun: "hook", kind: .hooks, key: \.name, read: Self.hook, check: { hook, _ in hook },
            existing: attachedHook(_:at:db:), store: storeHook(_:to:db:))
    }

    /// The hook a row of a hooks CSV describes; an empty `phase` is offline, an empty `timeout` the default.
    static func hook(_ fields: [String: String], errors: inout CellErrors) -> Hook? {
        func value(_ column: String) -> String? { cell(fields, column) }
        let name = errors.check("hook") { () throws(CoreError) in try LocalAccount.checkName(fields["hook"] ?? "", field: "hook name") }
        let phase = errors.check("phase") { () throws(CoreError) in try value("phase").map(Hook.Phase.parse) ?? .offline }
        let timeout = errors.check("timeout") { () throws(CoreError) in
            guard let text = value("timeout") else { return Hook.defaultTimeout }
            guard let seconds = Int(text.trimmingSpaces()) else {
                throw .invalidValue(field: "hook timeout", value: text, reason: "give whole seconds from 1 to 86400")
            }
            return try Hook.checkTimeout(seconds)
        }
        let command = errors.check("command") { () throws(CoreError) in try Hook.checkCommand(fields["command"] ?? "") }
        guard errors.problems.isEmpty, let name, let phase, let timeout, let command else { return nil }
        return errors.check("hook") { () throws(CoreError) in try Hook(name: name, command: command, timeout: timeout, phase: phase) }
    }

    static func csvFields(_ hook: Hook) -> [String] {
        [hook.name, hook.phase.rawValue, String(hook.timeout), hook.command]
    }
}

import Foundation
import GRDB
import ImprintCore

/// Which table a CSV file describes, told by its header.
public enum CSVKind: String, Sendable, CaseIterable {
    case units, groups, printers, files, accounts, hooks

    /// The columns, in the order `export` writes them.
    public var columns: [String] {
        switch self {
        case .units:
            return ["hostname", "domain", "group", "model", "serial", "uuid", "asset_tag", "macs", "ipv4", "gateway4",
                    "ipv6", "gateway6", "dns", "search", "mtu", "wifi_ssid", "wifi_passphrase", "network", "netplan", "network_stack", "printers",
                    "default_printer", "notes"]
        case .groups:
            return ["name", "domain", "dns", "search", "network_mode", "network_stack", "naming_pattern", "enroll",
                    "printers", "default_printer"]
        case .printers:
            return ["name", "uri", "driver", "location", "description"]
        case .files:
            return ["group", "unit", "path", "mode", "owner", "file_group", "secret", "from_field", "template"]
        case .accounts:
            return ["group", "unit", "account", "groups", "shell", "autologin", "password_hash"]
        case .hooks:
            return ["group", "unit", "hook", "phase", "timeout", "command"]
        }
    }

    /// The column a header must have to be this kind: each kind's is a column no other kind has, but `name`,
    /// which printers have too (so they are told by `uri`).
    public var keyColumn: String {
        switch self {
        case .units: return "hostname"
        case .groups: return "name"
        case .printers: return "uri"
        case .files: return "path"
        case .accounts: return "account"
        case .hooks: return "hook"
        }
    }

    /// Units and groups files may add a column per custom field.
    public var holdsFields: Bool { self == .units || self == .groups }

    /// Other spellings admins' spreadsheets use for a column.
    static let aliases = ["mac": "macs", "asset": "asset_tag", "asset tag": "asset_tag", "serial_number": "serial",
                          "device_uri": "uri", "ip": "ipv4", "gateway": "gateway4"]

    /// The kind whose key column the header has; groups last, since a printers file has `name` too. A column named
    /// as a custom field (`fields`) holds that field and tells no kind, so a groups file with a field that an older
    /// inventory let be named `path` is still a groups file.
    static func detect(_ header: [String], fields: Set<String>) -> CSVKind? {
        let keys = Set(header).subtracting(fields)
        return [CSVKind.units, .printers, .files, .accounts, .hooks, .groups].first { keys.contains($0.keyColumn) }
    }
}

/// What an import did.
public struct ImportReport: Equatable, Sendable {
    public var kind: CSVKind
    public var added: [String] = []
    public var updated: [String] = []
    public var unchanged: [String] = []
    /// Groups that units named and that did not exist, created with default settings (with `createGroups`).
    public var createdGroups: [String] = []
    /// Rows left out (with `--skip-invalid`); without it any problem stops the import.
    public var skipped: [RowProblem] = []
    /// Notes on rows that were imported, such as hostnames longer than NetBIOS allows.
    public var warnings: [RowProblem] = []
}

extension Inventory {
    /// Imports a units, groups, printers, files, accounts or hooks CSV (told apart by the header) in one transaction.
    ///
    /// Every row is checked, and every bad row is reported with its line number: duplicates inside the file name
    /// both lines, identifiers, static addresses or names the inventory already has name the unit that has them,
    /// and a group the inventory does not have names the closest existing group. A files, accounts or hooks row
    /// names the column of each bad cell.
    /// - Parameters:
    ///   - file: the name shown in messages.
    ///   - skipInvalid: import the good rows and report the bad ones, instead of importing nothing.
    ///   - update: rows for existing records replace those records; otherwise they are errors.
    ///   - createGroups: create the groups units name that the inventory does not have, with default settings;
    ///     otherwise such a row is bad, since a mistyped group would silently get no domain, network or printers.
    ///   - dryRun: check and report everything, then roll back.
    ///   - fields: custom fields the file's columns of these names hold, declared if the inventory does not have
    ///     them (a column named as a declared field is read as that field without being named here).
    public func importCSV(
        _ text: String, file: String, skipInvalid: Bool = false, update: Bool = false, createGroups: Bool = false,
        dryRun: Bool = false, fields: [CustomField] = []
    ) throws(InventoryError) -> ImportReport {
        let records: [CSV.Record]
        do {
            records = try CSV.parse(text)
        } catch {
            throw .importFailed(file: file, problems: [RowProblem(line: error.line, reason: error.reason)])
        }
        guard let headerRecord = records.first else {
            throw .importFailed(file: file, problems: [RowProblem(line: 0, reason: "the file is empty; it needs a header line")])
        }
        let header = headerRecord.fields.map { field in
            let name = field.trimmingSpaces().lowercased()
            return CSVKind.aliases[name] ?? name
        }
        let declared = Set(try customFields().map(\.name) + fields.map(\.name))
        guard let kind = CSVKind.detect(header, fields: declared) else {
            let keys = CSVKind.allCases.map { "'\($0.keyColumn)' (\($0.rawValue))" }
            throw .importFailed(file: file, problems: [RowProblem(
                line: headerRecord.line,
                reason: "the header names no \(keys.dropLast().joined(separator: ", ")) or \(keys.last ?? "") column")])
        }
        var headerProblems: [RowProblem] = []
        let fieldNames = kind.holdsFields ? declared : []
        for (index, column) in header.enumerated() {
            if !kind.columns.contains(column) && !fieldNames.contains(column) {
                headerProblems.append(RowProblem(
                    line: headerRecord.line,
                    reason: "unknown column \(quoted(headerRecord.fields[index])) for \(kind.rawValue); known: \(kind.columns.joined(separator: ", "))"
                        + (kind.holdsFields ? "; a custom field's column is named with --field \(column) (or --secret-field)" : "")))
            } else if header[..<index].contains(column) {
                headerProblems.append(RowProblem(line: headerRecord.line, reason: "column '\(column)' appears twice"))
            }
        }
        if !headerProblems.isEmpty { throw .importFailed(file: file, problems: headerProblems) }

        var rows: [(line: Int, fields: [String: String])] = []
        var problems: [RowProblem] = []
        for record in records.dropFirst() {
            if record.fields.count > header.count {
                problems.append(RowProblem(
                    line: record.line, reason: "has \(record.fields.count) fields, the header \(header.count); quote fields that hold commas"))
                continue
            }
            var fields: [String: String] = [:]
            for (index, value) in record.fields.enumerated() { fields[header[index]] = value }
            rows.append((record.line, fields))
        }

        let importKind = kind
        return try importTransaction(
            rows, kind: importKind, problems: problems, file: file, skipInvalid: skipInvalid, update: update,
            createGroups: createGroups, dryRun: dryRun, fields: fields, custom: header.filter(fieldNames.contains))
    }

    private func importTransaction(
        _ rows: [(line: Int, fields: [String: String])], kind importKind: CSVKind, problems initial: [RowProblem], file: String,
        skipInvalid: Bool, update: Bool, createGroups: Bool, dryRun: Bool, fields: [CustomField], custom: [String]
    ) throws(InventoryError) -> ImportReport {
        var problems = initial
        var wholeFile: [RowProblem] = []
        return try write(commit: !dryRun) { db in
            for field in fields where custom.contains(field.name) { try self.declare(field, db: db) }
            var report = ImportReport(kind: importKind)
            switch importKind {
            case .units:
                try self.importUnits(
                    rows, into: &report, problems: &problems, update: update, createGroups: createGroups, custom: custom, db: db)
            case .groups: try self.importGroups(rows, into: &report, problems: &problems, update: update, custom: custom, db: db)
            case .printers: try self.importPrinters(rows, into: &report, problems: &problems, update: update, db: db)
            case .files:
                try self.importAttachments(rows, fileColumns, into: &report, problems: &problems, wholeFile: &wholeFile, update: update, db: db)
            case .accounts:
                try self.importAttachments(rows, accountColumns, into: &report, problems: &problems, wholeFile: &wholeFile, update: update, db: db)
            case .hooks:
                try self.importAttachments(rows, hookColumns, into: &report, problems: &problems, wholeFile: &wholeFile, update: update, db: db)
            }
            problems.sort { $0.line < $1.line }
            // A rule across rows cannot be mended by leaving rows out: such a file is refused, --skip-invalid or not.
            if !wholeFile.isEmpty || (!problems.isEmpty && !skipInvalid) {
                throw InventoryError.importFailed(file: file, problems: (problems + wholeFile).sorted { $0.line < $1.line })
            }
            report.skipped = problems
            return report
        }
    }

    /// Writes the units, groups, printers, attached files, accounts or hooks as CSV that `importCSV` reads back
    /// into the same inventory. Secrets are written as they are (Wi-Fi passphrases, secret fields, secret files'
    /// templates, password hashes): the caller keeps the text private.
    public func exportCSV(_ kind: CSVKind) throws(InventoryError) -> String {
        let custom = kind.holdsFields ? try customFields().map(\.name) : []
        var lines = [kind.columns + custom]
        switch kind {
        case .units:
            for unit in try units() { lines.append(Self.csvFields(unit.draft) + custom.map { unit.draft.fields[$0] ?? "" }) }
        case .groups:
            for group in try groups() {
                let draft = group.draft
                lines.append([
                    draft.name, draft.domain?.value ?? "", draft.dns.map(\.value).joined(separator: " "),
                    draft.search.map(\.value).joined(separator: " "), draft.networkMode.rawValue,
                    draft.networkStack?.rawValue ?? "", draft.namingPattern?.description ?? "", YesNo.text(draft.enroll),
                    draft.printers.map(\.value).joined(separator: " "), draft.defaultPrinter?.value ?? "",
                ] + custom.map { draft.fields[$0] ?? "" })
            }
        case .printers:
            for queue in try printers() {
                lines.append([
                    queue.name.value, queue.deviceURI.value, queue.driver.description, queue.location ?? "",
                    queue.description ?? "",
                ])
            }
        case .files:
            lines += try attachedFiles().map { Self.attachmentCells($0.attachment) + Self.csvFields($0.file) }
        case .accounts:
            lines += try attachedAccounts().map { Self.attachmentCells($0.attachment) + Self.csvFields($0.account) }
        case .hooks:
            lines += try attachedHooks().map { Self.attachmentCells($0.attachment) + Self.csvFields($0.hook) }
        }
        return CSV.format(lines)
    }

    // MARK: - Units

    private func importUnits(
        _ rows: [(line: Int, fields: [String: String])], into report: inout ImportReport, problems: inout [RowProblem],
        update: Bool, createGroups: Bool, custom: [String], db: Database
    ) throws {
        var drafts: [(line: Int, draft: UnitDraft)] = []
        for (line, fields) in rows {
            switch Self.unitDraft(fields, custom: custom) {
            case .success(let draft): drafts.append((line, draft))
            case .failure(let errors): problems.append(RowProblem(line: line, reason: errors.reasons.joined(separator: "; ")))
            }
        }
        let duplicated = Self.linesWithDuplicates(drafts, problems: &problems)
        let existingGroups = try String.fetchAll(db, sql: "SELECT name FROM unitGroup")
        var knownGroups = Set(existingGroups.map { $0.lowercased() })
        var addresses = try AddressOwners(db: db)
        for (line, draft) in drafts where !duplicated.contains(line) {
            if let group = draft.group, !createGroups, !knownGroups.contains(group.lowercased()) {
                let error = InventoryError.unknownGroup(
                    name: group, closest: Self.closest(to: group, among: existingGroups),
                    hint: "import with --create-groups to create the groups the file names")
                problems.append(RowProblem(line: line, reason: error.description))
                continue
            }
            do {
                var savedId: Int64?
                try db.inSavepoint {
                    let existing = try self.unitRow(hostname: draft.hostname.value, db: db)
                    if let existing, let id = existing.id {
                        guard update else {
                            throw InventoryError.alreadyExists(
                                kind: "unit", name: existing.hostname, hint: "import with --update to replace it")
                        }
                        let before = existing.revision
                        var draft = draft
                        // A custom field the file has no column for keeps the unit's value.
                        let kept = try self.fieldValues(unitId: id, db: db).filter { !custom.contains($0.key) }
                        draft.fields.merge(kept) { own, _ in own }
                        savedId = try self.save(draft, replacing: id, createGroup: createGroups, addresses: addresses, db: db)
                        let after = try Int.fetchOne(db, sql: "SELECT revision FROM unit WHERE id = ?", arguments: [id]) ?? before
                        if after == before { report.unchanged.append(draft.hostname.value) } else { report.updated.append(draft.hostname.value) }
                    } else {
                        savedId = try self.save(draft, replacing: nil, createGroup: createGroups, addresses: addresses, db: db)
                        report.added.append(draft.hostname.value)
                    }
                    if let group = draft.group, knownGroups.insert(group.lowercased()).inserted {
                        report.createdGroups.append(group)
                    }
                    if let warning = draft.hostname.warning { report.warnings.append(RowProblem(line: line, reason: warning)) }
                    return .commit
                }
                if let savedId { addresses.assign(draft.staticAddresses, to: savedId) }
            } catch let error as InventoryError {
                problems.append(RowProblem(line: line, reason: error.description))
            }
        }
    }

    /// The lines whose hostname, identifier or static address another line of the file also has, each reported.
    /// Both lines are bad, since either could be the right one.
    private static func linesWithDuplicates(_ drafts: [(line: Int, draft: UnitDraft)], problems: inout [RowProblem]) -> Set<Int> {
        var firstLine: [String: (line: Int, hostname: String)] = [:]
        var duplicated = Set<Int>()
        for (line, draft) in drafts {
            let keys = ["hostname \(draft.hostname.value.lowercased())"] + draft.identifiers.map(\.description)
                + draft.staticAddresses.map { "address \($0)" }
            for key in keys {
                if let first = firstLine[key] {
                    let what = key.hasPrefix("hostname ") ? "hostname \(draft.hostname.value)" : key
                    problems.append(RowProblem(line: line, reason: "\(what) is also on line \(first.line) (\(first.hostname))"))
                    problems.append(RowProblem(line: first.line, reason: "\(what) is also on line \(line) (\(draft.hostname.value))"))
                    duplicated.insert(line)
                    duplicated.insert(first.line)
                } else {
                    firstLine[key] = (line, draft.hostname.value)
                }
            }
        }
        return duplicated
    }

    /// Collects every problem of one row, so the admin fixes a row once.
    struct RowErrors: Error {
        var reasons: [String] = []

        mutating func check<T>(_ body: () throws(CoreError) -> T) -> T? {
            do {
                return try body()
            } catch {
                reasons.append(error.description)
                return nil
            }
        }
    }

    /// The text of a cell, or nil when the row has no such column or the cell holds only spaces.
    static func cell(_ fields: [String: String], _ column: String) -> String? {
        guard let text = fields[column], !text.trimmingSpaces().isEmpty else { return nil }
        return text
    }

    /// The custom field values of a row: the named columns' cells that hold something.
    static func customValues(_ fields: [String: String], _ custom: [String]) -> [String: String] {
        var values: [String: String] = [:]
        for name in custom { values[name] = cell(fields, name) }
        return values
    }

    static func unitDraft(_ fields: [String: String], custom: [String] = []) -> Result<UnitDraft, RowErrors> {
        var errors = RowErrors()
        func value(_ column: String) -> String? { cell(fields, column) }
        let hostname = errors.check { () throws(CoreError) in try Hostname(fields["hostname"] ?? "") }
        let domain = errors.check { () throws(CoreError) in try value("domain").map { text throws(CoreError) in try DomainName(text) } } ?? nil
        let group = errors.check { () throws(CoreError) in try value("group").map { text throws(CoreError) in try GroupDraft.checkName(text) } } ?? nil
        let model = errors.check { () throws(CoreError) in try UnitDraft.optionalText(value("model"), field: "model") } ?? nil
        let notes = errors.check { () throws(CoreError) in try UnitDraft.optionalText(value("notes"), field: "notes", maxLength: 1024) } ?? nil
        var identifiers: [Identifier] = []
        for (column, kind) in [("serial", IdentifierKind.serial), ("uuid", .uuid), ("asset_tag", .assetTag)] {
            if let text = value(column), let identifier = errors.check({ () throws(CoreError) in try Identifier(kind, text) }) {
                identifiers.append(identifier)
            }
        }
        var macs: [Identifier] = []
        for text in ValueList.split(value("macs") ?? "") {
            if let mac = errors.check({ () throws(CoreError) in try Identifier(.mac, text) }) { macs.append(mac) }
        }
        identifiers += macs

        let netplan = value("netplan")
        let interfaces = Self.interfaces(fields, firstMAC: macs.first, errors: &errors)
        let networkStack = errors.check { () throws(CoreError) in try value("network_stack").map { text throws(CoreError) in try NetworkStack(text) } } ?? nil
        var printers: [PrinterName] = []
        for text in ValueList.split(value("printers") ?? "") {
            if let printer = errors.check({ () throws(CoreError) in try PrinterName(text) }) { printers.append(printer) }
        }
        let defaultPrinter = errors.check { () throws(CoreError) in try value("default_printer").map { text throws(CoreError) in try PrinterName(text) } } ?? nil

        guard errors.reasons.isEmpty, let hostname else { return .failure(errors) }
        let draft = UnitDraft(
            hostname: hostname, domain: domain, group: group, model: model, notes: notes, identifiers: identifiers,
            interfaces: interfaces, printers: printers, defaultPrinter: defaultPrinter, netplan: netplan,
            networkStack: networkStack, fields: customValues(fields, custom))
        do throws(CoreError) {
            return .success(try draft.normalized())
        } catch {
            return .failure(RowErrors(reasons: [error.description]))
        }
    }

    /// The unit's cards from the row's network: the `network` JSON list, or the network columns for the first MAC's
    /// card (a `netplan` document is read later, by `UnitDraft.normalized()`).
    private static func interfaces(_ fields: [String: String], firstMAC: Identifier?, errors: inout RowErrors) -> [InterfaceConfig] {
        func value(_ column: String) -> String? { cell(fields, column) }
        var interfaces: [InterfaceConfig] = []
        let simpleColumns = ["ipv4", "gateway4", "ipv6", "gateway6", "dns", "search", "mtu", "wifi_ssid", "wifi_passphrase"]
        let usesSimple = simpleColumns.contains { value($0) != nil }
        let netplan = value("netplan")
        if netplan != nil, usesSimple || value("network") != nil {
            errors.reasons.append("give the network in one way: 'netplan', 'network' or the columns \(simpleColumns.joined(separator: ", "))")
        }
        if netplan != nil {
            // Read by UnitDraft.normalized() once the row is read, which reports a bad document as this row's error.
        } else if let json = value("network") {
            if usesSimple {
                errors.reasons.append("give the network either in 'network' or in the columns \(simpleColumns.joined(separator: ", ")), not both")
            }
            do {
                interfaces = try JSONDecoder().decode([InterfaceConfig].self, from: Data(json.utf8))
            } catch {
                errors.reasons.append("'network' must be a JSON list of interfaces, each with a 'mac': \(Self.decodingReason(error))")
            }
        } else if usesSimple {
            if let mac = firstMAC {
                let interface = errors.check { () throws(CoreError) in try simpleInterface(fields, mac: mac) }
                if let interface { interfaces = [interface] }
            } else {
                errors.reasons.append("network settings need a MAC address in 'macs' to bind to")
            }
        }
        return interfaces
    }

    /// The one card the network columns configure: the first MAC's.
    private static func simpleInterface(_ fields: [String: String], mac: Identifier) throws(CoreError) -> InterfaceConfig {
        func value(_ column: String) -> String? { cell(fields, column) }
        let v4 = try ValueList.split(value("ipv4") ?? "").map { text throws(CoreError) in try IPPrefix(text, field: "ipv4") }
        let v6 = try ValueList.split(value("ipv6") ?? "").map { text throws(CoreError) in try IPPrefix(text, field: "ipv6") }
        if let wrong = v4.first(where: { $0.address.family != .ipv4 }) {
            throw .invalidValue(field: "ipv4", value: wrong.description, reason: "is not an IPv4 address")
        }
        if let wrong = v6.first(where: { $0.address.family != .ipv6 }) {
            throw .invalidValue(field: "ipv6", value: wrong.description, reason: "is not an IPv6 address")
        }
        var mtu: Int?
        if let text = value("mtu") {
            guard let number = Int(text.trimmingSpaces()) else {
                throw .invalidValue(field: "MTU", value: text, reason: "must be a whole number such as 1500")
            }
            mtu = number
        }
        if value("wifi_passphrase") != nil && value("wifi_ssid") == nil {
            throw .invalidValue(field: "wifi_passphrase", value: "********", reason: "needs a wifi_ssid")
        }
        return try InterfaceConfig(
            mac: MACAddress(mac.value), addresses: v4 + v6,
            gateway4: value("gateway4").map { text throws(CoreError) in try IPAddress(text, field: "gateway4") },
            gateway6: value("gateway6").map { text throws(CoreError) in try IPAddress(text, field: "gateway6") },
            dns: ValueList.split(value("dns") ?? "").map { text throws(CoreError) in try IPAddress(text, field: "DNS server") },
            search: ValueList.split(value("search") ?? "").map { text throws(CoreError) in try DomainName(text, field: "search domain") },
            mtu: mtu,
            wifi: value("wifi_ssid").map { ssid throws(CoreError) in try WifiNetwork(ssid: ssid, passphrase: fields["wifi_passphrase"]) })
    }

    static func csvFields(_ draft: UnitDraft) -> [String] {
        func identifier(_ kind: IdentifierKind) -> String {
            draft.identifiers.first { $0.kind == kind }?.value ?? ""
        }
        let macs = draft.identifiers.filter { $0.kind == .mac }.map(\.value)
        var simple = Array(repeating: "", count: 9)
        var network = ""
        if draft.netplan != nil {
            // The pasted document is exported as given; the interfaces are read from it again on import.
        } else if let only = draft.interfaces.first, draft.interfaces.count == 1, only.mac?.value == macs.first, only.name == nil {
            simple = [
                only.addresses.filter { $0.address.family == .ipv4 }.map(\.description).joined(separator: " "),
                only.gateway4?.value ?? "",
                only.addresses.filter { $0.address.family == .ipv6 }.map(\.description).joined(separator: " "),
                only.gateway6?.value ?? "",
                only.dns.map(\.value).joined(separator: " "),
                only.search.map(\.value).joined(separator: " "),
                only.mtu.map(String.init) ?? "",
                only.wifi?.ssid ?? "",
                only.wifi?.passphrase ?? "",
            ]
        } else if !draft.interfaces.isEmpty {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            network = (try? encoder.encode(draft.interfaces)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        return [draft.hostname.value, draft.domain?.value ?? "", draft.group ?? "", draft.model ?? "",
                identifier(.serial), identifier(.uuid), identifier(.assetTag), macs.joined(separator: " ")]
            + simple
            + [network, draft.netplan ?? "", draft.networkStack?.rawValue ?? "", draft.printers.map(\.value).joined(separator: " "), draft.defaultPrinter?.value ?? "", draft.notes ?? ""]
    }

    static func decodingReason(_ error: any Error) -> String {
        if let error = error as? CoreError { return error.description }
        if case let DecodingError.dataCorrupted(context) = error {
            if let underlying = context.underlyingError as? CoreError { return underlying.description }
            return context.debugDescription
        }
        if case let DecodingError.keyNotFound(key, _) = error { return "'\(key.stringValue)' is missing" }
        if case let DecodingError.typeMismatch(_, context) = error {
            return "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
        }
        return "not valid JSON"
    }

    // MARK: - Groups and printers

    private func importGroups(
        _ rows: [(line: Int, fields: [String: String])], into report: inout ImportReport, problems: inout [RowProblem],
        update: Bool, custom: [String], db: Database
    ) throws {
        var seen: [String: Int] = [:]
        for (line, fields) in rows {
            var errors = RowErrors()
            let draft = errors.check { () throws(CoreError) in
                var draft = try Self.groupDraft(fields)
                draft.fields = Self.customValues(fields, custom)
                return draft
            }
            guard let draft else {
                problems.append(RowProblem(line: line, reason: errors.reasons.joined(separator: "; ")))
                continue
            }
            if let first = seen[draft.name.lowercased()] {
                problems.append(RowProblem(line: line, reason: "group \(quoted(draft.name)) is also on line \(first)"))
                continue
            }
            seen[draft.name.lowercased()] = line
            do {
                try db.inSavepoint {
                    if let existing = try GroupRow.filter(GroupRow.Columns.name == draft.name).fetchOne(db), let id = existing.id {
                        guard update else {
                            throw InventoryError.alreadyExists(kind: "group", name: existing.name, hint: "import with --update to replace it")
                        }
                        var draft = draft
                        let kept = try self.fieldValues(groupId: id, db: db).filter { !custom.contains($0.key) }
                        draft.fields.merge(kept) { own, _ in own }
                        if try self.groupDraft(id: id, db: db) == draft {
                            report.unchanged.append(draft.name)
                        } else {
                            _ = try self.save(draft, replacing: id, db: db)
                            try self.bumpRevisions(groupIds: [id], db: db)
                            report.updated.append(draft.name)
                        }
                    } else {
                        _ = try self.save(draft, replacing: nil, db: db)
                        report.added.append(draft.name)
                    }
                    return .commit
                }
            } catch let error as InventoryError {
                problems.append(RowProblem(line: line, reason: error.description))
            }
        }
    }

    /// The group a row of a groups CSV describes.
    static func groupDraft(_ fields: [String: String]) throws(CoreError) -> GroupDraft {
        func value(_ column: String) -> String? { cell(fields, column) }
        let enroll = try value("enroll").map { text throws(CoreError) in try YesNo.parse(text, field: "enroll") } ?? false
        return try GroupDraft(
            name: fields["name"] ?? "",
            domain: value("domain").map { text throws(CoreError) in try DomainName(text) },
            dns: ValueList.split(value("dns") ?? "").map { text throws(CoreError) in try IPAddress(text, field: "DNS server") },
            search: ValueList.split(value("search") ?? "").map { text throws(CoreError) in try DomainName(text, field: "search domain") },
            networkMode: try NetworkMode(value("network_mode") ?? "dhcp"),
            networkStack: value("network_stack").map { text throws(CoreError) in try NetworkStack(text) },
            namingPattern: value("naming_pattern").map { text throws(CoreError) in try NamingPattern(text) },
            enroll: enroll,
            printers: ValueList.split(value("printers") ?? "").map { text throws(CoreError) in try PrinterName(text) },
            defaultPrinter: value("default_printer").map { text throws(CoreError) in try PrinterName(text) })
    }

    private func importPrinters(
        _ rows: [(line: Int, fields: [String: String])], into report: inout ImportReport, problems: inout [RowProblem],
        update: Bool, db: Database
    ) throws {
        var seen: [String: Int] = [:]
        for (line, fields) in rows {
            var errors = RowErrors()
            let queue = errors.check { () throws(CoreError) -> PrinterQueue in
                try PrinterQueue(
                    name: PrinterName(fields["name"] ?? ""), deviceURI: DeviceURI(fields["uri"] ?? ""),
                    driver: PrinterDriver(fields["driver"].flatMap { $0.isEmpty ? nil : $0 } ?? "everywhere"),
                    location: fields["location"].flatMap { $0.isEmpty ? nil : $0 },
                    description: fields["description"].flatMap { $0.isEmpty ? nil : $0 })
            }
            guard let queue else {
                problems.append(RowProblem(line: line, reason: errors.reasons.joined(separator: "; ")))
                continue
            }
            if let first = seen[queue.name.value.lowercased()] {
                problems.append(RowProblem(line: line, reason: "printer \(quoted(queue.name.value)) is also on line \(first)"))
                continue
            }
            seen[queue.name.value.lowercased()] = line
            do {
                try db.inSavepoint {
                    var row = PrinterRow(queue: queue)
                    if let existing = try PrinterRow.filter(PrinterRow.Columns.name == queue.name.value).fetchOne(db) {
                        guard update else {
                            throw InventoryError.alreadyExists(kind: "printer", name: existing.name, hint: "import with --update to replace it")
                        }
                        row.id = existing.id
                        if row == existing {
                            report.unchanged.append(queue.name.value)
                        } else {
                            try row.update(db)
                            try self.bumpRevisions(printerIds: [existing.id].compactMap { $0 }, db: db)
                            report.updated.append(queue.name.value)
                        }
                    } else {
                        try row.insert(db)
                        report.added.append(queue.name.value)
                    }
                    return .commit
                }
            } catch let error as InventoryError {
                problems.append(RowProblem(line: line, reason: error.description))
            }
        }
    }
}

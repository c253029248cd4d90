import ArgumentParser
import Foundation
import ImprintCore
import ImprintInventory

struct InventoryImport: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import units, groups or printers from a CSV file, in one transaction.",
        discussion: """
            The header tells the kind: a 'hostname' column means units, 'uri' printers, 'name' groups. Import \
            printers, then groups, then units. A file with any bad row imports nothing and lists every bad row \
            with its line number; --skip-invalid imports the good rows and still lists the bad ones.

            A unit's group must exist: a group the inventory does not have is a bad row naming the closest \
            existing group (a mistyped room would get no domain, network or printers). --create-groups creates \
            them with default settings instead. Static addresses are unique like identifiers: an address on two \
            rows, or already another unit's, is a bad row naming the other unit, and so is a subnet's network or \
            broadcast address.

            Units columns: \(CSVKind.units.columns.joined(separator: ", ")).
            Lists (macs, ipv4, ipv6, dns, search, printers) are separated by \(ValueList.separatorsDescription). \
            The network columns configure the card of the first MAC in 'macs'; 'network' instead takes a JSON list \
            of interfaces for units with more.
            Groups columns: \(CSVKind.groups.columns.joined(separator: ", ")).
            Printers columns: \(CSVKind.printers.columns.joined(separator: ", ")).
            """)

    @Argument(help: "The CSV file, or '-' for standard input.") var file: String
    @Flag(name: .customLong("skip-invalid"), help: "Import the good rows, report the bad ones.") var skipInvalid = false
    @Flag(help: "Rows for existing records replace them (otherwise they are errors).") var update = false
    @Flag(name: .customLong("create-groups"), help: ArgumentHelp(
        "Create the groups units name that do not exist yet, with default settings (otherwise those rows are refused)."))
    var createGroups = false
    @Flag(name: .customLong("dry-run"), help: "Check everything and report, change nothing.") var dryRun = false
    @Flag(help: "Print the report as JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    struct View: Encodable {
        var kind: String
        var dryRun: Bool
        var added: [String]
        var updated: [String]
        var unchanged: [String]
        var createdGroups: [String]
        var skipped: [String]
        var warnings: [String]
    }

    func run(_ context: CommandContext) throws {
        let text = try readInput(file)
        let inventory = try global.openInventory(context)
        let report = try inventory.importCSV(
            text, file: file, skipInvalid: skipInvalid, update: update, createGroups: createGroups, dryRun: dryRun)
        let view = View(
            kind: report.kind.rawValue, dryRun: dryRun, added: report.added, updated: report.updated,
            unchanged: report.unchanged, createdGroups: report.createdGroups,
            skipped: report.skipped.map(\.description), warnings: report.warnings.map(\.description))
        if json {
            try context.printJSON(view)
        } else {
            var lines = ["\(dryRun ? "would import" : "imported") \(report.kind.rawValue): \(report.added.count) added, "
                + "\(report.updated.count) updated, \(report.unchanged.count) unchanged, \(report.skipped.count) skipped"]
            if !report.createdGroups.isEmpty { lines.append("created groups: \(report.createdGroups.joined(separator: ", "))") }
            lines += report.skipped.map { "skipped \($0)" }
            context.print(lines.joined(separator: "\n"))
        }
        for warning in report.warnings { context.warn(warning.description) }
        if !report.skipped.isEmpty { throw ExitCode(ExitStatus.invalidInput.rawValue) }
    }
}

struct InventoryExport: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write units, groups or printers as CSV that 'import' reads back.",
        discussion: "The units file holds Wi-Fi passphrases in clear text; with -o it is created mode 0600.")

    @Option(help: "What to export: units, groups or printers.") var kind: String = "units"
    @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file (atomically) instead of standard output.", valueName: "file"))
    var output: String?
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if CSVKind(rawValue: kind) == nil { throw ValidationError("'--kind' must be units, groups or printers, not \(quoted(kind))") }
    }

    func run(_ context: CommandContext) throws {
        let csv = try global.openInventory(context, readOnly: true).exportCSV(CSVKind(rawValue: kind) ?? .units)
        if let output {
            // The host's own root: the same atomic replace the agent uses, with a private mode.
            try TargetRoot("/").write(URL(fileURLWithPath: output).path, Data(csv.utf8), metadata: FileMetadata(mode: 0o600))
        } else {
            context.output(csv)
        }
    }
}

struct InventoryName: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "name", abstract: "Preload names for machines known by one identifier each, from a pattern.",
        discussion: """
            Each identifier (a serial, MAC, UUID or asset tag, one per argument or per line of --from) becomes a \
            unit named by the pattern, numbered past the highest name the pattern already gave: with RM204-01 to \
            RM204-12 taken, 'RM204-{##}' continues at RM204-13. All or nothing: an identifier the inventory already \
            has stops the request.

            Example: imprint inventory name --group RM204 --pattern 'RM204-{##}' --from serials.txt
            """)

    @Argument(help: "Identifiers, in seat order.") var identifiers: [String] = []
    @Option(name: .customLong("from"), help: ArgumentHelp("Read identifiers from this file, one per line ('-' for standard input).", valueName: "file"))
    var fromFile: String?
    @Option(help: "Naming pattern: a counter ('RM204-{##}') or {serial}, {mac}, {asset} ('LAB-{serial}') (default: the group's).") var pattern: String?
    @Option(help: "Group the new units join.") var group: String?
    @Option(help: "Kind of the identifiers: serial, uuid, asset or mac (default: guessed from each value's shape).")
    var kind: String?
    @Option(help: "The lowest number to give.") var start: Int = 1
    @Flag(help: "Print JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if identifiers.isEmpty && fromFile == nil { throw ValidationError("give identifiers as arguments or with '--from'") }
        if let kind, IdentifierKind(rawValue: kind) == nil {
            throw ValidationError("'--kind' must be serial, uuid, asset or mac, not \(quoted(kind))")
        }
        if let pattern {
            do { _ = try NamingPattern(pattern) } catch { throw ValidationError(flag: "--pattern", error) }
        }
        if start < 0 || start > NamingPattern.largestCounter {
            throw ValidationError("'--start' must be 0 to \(NamingPattern.largestCounter)")
        }
    }

    struct Named: Encodable {
        var hostname: String
        var identifier: String
    }

    func run(_ context: CommandContext) throws {
        var texts = identifiers
        if let fromFile {
            texts += try readInput(fromFile).split(whereSeparator: \.isNewline).map { String($0).trimmingSpaces() }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        }
        var parsed: [Identifier] = []
        var problems: [RowProblem] = []
        for (index, text) in texts.enumerated() {
            do {
                if let kind, let known = IdentifierKind(rawValue: kind) {
                    parsed.append(try Identifier(known, text))
                } else {
                    parsed.append(try Identifier.guessingKind(text))
                }
            } catch {
                problems.append(RowProblem(line: index + 1, reason: error.description))
            }
        }
        if !problems.isEmpty { throw InventoryError.importFailed(file: fromFile ?? "identifier list", problems: problems) }
        let named = try global.openInventory(context).name(
            parsed, pattern: try pattern.map { text throws(CoreError) in try NamingPattern(text) }, group: group, start: start)
        if json {
            try context.printJSON(named.map { Named(hostname: $0.hostname.value, identifier: $0.identifier.description) })
        } else {
            context.print(named.map { "\($0.hostname)  \($0.identifier)" }.joined(separator: "\n"))
            for warning in Set(named.compactMap(\.hostname.warning)).sorted() { context.warn(warning) }
        }
    }
}

/// The text of `path`, or of standard input for `-`.
func readInput(_ path: String) throws -> String {
    let data: Data?
    if path == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        data = FileManager.default.contents(atPath: path)
    }
    guard let data else {
        throw CommandFailure(status: .missingInput, message: "cannot read \(quoted(path)): no such file, or not readable")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw CommandFailure(status: .invalidInput, message: "\(quoted(path)) is not UTF-8 text; save the spreadsheet as CSV UTF-8")
    }
    return text
}

import ArgumentParser
import ImprintCore
import ImprintInventory

struct InventoryImport: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import units, groups, printers, attached files, accounts or hooks from a CSV file, in one transaction.",
        discussion: """
            The header tells the kind: a 'hostname' column means units, 'uri' printers, 'path' files, 'account' \
            accounts, 'hook' hooks, and otherwise 'name' groups. Import printers, then groups, then units, then \
            the files, accounts and hooks attached to them. A file with any bad row imports nothing and lists \
            every bad row with its line number (and for files, accounts and hooks the column of each bad cell); \
            --skip-invalid imports the good rows and still lists the bad ones. --dry-run lists what would be \
            added and updated.

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
            Units and groups files may add a column per custom field ('inventory field'): name new ones with \
            --field or --secret-field; an empty cell means no value. With --update, a field the file has no column \
            for keeps its values.

            Files, accounts and hooks files have a row per attachment, and in it either a 'group' (every unit of \
            the group gets it) or a 'unit' (a hostname or an identifier). A row equal to what the group or unit \
            has is unchanged; with --update a row replaces what it has of the same path or name, as 'file add', \
            'account add' and 'hook add' do. Nothing is ever detached (use 'file remove', 'account remove', \
            'hook remove').
            Files columns: \(CSVKind.files.columns.joined(separator: ", ")). 'template' holds the Mustache text \
            (quoted, over several lines), or 'from_field' names the custom field whose value is the content; an \
            empty mode means 0644 (0600 if secret), an empty owner root, an empty file_group the owner's name.
            Accounts columns: \(CSVKind.accounts.columns.joined(separator: ", ")). An empty password_hash locks \
            the password; an empty shell is \(LocalAccount.defaultShell).
            Hooks columns: \(CSVKind.hooks.columns.joined(separator: ", ")). phase is offline (if empty) or \
            first-boot; an empty timeout is \(Hook.defaultTimeout) seconds. New hooks run after the existing ones, \
            in the file's order.

            Examples:
              imprint inventory import files.csv --dry-run
              imprint inventory import accounts.csv --update
            """)

    @Argument(help: "The CSV file, or '-' for standard input.") var file: String
    @Flag(name: .customLong("skip-invalid"), help: "Import the good rows, report the bad ones.") var skipInvalid = false
    @Flag(help: "Rows for existing records replace them (otherwise they are errors).") var update = false
    @Flag(name: .customLong("create-groups"), help: ArgumentHelp(
        "Create the groups units name that do not exist yet, with default settings (otherwise those rows are refused)."))
    var createGroups = false
    @Flag(name: .customLong("dry-run"), help: "Check everything and report, change nothing.") var dryRun = false
    @Option(name: .customLong("field"), help: ArgumentHelp(
        "A column holding a custom field, declared if new (repeatable); columns named as declared fields need no flag.",
        valueName: "name"))
    var fields: [String] = []
    @Option(name: .customLong("secret-field"), help: ArgumentHelp(
        "A column holding a secret custom field (a licence key), declared secret (repeatable).", valueName: "name"))
    var secretFields: [String] = []
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
            text, file: file, skipInvalid: skipInvalid, update: update, createGroups: createGroups, dryRun: dryRun,
            fields: try fields.map { name throws(CoreError) in try CustomField(name: name) }
                + secretFields.map { name throws(CoreError) in try CustomField(name: name, secret: true) })
        let view = View(
            kind: report.kind.rawValue, dryRun: dryRun, added: report.added, updated: report.updated,
            unchanged: report.unchanged, createdGroups: report.createdGroups,
            skipped: report.skipped.map(\.description), warnings: report.warnings.map(\.description))
        if json {
            try context.printJSON(view)
        } else {
            var lines = ["\(dryRun ? "would import" : "imported") \(report.kind.rawValue): \(report.added.count) added, "
                + "\(report.updated.count) updated, \(report.unchanged.count) unchanged, \(report.skipped.count) skipped"]
            if dryRun { lines += report.added.map { "would add \($0)" } + report.updated.map { "would update \($0)" } }
            if !report.createdGroups.isEmpty { lines.append("created groups: \(report.createdGroups.joined(separator: ", "))") }
            lines += report.skipped.map { "skipped \($0)" }
            context.print(lines.joined(separator: "\n"))
        }
        for warning in report.warnings { context.warn(warning.description) }
        if !report.skipped.isEmpty { throw ExitCode(ExitStatus.invalidInput.rawValue) }
    }
}

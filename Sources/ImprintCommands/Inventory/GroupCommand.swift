import ArgumentParser
import ImprintCore
import ImprintInventory

struct GroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group", abstract: "Manage groups (a room, a cart, a site) and the defaults their units inherit.",
        subcommands: [GroupAdd.self, GroupSet.self, GroupRemove.self, GroupShow.self, GroupList.self])
}

/// The group settings `group add` and `group set` take.
struct GroupOptions: ParsableArguments {
    @Option(help: "DNS domain of the group's units.") var domain: String?
    @Option(help: "DNS servers (repeatable, or a list: '10.0.0.53;10.0.0.54').") var dns: [String] = []
    @Option(help: "DNS search domains (repeatable, or a list).") var search: [String] = []
    @Option(name: .customLong("network-mode"), help: "dhcp or static: how cards without their own settings get an address.")
    var networkMode: String?
    @Option(name: .customLong("network-stack"), help: "Force a stack: netplan, networkmanager, networkd, ifupdown or ifcfg (default: detected).")
    var networkStack: String?
    @Option(name: .customLong("naming-pattern"), help: ArgumentHelp(
        "Pattern for new names: a counter ('RM204-{##}') or the unit's own {serial}, {mac} or {asset} ('LAB-{serial}'); units enrolling on their own need the latter.",
        valueName: "pattern")) var namingPattern: String?
    @Option(help: "yes to let unknown units enrol themselves into this group at their first run.") var enroll: String?
    @Option(name: .customLong("printer"), help: "A queue for every unit of the group (repeatable).") var printers: [String] = []
    @Option(name: .customLong("default-printer"), help: "The group's default queue.") var defaultPrinter: String?

    func changes() throws -> GroupChanges {
        var changes = GroupChanges()
        changes.domain = try change(domain) { text throws(CoreError) in try DomainName(text) }
        if !dns.isEmpty { changes.dns = try ValueList.split(dns).map { text throws(CoreError) in try IPAddress(text, field: "--dns") } }
        if !search.isEmpty { changes.search = try ValueList.split(search).map { text throws(CoreError) in try DomainName(text, field: "--search") } }
        changes.networkMode = try networkMode.map { text throws(CoreError) in try NetworkMode(text) }
        changes.networkStack = try change(networkStack) { text throws(CoreError) in try NetworkStack(text) }
        changes.namingPattern = try change(namingPattern) { text throws(CoreError) in try NamingPattern(text) }
        if let enroll {
            do {
                changes.enroll = try YesNo.parse(enroll, field: "--enroll")
            } catch {
                throw ValidationError("'--enroll' takes yes or no, not \(quoted(enroll))")
            }
        }
        changes.addPrinters = try printers.map { text throws(CoreError) in try PrinterName(text) }
        changes.defaultPrinter = try change(defaultPrinter) { text throws(CoreError) in try PrinterName(text) }
        return changes
    }
}

struct GroupAdd: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a group.")

    @Argument(help: "The group's name.") var name: String
    @OptionGroup var settings: GroupOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        do { _ = try settings.changes().applied(to: try GroupDraft(name: name)) } catch let error as CoreError {
            throw ValidationError(error.description)
        }
    }

    func run(_ context: CommandContext) throws {
        let draft = try settings.changes().applied(to: try GroupDraft(name: name))
        try global.openInventory(context).addGroup(draft)
        context.print("added group \(draft.name)")
    }
}

struct GroupSet: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change a group; each of its units gets a new revision.",
        discussion: "An empty value clears a setting: --domain ''. --dns and --search replace the lists.")

    @Argument(help: "The group's name.") var name: String
    @Option(help: "Rename the group.") var rename: String?
    @OptionGroup var settings: GroupOptions
    @Option(name: .customLong("remove-printer"), help: "Drop a queue from the group.") var removePrinters: [String] = []
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        var changes = try settings.changes()
        changes.name = rename
        changes.removePrinters = try removePrinters.map { text throws(CoreError) in try PrinterName(text) }
        try global.openInventory(context).updateGroup(name, changes)
        context.print("changed group \(rename ?? name)")
    }
}

struct GroupRemove: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a group that has no units.")

    @Argument(help: "The group's name.") var name: String
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        try global.openInventory(context).removeGroup(name)
        context.print("removed group \(name)")
    }
}

struct GroupView: Encodable {
    var name: String
    @Nullable var domain: String?
    var dns: [String]
    var search: [String]
    var networkMode: String
    @Nullable var networkStack: String?
    @Nullable var namingPattern: String?
    var enroll: Bool
    var printers: [String]
    @Nullable var defaultPrinter: String?
    var units: Int

    init(_ record: GroupRecord) {
        let draft = record.draft
        name = draft.name
        domain = draft.domain?.value
        dns = draft.dns.map(\.value)
        search = draft.search.map(\.value)
        networkMode = draft.networkMode.rawValue
        networkStack = draft.networkStack?.rawValue
        namingPattern = draft.namingPattern?.description
        enroll = draft.enroll
        printers = draft.printers.map(\.value)
        defaultPrinter = draft.defaultPrinter?.value
        units = record.unitCount
    }
}

struct GroupShow: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a group's settings.")

    @Argument(help: "The group's name.") var name: String
    @Flag(help: "Print JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let view = GroupView(try global.openInventory(context, readOnly: true).group(name))
        if json {
            try context.printJSON(view)
            return
        }
        context.print("""
            group \(view.name) (\(view.units) units)
              domain          \(view.domain ?? "-")
              dns             \(view.dns.isEmpty ? "-" : view.dns.joined(separator: " "))
              search          \(view.search.isEmpty ? "-" : view.search.joined(separator: " "))
              network         \(view.networkMode), stack \(view.networkStack ?? "detected from the image")
              naming pattern  \(view.namingPattern ?? "-")\(view.enroll ? " (unknown units may enrol)" : "")
              printers        \(view.printers.isEmpty ? "-" : view.printers.joined(separator: " "))
              default printer \(view.defaultPrinter ?? "-")
            """)
    }
}

struct GroupList: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the groups.")

    @Flag(help: "Print JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let views = try global.openInventory(context, readOnly: true).groups().map(GroupView.init)
        if json {
            try context.printJSON(views)
            return
        }
        context.print(Render.table(
            ["GROUP", "UNITS", "DOMAIN", "NETWORK", "PATTERN", "PRINTERS"],
            views.map { [$0.name, String($0.units), $0.domain ?? "-", $0.networkMode, $0.namingPattern ?? "-",
                         $0.printers.isEmpty ? "-" : $0.printers.joined(separator: " ")] }))
    }
}

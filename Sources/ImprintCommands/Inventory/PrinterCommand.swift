import ArgumentParser
import ImprintCore
import ImprintInventory

struct PrinterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "printer", abstract: "Manage the print queues that groups and units are given.",
        subcommands: [PrinterAdd.self, PrinterSet.self, PrinterRemove.self, PrinterList.self])
}

struct PrinterAdd: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a print queue.",
        discussion: "Example: imprint inventory printer add rm204-laser --uri ipp://10.20.4.5/ipp/print --location 'Room 204'")

    @Argument(help: "The CUPS queue name: no spaces, / \\ ? ' \" or #.") var name: String
    @Option(help: "The device URI, e.g. ipp://10.20.4.5/ipp/print or socket://10.20.4.6:9100.") var uri: String
    @Option(help: "everywhere (driverless IPP), raw, or the path of a .ppd file on the unit.") var driver: String = "everywhere"
    @Option(help: "Where the printer stands.") var location: String?
    @Option(help: "A description users see.") var description: String?
    @OptionGroup var global: GlobalOptions

    func queue() throws -> PrinterQueue {
        try PrinterQueue(
            name: PrinterName(name), deviceURI: DeviceURI(uri), driver: PrinterDriver(driver), location: location,
            description: description)
    }

    func validate() throws {
        do { _ = try queue() } catch { throw ValidationError(String(describing: error)) }
    }

    func run(_ context: CommandContext) throws {
        let queue = try queue()
        try global.openInventory(context).addPrinter(queue)
        context.print("added printer \(queue.name)")
    }
}

struct PrinterSet: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change a print queue; every unit that has it gets a new revision.")

    @Argument(help: "The queue name.") var name: String
    @Option(help: "New device URI.") var uri: String?
    @Option(help: "everywhere, raw, or a .ppd path.") var driver: String?
    @Option(help: "Where the printer stands ('' clears).") var location: String?
    @Option(help: "A description users see ('' clears).") var description: String?
    @OptionGroup var global: GlobalOptions

    func changes() throws -> PrinterChanges {
        var changes = PrinterChanges()
        changes.deviceURI = try uri.map { text throws(CoreError) in try DeviceURI(text) }
        changes.driver = try driver.map { text throws(CoreError) in try PrinterDriver(text) }
        changes.location = try change(location) { text throws(CoreError) in try FieldText.check(text, field: "location", maxLength: 255) }
        changes.description = try change(description) { text throws(CoreError) in try FieldText.check(text, field: "description", maxLength: 255) }
        return changes
    }

    func validate() throws {
        do { _ = try changes() } catch { throw ValidationError(String(describing: error)) }
    }

    func run(_ context: CommandContext) throws {
        try global.openInventory(context).updatePrinter(name, try changes())
        context.print("changed printer \(name)")
    }
}

struct PrinterRemove: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a queue no group or unit uses.")

    @Argument(help: "The queue name.") var name: String
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        try global.openInventory(context).removePrinter(name)
        context.print("removed printer \(name)")
    }
}

struct PrinterList: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the print queues.")

    @Flag(help: "Print JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let printers = try global.openInventory(context, readOnly: true).printers()
        if json {
            try context.printJSON(printers.map(PrinterView.init))
            return
        }
        context.print(Render.table(
            ["PRINTER", "URI", "DRIVER", "LOCATION"],
            printers.map { [$0.name.value, $0.deviceURI.value, $0.driver.description, $0.location ?? "-"] }))
    }
}

/// A queue in `printer list --json`, named as the CSV and `printer add` name its fields.
struct PrinterView: Encodable {
    var name: String
    var uri: String
    var driver: String
    @Nullable var location: String?
    @Nullable var description: String?

    init(_ queue: PrinterQueue) {
        name = queue.name.value
        uri = queue.deviceURI.value
        driver = queue.driver.description
        location = queue.location
        description = queue.description
    }
}

import ArgumentParser
import ImprintCore
import ImprintInventory

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

import ArgumentParser
import ImprintCore
import ImprintInventory

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

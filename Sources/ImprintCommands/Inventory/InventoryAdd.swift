import ArgumentParser
import ImprintCore
import ImprintInventory

struct InventoryAdd: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a unit.",
        discussion: "Example: imprint inventory add RM204-07 --group RM204 --serial 7XK07QF9 --mac 3c:52:82:20:04:07 --ipv4 10.20.4.107/24 --gateway4 10.20.4.1")

    @Argument(help: "The unit's hostname: letters, digits and '-', at most 63.") var hostname: String
    @OptionGroup var unit: UnitOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        do {
            _ = try unit.changes(to: .empty(try Hostname(hostname)))
        } catch let error as CoreError {
            throw ValidationError(error.description)
        }
    }

    func run(_ context: CommandContext) throws {
        let name = try Hostname(hostname)
        let draft = try unit.changes(to: .empty(name)).applied(to: .empty(name))
        let record = try global.openInventory(context).addUnit(draft)
        if let warning = name.warning { context.warn(warning) }
        context.print("added \(record.draft.hostname) (revision \(record.revision))")
    }
}

import ArgumentParser
import ImprintCore
import ImprintInventory

struct InventoryList: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the units.")

    @Option(help: "Only the units of this group.") var group: String?
    @Flag(help: "Print JSON (Wi-Fi passphrases masked).") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let units = try global.openInventory(context, readOnly: true).units(group: group)
        if json {
            try context.printJSON(units.map(UnitView.init))
            return
        }
        let rows = units.map { record in
            let draft = record.draft
            let first = { (kind: IdentifierKind) in draft.identifiers.first { $0.kind == kind }?.value ?? "-" }
            let address = record.profile.interfaces.first?.addresses.first?.description ?? record.profile.networkMode.rawValue
            return [draft.hostname.value, draft.group ?? "-", draft.model ?? "-", first(.serial), first(.mac), address,
                    String(record.revision)]
        }
        context.print(Render.table(["HOSTNAME", "GROUP", "MODEL", "SERIAL", "MAC", "ADDRESS", "REV"], rows))
        context.print("\(units.count) unit\(units.count == 1 ? "" : "s")")
    }
}

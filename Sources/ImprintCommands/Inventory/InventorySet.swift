import ArgumentParser
import ImprintCore
import ImprintInventory

struct InventorySet: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Change a unit; its revision grows, so the agent applies the change at the next run.",
        discussion: "An empty value clears a field: --domain '' --group ''. A new --serial, --uuid or --asset-tag replaces the old one.")

    @Argument(help: "The unit: hostname or identifier.") var unitReference: String
    @Option(help: "Rename the unit.") var hostname: String?
    @OptionGroup var unit: UnitOptions
    @Option(name: .customLong("remove-mac"), help: "Forget a MAC (and its card's settings).") var removeMACs: [String] = []
    @Flag(name: .customLong("remove-serial"), help: "Forget the serial number.") var removeSerial = false
    @Flag(name: .customLong("remove-uuid"), help: "Forget the UUID.") var removeUUID = false
    @Flag(name: .customLong("remove-asset-tag"), help: "Forget the asset tag.") var removeAssetTag = false
    @Option(name: .customLong("remove-interface"), help: ArgumentHelp("Drop a card's settings (it goes back to DHCP).", valueName: "mac"))
    var removeInterface: String?
    @Option(name: .customLong("remove-printer"), help: "Drop one of the unit's own queues.") var removePrinters: [String] = []
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        do {
            if let hostname { _ = try Hostname(hostname) }
            for mac in removeMACs { _ = try MACAddress(mac) }
            for printer in removePrinters { _ = try PrinterName(printer) }
            if let removeInterface { _ = try MACAddress(removeInterface) }
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run(_ context: CommandContext) throws {
        let inventory = try global.openInventory(context)
        let current = try inventory.unit(unitReference).draft
        var changes = try unit.changes(to: current)
        changes.hostname = try hostname.map { text throws(CoreError) in try Hostname(text) }
        changes.removeIdentifiers = try removeMACs.map { text throws(CoreError) in try Identifier(.mac, text) }
        for (flag, kind) in [(removeSerial, IdentifierKind.serial), (removeUUID, .uuid), (removeAssetTag, .assetTag)] where flag {
            guard let identifier = current.identifiers.first(where: { $0.kind == kind }) else {
                throw InventoryError.refused(reason: "unit \(current.hostname) has no \(kind.label) to remove")
            }
            changes.removeIdentifiers.append(identifier)
        }
        changes.removeInterface = try removeInterface.map { text throws(CoreError) in try MACAddress(text) }
        changes.removePrinters = try removePrinters.map { text throws(CoreError) in try PrinterName(text) }
        let record = try inventory.updateUnit(unitReference, changes)
        if let warning = changes.hostname?.warning { context.warn(warning) }
        context.print("\(record.draft.hostname) now at revision \(record.revision)")
    }
}

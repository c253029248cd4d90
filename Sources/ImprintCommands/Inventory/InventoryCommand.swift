import ArgumentParser
import Foundation
import ImprintCore
import ImprintInventory

struct InventoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Manage the unit inventory: units, groups, printers, CSV import and export, naming.",
        discussion: """
            The inventory is a SQLite file (default \(Inventory.defaultPath), or --inventory, or \
            $IMPRINT_INVENTORY), created mode 0600 because it may hold Wi-Fi passphrases. A UNIT argument is a \
            hostname or any of the unit's identifiers (serial, UUID, asset tag, MAC).

            \(ExitStatus.helpTable)
            """,
        subcommands: [
            InventoryInit.self, InventoryAdd.self, InventorySet.self, InventoryRemove.self, InventoryShow.self,
            InventoryList.self, InventoryImport.self, InventoryExport.self, InventoryName.self, InventoryHistory.self,
            GroupCommand.self, PrinterCommand.self,
        ])
}

struct InventoryInit: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create the inventory (mode 0600), or bring an existing one's schema up to date.")

    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let inventory = try Inventory.create(path: global.inventoryPath(context), clock: context.clock)
        context.print("inventory ready at \(inventory.path)")
    }
}

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

struct InventoryRemove: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove units; their history stays under the hostname they had.")

    @Argument(help: "Units: hostnames or identifiers.") var units: [String]
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if units.isEmpty { throw ValidationError("name at least one unit to remove") }
    }

    func run(_ context: CommandContext) throws {
        let inventory = try global.openInventory(context)
        for unit in units {
            let hostname = try inventory.unit(unit).draft.hostname
            try inventory.removeUnit(unit)
            context.print("removed \(hostname)")
        }
    }
}

struct InventoryShow: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a unit: its record, and what it inherits from its group.")

    @Argument(help: "The unit: hostname or identifier.") var unit: String
    @Flag(help: "Print JSON (Wi-Fi passphrases masked).") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let record = try global.openInventory(context, readOnly: true).unit(unit)
        if json { try context.printJSON(UnitView(record)) } else { context.print(Render.unit(record)) }
    }
}

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

struct InventoryHistory: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Show the agent runs recorded for a unit, oldest first.")

    @Argument(help: "The unit: hostname (also of a removed unit) or identifier.") var unit: String
    @Flag(help: "Print JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let entries = try global.openInventory(context, readOnly: true).history(of: unit)
        if json {
            try context.printJSON(entries.map(HistoryView.init))
            return
        }
        if entries.isEmpty {
            context.print("no runs recorded for \(unit) yet")
            return
        }
        let formatter = ISO8601DateFormatter()
        context.print(Render.table(
            ["TIME", "HOSTNAME", "REV", "SOURCE", "RESULT", "NOTE"],
            entries.map { entry in
                [formatter.string(from: entry.time), entry.hostname, String(entry.revision), entry.source, entry.result,
                 Self.note(entry)]
            }))
    }

    /// What the admin should notice in a run beyond its result: an unknown unit that enrolled itself.
    static func note(_ entry: HistoryEntry) -> String {
        guard let identity = identityRecord(fromLine: entry.identity), let group = identity.enrolledInto else { return "" }
        return "enrolled into \(group) as \(identity.unit)"
    }

    /// One run in `inventory history --json`: the identity the agent logged is an object, not text.
    struct HistoryView: Encodable {
        var hostname: String
        var time: Date
        var source: String
        var result: String
        var revision: Int
        @Nullable var identity: IdentityRecord?

        init(_ entry: HistoryEntry) {
            hostname = entry.hostname
            time = entry.time
            source = entry.source
            result = entry.result
            revision = entry.revision
            identity = identityRecord(fromLine: entry.identity)
        }
    }
}

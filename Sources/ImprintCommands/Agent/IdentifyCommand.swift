import ArgumentParser
import ImprintCore
import ImprintInventory

struct IdentifyCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "identify",
        abstract: "Find this unit in the inventory by its hardware facts.",
        discussion: """
            Matches the serial number, SMBIOS UUID, asset tag and the MACs of built-in cards against the inventory. \
            Firmware placeholders ("To be filled by O.E.M.", "Default string", all-zero UUIDs, ...) and USB \
            adapters never match. Identifiers that lead to two different units are a conflict; nothing is changed \
            either way.

            \(ExitStatus.helpTable)
            """)

    @OptionGroup var factsSource: FactsOptions
    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Print JSON.") var json = false
    var reportsJSON: Bool { json }

    struct View: Encodable {
        var hostname: String
        var fqdn: String
        var revision: Int
        var matched: [String]
        var unrecorded: [String]
        var ignored: [String]
    }

    func run(_ context: CommandContext) throws {
        let facts = try factsSource.read()
        let inventory = try global.openInventory(context, readOnly: true)
        let match = try inventory.match(facts)
        let view = View(
            hostname: match.unit.draft.hostname.value, fqdn: match.unit.profile.fqdn, revision: match.unit.revision,
            matched: match.matched.map(\.description), unrecorded: match.unrecorded.map(\.description),
            ignored: match.ignored.map { "\($0.field) \(quoted($0.value)): \($0.reason)" })
        if json {
            try context.printJSON(view)
            return
        }
        var lines = ["\(view.hostname) (\(view.fqdn), revision \(view.revision))", "  matched by \(view.matched.joined(separator: ", "))"]
        if !view.unrecorded.isEmpty { lines.append("  not in the inventory yet: \(view.unrecorded.joined(separator: ", "))") }
        for ignored in view.ignored { lines.append("  ignored \(ignored)") }
        context.print(lines.joined(separator: "\n"))
    }
}

import ArgumentParser
import ImprintCore
import ImprintInventory

struct InventoryName: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "name", abstract: "Preload names for machines known by one identifier each, from a pattern.",
        discussion: """
            Each identifier (a serial, MAC, UUID or asset tag, one per argument or per line of --from) becomes a \
            unit named by the pattern, numbered past the highest name the pattern already gave: with RM204-01 to \
            RM204-12 taken, 'RM204-{##}' continues at RM204-13. All or nothing: an identifier the inventory already \
            has stops the request.

            Example: imprint inventory name --group RM204 --pattern 'RM204-{##}' --from serials.txt
            """)

    @Argument(help: "Identifiers, in seat order.") var identifiers: [String] = []
    @Option(name: .customLong("from"), help: ArgumentHelp("Read identifiers from this file, one per line ('-' for standard input).", valueName: "file"))
    var fromFile: String?
    @Option(help: "Naming pattern: a counter ('RM204-{##}') or {serial}, {mac}, {asset} ('LAB-{serial}') (default: the group's).") var pattern: String?
    @Option(help: "Group the new units join.") var group: String?
    @Option(help: "Kind of the identifiers: serial, uuid, asset or mac (default: guessed from each value's shape).")
    var kind: String?
    @Option(help: "The lowest number to give.") var start: Int = 1
    @Flag(help: "Print JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if identifiers.isEmpty && fromFile == nil { throw ValidationError("give identifiers as arguments or with '--from'") }
        if let kind, IdentifierKind(rawValue: kind) == nil {
            throw ValidationError("'--kind' must be serial, uuid, asset or mac, not \(quoted(kind))")
        }
        if let pattern {
            do { _ = try NamingPattern(pattern) } catch { throw ValidationError(flag: "--pattern", error) }
        }
        if start < 0 || start > NamingPattern.largestCounter {
            throw ValidationError("'--start' must be 0 to \(NamingPattern.largestCounter)")
        }
    }

    struct Named: Encodable {
        var hostname: String
        var identifier: String
    }

    func run(_ context: CommandContext) throws {
        var texts = identifiers
        if let fromFile {
            texts += try readInput(fromFile).split(whereSeparator: \.isNewline).map { String($0).trimmingSpaces() }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        }
        var parsed: [Identifier] = []
        var problems: [RowProblem] = []
        for (index, text) in texts.enumerated() {
            do {
                if let kind, let known = IdentifierKind(rawValue: kind) {
                    parsed.append(try Identifier(known, text))
                } else {
                    parsed.append(try Identifier.guessingKind(text))
                }
            } catch {
                problems.append(RowProblem(line: index + 1, reason: error.description))
            }
        }
        if !problems.isEmpty { throw InventoryError.importFailed(file: fromFile ?? "identifier list", problems: problems) }
        let named = try global.openInventory(context).name(
            parsed, pattern: try pattern.map { text throws(CoreError) in try NamingPattern(text) }, group: group, start: start)
        if json {
            try context.printJSON(named.map { Named(hostname: $0.hostname.value, identifier: $0.identifier.description) })
        } else {
            context.print(named.map { "\($0.hostname)  \($0.identifier)" }.joined(separator: "\n"))
            for warning in Set(named.compactMap(\.hostname.warning)).sorted() { context.warn(warning) }
        }
    }
}

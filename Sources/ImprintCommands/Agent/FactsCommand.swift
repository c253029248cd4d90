import ArgumentParser
import ImprintCore

struct FactsCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "facts",
        abstract: "Print this unit's hardware facts: DMI identifiers, model and physical network cards.",
        discussion: """
            Reads /sys/class/dmi/id and /sys/class/net under --root. Loopback, bridges, bonds, veth, docker and \
            other virtual links are left out; USB adapters are listed as removable, and matching ignores their MACs \
            (a dock moves between laptops). With --json the output is a facts file for --facts.

            \(ExitStatus.helpTable)
            """)

    @OptionGroup var factsSource: FactsOptions
    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Print JSON (a facts file).") var json = false
    var reportsJSON: Bool { json }

    func run(_ context: CommandContext) throws {
        let facts = try factsSource.read()
        if json {
            try context.printJSON(facts)
            return
        }
        let (_, ignored) = facts.identifiers()
        let placeholder = Set(ignored.map(\.value))
        func line(_ label: String, _ value: String?) -> String {
            let shown = value ?? "-"
            let note = value.map { placeholder.contains($0) ? "  (placeholder, ignored)" : "" } ?? ""
            return "\(label.padding(toLength: max(13, label.count + 2), withPad: " ", startingAt: 0))\(shown)\(note)"
        }
        var lines = [
            line("vendor", facts.vendor), line("model", facts.model), line("serial", facts.serial),
            line("uuid", facts.uuid), line("asset tag", facts.assetTag), line("board serial", facts.boardSerial),
        ]
        for interface in facts.interfaces {
            var traits = [interface.wireless ? "wireless" : "wired"]
            if let bus = interface.bus { traits.append(bus) }
            if interface.removable { traits.append("removable, ignored for matching") }
            lines.append(line("nic \(interface.name)", "\(interface.mac) (\(traits.joined(separator: ", ")))"))
        }
        if facts.interfaces.isEmpty { lines.append(line("nics", "none found")) }
        context.print(lines.joined(separator: "\n"))
    }
}

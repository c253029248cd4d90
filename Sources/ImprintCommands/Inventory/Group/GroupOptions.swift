import ArgumentParser
import Foundation
import ImprintCore
import ImprintInventory

/// The group settings `group add` and `group set` take.
struct GroupOptions: ParsableArguments {
    @Option(help: "DNS domain of the group's units.") var domain: String?
    @Option(help: "DNS servers (repeatable, or a list: '10.0.0.53;10.0.0.54').") var dns: [String] = []
    @Option(help: "DNS search domains (repeatable, or a list).") var search: [String] = []
    @Option(name: .customLong("network-mode"), help: "dhcp or static: how cards without their own settings get an address.")
    var networkMode: String?
    @Option(name: .customLong("network-stack"), help: "Force a stack: netplan, networkmanager, networkd, ifupdown or ifcfg (default: detected).")
    var networkStack: String?
    @Option(name: .customLong("naming-pattern"), help: ArgumentHelp(
        "Pattern for new names: a counter ('RM204-{##}') or the unit's own {serial}, {mac} or {asset} ('LAB-{serial}'); units enrolling on their own need the latter.",
        valueName: "pattern")) var namingPattern: String?
    @Option(help: "yes to let unknown units enrol themselves into this group at their first run.") var enroll: String?
    @Option(name: .customLong("printer"), help: "A queue for every unit of the group (repeatable).") var printers: [String] = []
    @Option(name: .customLong("default-printer"), help: "The group's default queue.") var defaultPrinter: String?
    @Option(name: .customLong("netplan-file"), help: ArgumentHelp(
        "The network of every unit of the group without a document of its own: netplan 'version 2' YAML with the "
            + "unit's values as Mustache tags ({{address}}, {{mac}}, {{hostname}}, custom fields); '-' reads standard "
            + "input, an empty file clears it.", valueName: "file"))
    var netplanFile: String?
    @OptionGroup var customFields: FieldOptions

    func changes() throws -> GroupChanges {
        var changes = GroupChanges()
        changes.fields = try customFields.values()
        changes.domain = try change(domain) { text throws(CoreError) in try DomainName(text) }
        if !dns.isEmpty { changes.dns = try ValueList.split(dns).map { text throws(CoreError) in try IPAddress(text, field: "--dns") } }
        if !search.isEmpty { changes.search = try ValueList.split(search).map { text throws(CoreError) in try DomainName(text, field: "--search") } }
        changes.networkMode = try networkMode.map { text throws(CoreError) in try NetworkMode(text) }
        changes.networkStack = try change(networkStack) { text throws(CoreError) in try NetworkStack(text) }
        changes.namingPattern = try change(namingPattern) { text throws(CoreError) in try NamingPattern(text) }
        if let enroll {
            do {
                changes.enroll = try YesNo.parse(enroll, field: "--enroll")
            } catch {
                throw ValidationError("'--enroll' takes yes or no, not \(quoted(enroll))")
            }
        }
        changes.addPrinters = try printers.map { text throws(CoreError) in try PrinterName(text) }
        changes.defaultPrinter = try change(defaultPrinter) { text throws(CoreError) in try PrinterName(text) }
        if let netplanFile {
            let data = netplanFile == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: netplanFile)
            guard let data, let text = String(data: data, encoding: .utf8) else {
                throw ValidationError("'--netplan-file': cannot read \(quoted(netplanFile))")
            }
            changes.netplan = text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? .clear : .set(text)
        }
        return changes
    }
}

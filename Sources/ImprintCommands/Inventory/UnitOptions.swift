import ArgumentParser
import Foundation
import ImprintCore
import ImprintInventory

/// The unit fields `inventory add` and `inventory set` take. An empty value (`--domain ''`) clears a field.
struct UnitOptions: ParsableArguments {
    @Option(help: "DNS domain (default: the group's).") var domain: String?
    @Option(help: "Group (room, cart, site) whose defaults the unit inherits; it must exist ('inventory group add').")
    var group: String?
    @Option(help: "Hardware model, as DMI names it (e.g. 'OptiPlex 7090').") var model: String?
    @Option(help: "Free text.") var notes: String?
    @Option(help: "DMI serial number.") var serial: String?
    @Option(help: "SMBIOS system UUID.") var uuid: String?
    @Option(name: .customLong("asset-tag"), help: "Chassis asset tag.") var assetTag: String?
    @Option(name: .customLong("mac"), help: "A MAC address of the unit (repeat, or give a list, for more cards).") var macs: [String] = []

    @Option(name: .customLong("interface"), help: ArgumentHelp(
        "The card (by MAC) the network options below configure (default: the first --mac, else the unit's first).",
        valueName: "mac"))
    var interfaceMAC: String?
    @Option(help: ArgumentHelp("Static IPv4 address with prefix (repeatable, or a list); none means DHCP.", valueName: "addr/prefix"))
    var ipv4: [String] = []
    @Option(help: "IPv4 gateway, inside the subnet of --ipv4.") var gateway4: String?
    @Option(help: ArgumentHelp("Static IPv6 address with prefix (repeatable, or a list).", valueName: "addr/prefix")) var ipv6: [String] = []
    @Option(help: "IPv6 gateway.") var gateway6: String?
    @Option(help: "DNS servers (repeatable, or a list: '10.0.0.53;10.0.0.54'; default: the group's).") var dns: [String] = []
    @Option(help: "DNS search domains (repeatable, or a list; default: the group's).") var search: [String] = []
    @Option(help: "MTU of the card.") var mtu: Int?
    @Option(name: .customLong("wifi-ssid"), help: "Wi-Fi network the card joins.") var wifiSSID: String?
    @Option(name: .customLong("wifi-passphrase-file"), help: ArgumentHelp(
        "File holding the WPA passphrase (kept off the command line, where ps would show it).", valueName: "file"))
    var wifiPassphraseFile: String?
    @Option(name: .customLong("network-stack"), help: ArgumentHelp(
        "Render the unit's network for this stack, over its group's: netplan, networkmanager, networkd, ifupdown, "
            + "ifcfg (empty: the group's, or detected from the image).", valueName: "stack"))
    var networkStack: String?
    @Option(name: .customLong("netplan-file"), help: ArgumentHelp(
        "The unit's whole network as netplan/cloud-init 'version 2' YAML or JSON ('-' reads standard input; an empty "
            + "file clears it). Cards are matched by 'match: macaddress'.", valueName: "file"))
    var netplanFile: String?

    @Option(name: .customLong("printer"), help: "A print queue for the unit besides its group's (repeatable).")
    var printers: [String] = []
    @Option(name: .customLong("default-printer"), help: "The unit's default queue.") var defaultPrinter: String?
    @OptionGroup var customFields: FieldOptions

    var setsNetwork: Bool {
        !ipv4.isEmpty || gateway4 != nil || !ipv6.isEmpty || gateway6 != nil || !dns.isEmpty || !search.isEmpty
            || mtu != nil || wifiSSID != nil || wifiPassphraseFile != nil
    }

    /// The changes these options make to `current` (the unit's record, or an empty one for `add`).
    func changes(to current: UnitDraft) throws -> UnitChanges {
        var changes = UnitChanges()
        changes.domain = try change(domain) { text throws(CoreError) in try DomainName(text) }
        changes.group = try change(group) { text throws(CoreError) in try GroupDraft.checkName(text) }
        changes.model = try change(model) { text throws(CoreError) in try FieldText.check(text, field: "model", maxLength: 255) }
        changes.notes = try change(notes) { text throws(CoreError) in try FieldText.check(text, field: "notes") }
        changes.defaultPrinter = try change(defaultPrinter) { text throws(CoreError) in try PrinterName(text) }
        changes.networkStack = try change(networkStack) { text throws(CoreError) in try NetworkStack(text) }
        if let serial { changes.addIdentifiers.append(try Identifier(.serial, serial)) }
        if let uuid { changes.addIdentifiers.append(try Identifier(.uuid, uuid)) }
        if let assetTag { changes.addIdentifiers.append(try Identifier(.assetTag, assetTag)) }
        for mac in ValueList.split(macs) { changes.addIdentifiers.append(try Identifier(.mac, mac)) }
        changes.addPrinters = try printers.map { text throws(CoreError) in try PrinterName(text) }
        changes.fields = try customFields.values()
        if let netplanFile {
            if setsNetwork {
                throw ValidationError("give the network either with '--netplan-file' or with the card options, not both")
            }
            let data = netplanFile == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: netplanFile)
            guard let data, let text = String(data: data, encoding: .utf8) else {
                throw ValidationError("'--netplan-file': cannot read \(quoted(netplanFile))")
            }
            changes.netplan = text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? .clear : .set(text)
        }
        if setsNetwork { changes.interface = try interface(current: current) }
        return changes
    }

    /// The configured card: its current settings with the given options laid over them.
    func interface(current: UnitDraft) throws -> InterfaceConfig {
        let macText = interfaceMAC ?? ValueList.split(macs).first ?? current.interfaces.first(where: { $0.mac != nil })?.mac?.value
            ?? current.identifiers.first { $0.kind == .mac }?.value
        guard let macText else {
            throw ValidationError("network options need a card to configure: give '--mac' or '--interface'")
        }
        let mac = try MACAddress(macText)
        let existing = current.interfaces.first { $0.mac == mac }
        var addresses = existing?.addresses ?? []
        if !ipv4.isEmpty {
            addresses.removeAll { $0.address.family == .ipv4 }
            addresses += try ValueList.split(ipv4).map { text throws(CoreError) in try family(IPPrefix(text, field: "--ipv4"), .ipv4, "--ipv4") }
        }
        if !ipv6.isEmpty {
            addresses.removeAll { $0.address.family == .ipv6 }
            addresses += try ValueList.split(ipv6).map { text throws(CoreError) in try family(IPPrefix(text, field: "--ipv6"), .ipv6, "--ipv6") }
        }
        var wifi = existing?.wifi
        if wifiSSID != nil || wifiPassphraseFile != nil {
            var passphrase = wifi?.passphrase
            if let wifiPassphraseFile {
                guard let data = FileManager.default.contents(atPath: wifiPassphraseFile),
                    let text = String(data: data, encoding: .utf8)
                else {
                    throw ValidationError("'--wifi-passphrase-file': cannot read \(quoted(wifiPassphraseFile))")
                }
                passphrase = text.trimmingCharacters(in: .newlines)
            }
            guard let ssid = wifiSSID ?? wifi?.ssid else {
                throw ValidationError("'--wifi-passphrase-file' needs '--wifi-ssid'")
            }
            wifi = try WifiNetwork(ssid: ssid, passphrase: passphrase)
        }
        return try InterfaceConfig(
            mac: mac, addresses: addresses,
            gateway4: try gateway4.map { text throws(CoreError) in try IPAddress(text, field: "--gateway4") } ?? existing?.gateway4,
            gateway6: try gateway6.map { text throws(CoreError) in try IPAddress(text, field: "--gateway6") } ?? existing?.gateway6,
            dns: dns.isEmpty ? existing?.dns ?? [] : try ValueList.split(dns).map { text throws(CoreError) in try IPAddress(text, field: "--dns") },
            search: search.isEmpty ? existing?.search ?? [] : try ValueList.split(search).map { text throws(CoreError) in try DomainName(text, field: "--search") },
            mtu: mtu ?? existing?.mtu, wifi: wifi)
    }

    private func family(_ prefix: IPPrefix, _ family: IPAddress.Family, _ flag: String) throws(CoreError) -> IPPrefix {
        guard prefix.address.family == family else {
            throw .invalidValue(field: flag, value: prefix.description, reason: "is not an \(family == .ipv4 ? "IPv4" : "IPv6") address")
        }
        return prefix
    }
}

/// `nil` keeps a field, an empty string clears it, anything else is parsed.
func change<T: Equatable & Sendable>(_ text: String?, _ parse: (String) throws(CoreError) -> T) throws(CoreError) -> Change<T> {
    guard let text else { return .keep }
    if text.trimmingSpaces().isEmpty { return .clear }
    return .set(try parse(text))
}

extension UnitDraft {
    /// A unit with only a hostname, for `add` to fill from options.
    static func empty(_ hostname: Hostname) -> UnitDraft { UnitDraft(hostname: hostname) }
}

import Foundation
import ImprintCore
import ImprintInventory

/// An optional field of a JSON view that prints `null` when empty instead of vanishing, so every documented field
/// is always there for a script to read.
@propertyWrapper
struct Nullable<Value: Encodable>: Encodable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// A unit as `show --json` and `list --json` print it; Wi-Fi passphrases are masked.
struct UnitView: Encodable {
    struct Identifiers: Encodable {
        @Nullable var serial: String?
        @Nullable var uuid: String?
        @Nullable var assetTag: String?
        var macs: [String]
    }

    struct Effective: Encodable {
        var fqdn: String
        @Nullable var domain: String?
        var networkMode: String
        @Nullable var networkStack: String?
        var interfaces: [InterfaceView]
        var printers: [String]
        @Nullable var defaultPrinter: String?
        /// Custom fields, the group's under the unit's own; secret values as `********`.
        var fields: [String: String]
        /// The paths of the files attached to the unit and its group.
        var files: [String]
        @Nullable var seat: Int?
        /// The names of its local accounts and of its offline hooks (in the order they run).
        var accounts: [String]
        var hooks: [String]
    }

    var hostname: String
    @Nullable var domain: String?
    @Nullable var group: String?
    @Nullable var model: String?
    @Nullable var notes: String?
    var revision: Int
    var identifiers: Identifiers
    var interfaces: [InterfaceView]
    var printers: [String]
    @Nullable var defaultPrinter: String?
    var createdAt: Date
    var updatedAt: Date
    /// The unit's own custom field values; secret values as `********`.
    var fields: [String: String]
    var effective: Effective

    init(_ record: UnitRecord) {
        let draft = record.draft
        func first(_ kind: IdentifierKind) -> String? { draft.identifiers.first { $0.kind == kind }?.value }
        hostname = draft.hostname.value
        domain = draft.domain?.value
        group = draft.group
        model = draft.model
        notes = draft.notes
        revision = record.revision
        identifiers = Identifiers(
            serial: first(.serial), uuid: first(.uuid), assetTag: first(.assetTag),
            macs: draft.identifiers.filter { $0.kind == .mac }.map(\.value))
        interfaces = draft.interfaces.map(InterfaceView.init)
        printers = draft.printers.map(\.value)
        defaultPrinter = draft.defaultPrinter?.value
        createdAt = record.createdAt
        updatedAt = record.updatedAt
        let profile = record.profile
        fields = draft.fields.reduce(into: [:]) { masked, field in
            masked[field.key] = profile.fields[field.key]?.secret == true ? "********" : field.value
        }
        effective = Effective(
            fqdn: profile.fqdn, domain: profile.domain?.value, networkMode: profile.networkMode.rawValue,
            networkStack: profile.networkStack?.rawValue, interfaces: profile.interfaces.map(InterfaceView.init),
            printers: profile.printers.map(\.name.value), defaultPrinter: profile.defaultPrinter?.value,
            fields: profile.fields.mapValues { $0.secret ? "********" : $0.value }, files: profile.files.map(\.path),
            seat: profile.seat, accounts: profile.accounts.map(\.name), hooks: profile.hooks.map(\.name))
    }
}

/// A card's settings in `inventory show --json`: every key present, the Wi-Fi passphrase masked, no 802.1X
/// password or identity.
struct InterfaceView: Encodable {
    struct Wifi: Encodable {
        var ssid: String
        /// `********` when the card has a passphrase, null when the network is open or uses 802.1X.
        @Nullable var passphrase: String?
        /// The 802.1X method of a WPA-Enterprise network (`tls`, `peap`, `ttls`), null otherwise.
        @Nullable var eap: String?

        init(_ network: WifiNetwork) {
            ssid = network.ssid
            passphrase = network.passphrase == nil ? nil : "********"
            eap = network.eap?.method.rawValue
        }
    }

    /// Null for a card bound by its name alone.
    @Nullable var mac: String?
    /// The card's kernel name when the unit's netplan document binds it by name.
    @Nullable var name: String?
    /// The name the document gives the card (`set-name`).
    @Nullable var setName: String?
    var addresses: [String]
    var dhcp6: Bool
    @Nullable var gateway4: String?
    @Nullable var gateway6: String?
    var dns: [String]
    var search: [String]
    @Nullable var mtu: Int?
    /// The first Wi-Fi network, as before a card could have several.
    @Nullable var wifi: Wifi?
    /// Every Wi-Fi network the card may join; empty for a wired card.
    var accessPoints: [Wifi]
    /// A wired card's 802.1X method, null without 802.1X.
    @Nullable var auth: String?

    init(_ interface: InterfaceConfig) {
        mac = interface.mac?.value
        name = interface.name?.value
        setName = interface.setName?.value
        addresses = interface.addresses.map(\.description)
        dhcp6 = interface.dhcp6
        gateway4 = interface.gateway4?.description
        gateway6 = interface.gateway6?.description
        dns = interface.dns.map(\.value)
        search = interface.search.map(\.value)
        mtu = interface.mtu
        wifi = interface.wifi.map(Wifi.init)
        accessPoints = interface.accessPoints.map(Wifi.init)
        auth = interface.auth?.method.rawValue
    }
}

/// Text renderings shared by the inventory commands.
enum Render {
    static func unit(_ record: UnitRecord) -> String {
        let draft = record.draft
        let profile = record.profile
        var lines = ["unit \(draft.hostname.value) (revision \(record.revision))"]
        func add(_ label: String, _ value: String?) {
            if let value, !value.isEmpty { lines.append("  \(label.padding(toLength: 16, withPad: " ", startingAt: 0))\(value)") }
        }
        add("fqdn", profile.fqdn)
        add("group", draft.group)
        add("model", draft.model)
        for identifier in draft.identifiers { add(identifier.kind.label, identifier.value) }
        for interface in profile.interfaces {
            var parts = [interface.usesDHCP4 ? "dhcp" : "", interface.dhcp6 ? "dhcp6" : ""] + interface.addresses.map(\.description)
            if let gateway = interface.gateway4 { parts.append("gw \(gateway)") }
            if let gateway = interface.gateway6 { parts.append("gw6 \(gateway)") }
            if !interface.dns.isEmpty { parts.append("dns " + interface.dns.map(\.value).joined(separator: ",")) }
            if let mtu = interface.mtu { parts.append("mtu \(mtu)") }
            for network in interface.accessPoints {
                parts.append("wifi \(quoted(network.ssid))" + (network.eap.map { " (802.1X \($0.method.rawValue))" } ?? ""))
            }
            if let auth = interface.auth { parts.append("802.1X \(auth.method.rawValue)") }
            let card = [interface.mac?.value, interface.name.map { "name \($0)" }, interface.setName.map { "set-name \($0)" }]
            add("interface", card.compactMap { $0 }.joined(separator: " ") + " " + parts.filter { !$0.isEmpty }.joined(separator: " "))
        }
        if profile.interfaces.isEmpty { add("network", "\(profile.networkMode.rawValue) on every card") }
        add("network stack", profile.networkStack?.rawValue ?? "detected from the image")
        add("printers", profile.printers.map(\.name.value).joined(separator: ", "))
        add("default printer", profile.defaultPrinter?.value)
        add("seat", profile.seat.map(String.init))
        for (name, field) in profile.fields.sorted(by: { $0.key < $1.key }) {
            add("field", "\(name) = \(field.secret ? "******** (secret)" : field.value)\(draft.fields[name] == nil ? " (group's)" : "")")
        }
        for file in profile.files { add("file", file.path + (file.secret ? " (secret)" : "")) }
        for account in profile.accounts { add("account", account.name + (account.autologin ? " (autologin)" : "")) }
        for hook in profile.hooks { add("hook", "\(hook.name): \(hook.command)") }
        add("notes", draft.notes)
        add("updated", ISO8601DateFormatter().string(from: record.updatedAt))
        if let warning = draft.hostname.warning { lines.append("  warning: \(warning)") }
        return lines.joined(separator: "\n")
    }

    /// A plain table with a header, columns padded to their widest cell.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

import Foundation

/// Whether a network configuration file is bound to a machine's own cards (by MAC or by a card's interface name),
/// read from its text. The agent removes such files of the master when it renders the unit's own, and
/// generalization leaves card-bound NetworkManager profiles out of an image: one reading for both.
public enum CardBinding {
    /// Whether an interface name (or pattern) is a card's, such as eth0, enp3s0, eno1, wlp2s0 or en*, rather
    /// than loopback, a VPN, a tunnel or a virtual bridge.
    public static func isCardName(_ name: String) -> Bool {
        let lower = name.lowercased()
        if ["en", "eth", "wl", "ww", "em", "ib"].contains(where: { lower.hasPrefix($0) }) { return true }
        // Old biosdevname slot names: p2p1, p3p1.
        return lower.first == "p" && lower.dropFirst().first?.isNumber == true
    }

    /// A netplan file that configures cards (ethernets, wifis, modems), not only tunnels or the renderer.
    public static func netplan(_ text: String) -> Bool {
        text.split(separator: "\n").contains { line in
            let key = line.trimmingCharacters(in: .whitespaces)
            return ["ethernets:", "wifis:", "modems:"].contains { key.hasPrefix($0) }
        }
    }

    /// A NetworkManager keyfile for a wired or Wi-Fi connection bound to a MAC or an interface name.
    public static func keyfile(_ text: String) -> Bool {
        let values = KeyValueFile.parse(text, separator: "=")
        let type = values["connection.type"] ?? ""
        guard ["ethernet", "802-3-ethernet", "wifi", "802-11-wireless"].contains(type) else { return false }
        let name = values["connection.interface-name"] ?? ""
        let mac = values["ethernet.mac-address"] ?? values["802-3-ethernet.mac-address"]
            ?? values["wifi.mac-address"] ?? values["802-11-wireless.mac-address"] ?? ""
        return !mac.isEmpty || !name.isEmpty
    }

    /// A systemd-networkd .network file whose [Match] names a card by MAC or by a card's name.
    public static func networkFile(_ text: String) -> Bool {
        let values = KeyValueFile.parse(text, separator: "=", multi: true)
        if values["Match.MACAddress"].map({ !$0.isEmpty }) == true || values["Match.PermanentMACAddress"].map({ !$0.isEmpty }) == true {
            return true
        }
        let names = (values["Match.Name"] ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
        return names.contains(where: isCardName)
    }

    /// An ifcfg file for a card: it has HWADDR= or MACADDR=, or a card's DEVICE= name.
    public static func ifcfg(_ text: String) -> Bool {
        let values = KeyValueFile.parse(text, separator: "=")
        func value(_ key: String) -> String {
            (values[key] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
        }
        let type = value("TYPE").lowercased()
        if ["ipsec", "tunnel", "vpn", "wireguard"].contains(type) { return false }
        return !value("HWADDR").isEmpty || !value("MACADDR").isEmpty || isCardName(value("DEVICE"))
    }
}

/// `KEY=value` files with optional `[Section]` headers (NetworkManager keyfiles, systemd units, ifcfg), read
/// only to decide what a file binds to.
public enum KeyValueFile {
    /// Values by `Section.Key` (or `Key` outside sections); with `multi`, repeated keys are joined by spaces.
    public static func parse(_ text: String, separator: Character, multi: Bool = false) -> [String: String] {
        var section = ""
        var values: [String: String] = [:]
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast())
                continue
            }
            guard let index = line.firstIndex(of: separator) else { continue }
            let key = line[..<index].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: index)...].trimmingCharacters(in: .whitespaces)
            let full = section.isEmpty ? key : "\(section).\(key)"
            if multi, let existing = values[full], !existing.isEmpty {
                values[full] = value.isEmpty ? "" : existing + " " + value
            } else {
                values[full] = value
            }
        }
        return values
    }
}

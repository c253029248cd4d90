import Foundation
import ImprintCore

/// Plans the unit's network configuration: one file per stack that Imprint owns (the stack the image uses, or the
/// one the group forces), every interface matched by MAC address; the master's interface-bound configuration, its
/// persistent-net rules, DHCP leases and NetworkManager secret key removed (so backed up by the run).
enum NetworkStep {
    struct Result {
        var changes: [FileChange]
        var notes: [String]
    }

    static func plan(_ profile: UnitProfile, root: TargetRoot) throws -> Result {
        let interfaces = try resolveInterfaces(profile)
        var notes: [String] = []
        var changes: [FileChange] = []
        let chosen = try Detection.choose(forced: profile.networkStack, root: root)
        var owned: [RenderedFile] = []
        if let chosen {
            notes.append("network: \(chosen.stack.rawValue) (\(chosen.reason))")
            if interfaces.list.isEmpty {
                notes.append("network: the unit has no MAC address in the inventory, so no interface is configured; "
                    + "add one with 'imprint inventory set \(profile.hostname.value) --mac ...'")
            } else {
                owned = try Renderer(unit: profile.hostname.value, stack: chosen.stack, interfaces: interfaces.list, root: root)
                    .files()
                if chosen.stack == .netplan, interfaces.list.contains(where: { $0.wifi != nil }),
                    !root.exists("/usr/sbin/NetworkManager")
                {
                    notes.append("network: netplan joins Wi-Fi by MAC only through NetworkManager, which the image lacks; "
                        + "install network-manager in the image, or the Wi-Fi card stays down")
                }
            }
        } else {
            notes.append("network: no network stack found in the image (no netplan, NetworkManager, systemd-networkd, "
                + "ifupdown or ifcfg files); nothing rendered; set the group's network stack to force one")
        }
        notes += interfaces.notes
        for file in owned {
            changes.append(FileChange(
                step: .network, path: file.path, reason: file.reason,
                action: .write(contents: Data(file.text.utf8), metadata: FileMetadata(mode: file.mode)),
                before: try root.readFile(file.path), secret: file.secret))
        }
        let cleanup = try Cleanup.plan(root: root, keeping: Set(owned.map(\.path)), renderedSomething: !owned.isEmpty)
        changes += cleanup.changes
        notes += cleanup.notes
        return Result(changes: changes, notes: notes)
    }

    /// The interfaces to render, in order: the configured ones, then (in DHCP mode) every other MAC the unit is
    /// known by, with DHCP. In a static group the MACs without settings are left out, except when the unit has no
    /// configured interface at all (a machine just enrolled into a static group): then every MAC gets DHCP, so
    /// the unit can be reached until an address is given, and the plan says so. A configured interface without a
    /// static IPv4 address uses DHCP in either mode, also with a note in a static group.
    static func resolveInterfaces(_ profile: UnitProfile) throws -> (list: [InterfaceConfig], notes: [String]) {
        var seen = Set<MACAddress>()
        for interface in profile.interfaces where !seen.insert(interface.mac).inserted {
            throw CoreError.invalidValue(
                field: "interfaces", value: interface.mac.value,
                reason: "two interfaces of \(profile.hostname.value) have this MAC; give each card once")
        }
        var list = profile.interfaces
        var notes: [String] = []
        let others = try profile.identifiers.filter { $0.kind == .mac }
            .map { identifier throws(CoreError) in try MACAddress(identifier.value) }
            .filter { !seen.contains($0) }
        let hint = "give it one with 'imprint inventory set \(profile.hostname.value) --interface MAC --ipv4 ADDRESS/PREFIX'"
        if profile.networkMode == .dhcp || list.isEmpty {
            for mac in others where seen.insert(mac).inserted {
                list.append(try InterfaceConfig(mac: mac))
            }
            if profile.networkMode == .static, !list.isEmpty {
                notes.append("network: the group is static but unit \(profile.hostname.value) has no address, so "
                    + "\(list.map(\.mac.value).joined(separator: ", ")) use DHCP for now; \(hint)")
            }
        } else {
            for interface in list where interface.usesDHCP4 {
                notes.append("network: the group is static but \(interface.mac) has no IPv4 address, so it uses DHCP; \(hint)")
            }
            if !others.isEmpty {
                notes.append("network: static group: \(others.map(\.value).joined(separator: ", ")) \(others.count == 1 ? "has" : "have") "
                    + "no settings and \(others.count == 1 ? "is" : "are") left unconfigured")
            }
        }
        return (list, notes)
    }
}

/// A file Imprint renders and owns.
struct RenderedFile: Equatable {
    var path: String
    var text: String
    var mode: UInt32
    var reason: String
    var secret: Bool
}

import ImprintCore

extension NetworkStep.Renderer {
    /// The kernel name Imprint gives a member of a bond or bridge found by its MAC alone, for the stacks that name
    /// members by kernel name: ifupdown (`bridge_ports`, a member's own `bond-master` stanza) and ifcfg (`DEVICE=`
    /// beside `MASTER=` or `BRIDGE=`). A MAC cannot stand in for the name there: a bond gives its members its own
    /// MAC, so ifupdown's `mac/` pattern and ifcfg's `HWADDR=` would then find the wrong card, or none. The name is
    /// `imprintN`, given by a .link file as `set-name` does; nil for every other interface and stack.
    static func memberName(_ interface: InterfaceConfig, index: Int, stack: NetworkStack) -> InterfaceName? {
        guard stack == .ifupdown || stack == .ifcfg, interface.membership != nil, interface.mac != nil,
            interface.name == nil, interface.setName == nil
        else { return nil }
        return try? InterfaceName("imprint\(index)")
    }

    /// `interfaces` with each member that `memberName` names renamed, as if its document said `set-name`.
    static func namingMembers(_ interfaces: [InterfaceConfig], stack: NetworkStack) -> [InterfaceConfig] {
        interfaces.enumerated().map { index, interface in
            var named = interface
            if let name = memberName(interface, index: index, stack: stack) { named.setName = name }
            return named
        }
    }

    /// The indices of `interfaces` in the order ifup brings them up (`ifup -a` follows the file): each bond, bridge
    /// or VLAN after its members and the device it is tagged on, which must exist when it is made; otherwise as given.
    static func bringUpOrder(_ interfaces: [InterfaceConfig]) -> [Int] {
        func needs(_ device: InterfaceConfig, _ other: InterfaceConfig) -> Bool {
            guard let name = device.name, let virtual = device.virtual else { return false }
            return other.membership?.controller == name || (virtual.link != nil && virtual.link == other.kernelName)
        }
        var order: [Int] = []
        var placed = Set<Int>()
        // Placed before its needs are, so that a cycle (which the reader refuses) cannot loop.
        func place(_ index: Int) {
            guard placed.insert(index).inserted else { return }
            for other in interfaces.indices where needs(interfaces[index], interfaces[other]) { place(other) }
            order.append(index)
        }
        for index in interfaces.indices { place(index) }
        return order
    }

    /// The ways ifupdown makes a VLAN.
    enum VLANForm {
        case builtIn, rawDevice, commands
    }

    /// How ifupdown makes the VLAN `interface`, nil for anything else: by itself for a name `PARENT.ID`; with the vlan
    /// package's `vlan-raw-device` for `vlanID` (both read the id from the name); with `ip link` commands in its stanza
    /// for any other name. (A dotted name that is not `PARENT.ID` is refused, see `features`.)
    static func vlanForm(_ interface: InterfaceConfig) -> VLANForm? {
        guard let name = interface.name, let device = interface.virtual, device.kind == .vlan, let id = device.vlanID,
            let link = device.link
        else { return nil }
        if name.value == "\(link).\(id)" { return .builtIn }
        return name.value == "vlan\(id)" ? .rawDevice : .commands
    }

    /// The ifupdown values that join a card or device to the others: a member's stanza is named by its kernel name
    /// (so the bond or bridge can name it) and repeats its bond's options (ifenslave sets the primary only when the
    /// member joins); a bridge lists its ports, and the MTU of each port that has one of its own; a card in a bridge
    /// has no `auto` line, bridge-utils brings it up. (bridge-utils never reads a port's own stanza and gives every
    /// port the bridge's `mtu`, so a port's own MTU is set from the bridge's stanza once the port has joined.)
    static func ifupdownValues(_ interface: InterfaceConfig, among interfaces: [InterfaceConfig]) -> [String: Any] {
        var item: [String: Any] = [:]
        if let membership = interface.membership, let name = interface.kernelName {
            item["id"] = name.value
            if membership.kind == .bridge, interface.virtual == nil { item["bridgePort"] = ["bridge": membership.controller.value] }
            if membership.kind == .bond, let bond = interfaces.first(where: { $0.name == membership.controller && $0.virtual != nil }) {
                item["controllerBond"] = deviceValues(bond)["ifupdownBond"]
            }
        }
        if interface.virtual?.kind == .bridge, let name = interface.name {
            let ports = interfaces.filter { $0.membership?.controller == name }
            let names = ports.compactMap(\.kernelName?.value)
            item["bridgePorts"] = names.isEmpty ? "none" : names.joined(separator: " ")
            let portMTUs = ports.compactMap { port in
                port.mtu.flatMap { mtu in port.kernelName.map { ["port": $0.value, "mtu": String(mtu)] } }
            }
            item["portMTUs"] = portMTUs
            item["hasPortMTUs"] = !portMTUs.isEmpty
        }
        if let form = vlanForm(interface) {
            item["vlanRawDevice"] = form == .rawDevice
            item["vlanCommands"] = form == .commands
        }
        return item
    }

    /// What the plan says about the bonds, bridges and VLANs of `interfaces` on `stack`: each member Imprint names,
    /// and (for ifupdown) each package whose hooks make a device and which the image lacks.
    static func deviceNotes(_ interfaces: [InterfaceConfig], stack: NetworkStack, root: TargetRoot) -> [String] {
        var notes: [String] = []
        for (index, interface) in interfaces.enumerated() {
            guard let name = memberName(interface, index: index, stack: stack), let mac = interface.mac,
                let membership = interface.membership
            else { continue }
            notes.append("network: the card \(mac), a member of \(membership.controller) found by its MAC alone, is named \(name) "
                + "by /etc/systemd/network/10-imprint-\(index).link: \(stack.rawValue) names a \(membership.kind.rawValue)'s members "
                + "by their kernel names; give it a 'set-name' to choose the name")
        }
        guard stack == .ifupdown else { return notes }
        let packages: [(package: String, hook: String, devices: [InterfaceConfig])] = [
            ("ifenslave", "/etc/network/if-pre-up.d/ifenslave", interfaces.filter { $0.virtual?.kind == .bond }),
            ("bridge-utils", "/etc/network/if-pre-up.d/bridge", interfaces.filter { $0.virtual?.kind == .bridge }),
            ("vlan", "/etc/network/if-pre-up.d/vlan", interfaces.filter { vlanForm($0) == .rawDevice }),
        ]
        for (package, hook, devices) in packages where !devices.isEmpty && !root.exists(hook) {
            let names = devices.compactMap(\.name?.value).joined(separator: ", ")
            notes.append("network: ifupdown makes \(names) with the hooks of the \(package) package, which the image lacks; "
                + "install \(package) in the image, or \(devices.count == 1 ? "it is" : "they are") not made")
        }
        return notes
    }
}

import ImprintCore

extension NetworkStep {
    /// Which stack the image configures its network with, read from files under the root.
    enum Detection {
        struct Choice: Equatable {
            var stack: NetworkStack
            var reason: String
        }

        /// The forced stack, or the first of these the image shows: netplan files (netplan generates the other
        /// stacks' files at boot, so it wins); NetworkManager enabled; systemd-networkd enabled; ifcfg files for a
        /// card; an /etc/network/interfaces stanza for a card; NetworkManager or ifupdown merely installed.
        /// Nil when the image has none of them.
        static func choose(forced: NetworkStack?, root: TargetRoot) throws(CoreError) -> Choice? {
            if let forced {
                return Choice(stack: forced, reason: "set in the inventory for the unit or its group")
            }
            let netplan = try yamlFiles(in: "/etc/netplan", root: root)
            if !netplan.isEmpty {
                return Choice(stack: .netplan, reason: "the image has /etc/netplan/\(netplan[0])")
            }
            let wants = "/etc/systemd/system/multi-user.target.wants/"
            if isEnabled(wants + "NetworkManager.service", root: root) {
                return Choice(stack: .networkManager, reason: "NetworkManager.service is enabled")
            }
            if isEnabled(wants + "systemd-networkd.service", root: root)
                || isEnabled("/etc/systemd/system/sockets.target.wants/systemd-networkd.socket", root: root)
            {
                return Choice(stack: .networkd, reason: "systemd-networkd.service is enabled")
            }
            if let ifcfg = try root.listFolder("/etc/sysconfig/network-scripts")
                .first(where: { $0.hasPrefix("ifcfg-") && $0 != "ifcfg-lo" })
            {
                return Choice(stack: .ifcfg, reason: "the image has /etc/sysconfig/network-scripts/\(ifcfg)")
            }
            if let text = try root.readFile("/etc/network/interfaces").map({ String(decoding: $0, as: UTF8.self) }),
                InterfacesFile.stanzas(text).contains(where: { !$0.names.allSatisfy(Cleanup.isUnrelatedName) })
            {
                return Choice(stack: .ifupdown, reason: "/etc/network/interfaces configures a card")
            }
            if root.exists("/usr/sbin/NetworkManager") {
                return Choice(stack: .networkManager, reason: "NetworkManager is installed (not enabled)")
            }
            if root.exists("/sbin/ifup") || root.exists("/usr/sbin/ifup") {
                return Choice(stack: .ifupdown, reason: "ifupdown is installed")
            }
            if root.exists("/usr/lib/systemd/systemd-networkd") || root.exists("/lib/systemd/systemd-networkd") {
                return Choice(stack: .networkd, reason: "systemd-networkd is installed (not enabled)")
            }
            return nil
        }

        /// Whether the unit's link is there. Its target is not followed: in an image that is not running, an
        /// absolute link points into the image, and some images keep units only under /usr.
        static func isEnabled(_ path: String, root: TargetRoot) -> Bool {
            (try? root.linkTarget(path)) != nil || root.exists(path)
        }

        static func yamlFiles(in folder: String, root: TargetRoot) throws(CoreError) -> [String] {
            try root.listFolder(folder).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        }
    }
}

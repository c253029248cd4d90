import Foundation

/// Reads a unit's hardware facts from the sysfs under a root, or from a facts file.
public enum FactsProbe {
    /// Names of links that are never a physical card, even when sysfs gives them a device.
    static let virtualPrefixes = ["veth", "docker", "br-", "virbr", "vnet", "tap", "tun", "wg", "vxlan", "dummy", "bond"]

    /// The DMI fields and physical network cards under `root`'s `/sys`.
    public static func read(root: TargetRoot) throws(CoreError) -> HardwareFacts {
        do {
            func dmi(_ name: String) throws(CoreError) -> String? {
                guard let text = try root.readTrimmedText("/sys/class/dmi/id/\(name)"), !text.isEmpty else { return nil }
                return text
            }
            return HardwareFacts(
                serial: try dmi("product_serial"), uuid: try dmi("product_uuid"), assetTag: try dmi("chassis_asset_tag"),
                vendor: try dmi("sys_vendor"), model: try dmi("product_name"), boardSerial: try dmi("board_serial"),
                interfaces: try interfaces(root: root))
        } catch {
            throw .factsProbe(error)
        }
    }

    /// Parses the facts file at `path` (a host path, not inside the root: it is the technician's input).
    public static func read(factsFile path: String) throws(CoreError) -> HardwareFacts {
        var status = stat()
        guard stat(path, &status) == 0 else {
            let code = errno
            if code == ENOENT { throw .factsFileMissing(path: path) }
            throw .factsFile(path: path, reason: "cannot be read: \(String(cString: strerror(code)).lowercased())")
        }
        if status.st_mode & S_IFMT == S_IFDIR { throw .factsFile(path: path, reason: "is a folder, not a facts file") }
        // Not only a plain file: '--facts /dev/stdin' reads a pipe.
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .factsFile(path: path, reason: "cannot be read (not readable for this user)")
        }
        do {
            return try HardwareFacts.parse(json: data, source: path)
        } catch {
            if case let .invalidValue(_, _, reason) = error { throw .factsFile(path: path, reason: reason) }
            throw .factsFile(path: path, reason: error.description)
        }
    }

    /// The physical cards in `/sys/class/net`: those with a device that is not under `/sys/devices/virtual`, of
    /// Ethernet type, and neither a bridge nor a bond.
    static func interfaces(root: TargetRoot) throws(CoreError) -> [NetworkInterfaceFact] {
        var result: [NetworkInterfaceFact] = []
        for name in try root.listFolder("/sys/class/net") {
            let base = "/sys/class/net/\(name)"
            if virtualPrefixes.contains(where: { name.hasPrefix($0) }) { continue }
            if try root.canonical(base).hasPrefix("/sys/devices/virtual/") { continue }
            guard root.exists("\(base)/device") else { continue }
            if root.exists("\(base)/bridge") || root.exists("\(base)/bonding") { continue }
            if let type = try root.readTrimmedText("\(base)/type"), type != "1" { continue }
            guard let mac = try root.readTrimmedText("\(base)/address"), !mac.isEmpty else { continue }
            let subsystem = try root.canonical("\(base)/device/subsystem")
            let bus = root.exists("\(base)/device/subsystem") ? String(subsystem.split(separator: "/").last ?? "") : nil
            let devicePath = try root.canonical("\(base)/device")
            let removable = bus == "usb" || devicePath.contains("/usb")
            result.append(NetworkInterfaceFact(
                name: name, mac: mac.lowercased(),
                wireless: root.exists("\(base)/wireless") || root.exists("\(base)/phy80211"),
                bus: bus, removable: removable))
        }
        return result
    }
}

import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintTestSupport
import Testing

/// netplan's shipped examples that Imprint reads, planned for each stack as a run plans them.
enum ExampleCases {
    static let folder = "/usr/share/doc/netplan/examples/"

    /// Every shipped example the reader accepts (README's table says which, NetplanExamplesTests keeps it honest).
    static let accepted: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return files.filter { $0.hasSuffix(".yaml") }.sorted().filter { file in
            guard let text = try? String(contentsOfFile: folder + file, encoding: .utf8) else { return false }
            return (try? NetplanV2.interfaces(text)) != nil
        }
    }()

    /// The setting each stack that cannot carry an accepted example refuses it for; every other pair renders.
    static let refused: [String: [NetworkStack: String]] = [
        "offload.yaml": [.networkd: "receive-checksum-offload", .ifupdown: "receive-checksum-offload", .ifcfg: "receive-checksum-offload"],
        "route_metric.yaml": [.ifcfg: "dhcp4-overrides"],
        "source_routing.yaml": [.networkManager: "routing-policy", .ifcfg: "routes"],
        "static_singlenic_multiip_multigateway.yaml": [.ifcfg: "routes"],
        "direct_connect_gateway.yaml": [.ifcfg: "routes"],
        "direct_connect_gateway_ipv6.yaml": [.ifcfg: "routes"],
        "windows_dhcp_server.yaml": [.ifupdown: "dhcp-identifier", .ifcfg: "dhcp-identifier"],
        // Its bonds' members are optional, which the ifcfg network service cannot leave out of the boot.
        "bonding_router.yaml": [.ifcfg: "optional"],
        "ipv6_tunnel.yaml": [.ifupdown: "tunnels", .ifcfg: "tunnels"],
        "modem.yaml": [.networkd: "modems", .ifupdown: "modems", .ifcfg: "modems"],
        "dhcp_wired8021x.yaml": [.networkManager: "password", .networkd: "auth", .ifupdown: "password", .ifcfg: "password"],
        "wpa_enterprise.yaml": [.networkManager: "phase2-auth", .networkd: "access-points", .ifupdown: "access-points", .ifcfg: "access-points"],
        "wireless.yaml": [.networkManager: "regulatory-domain", .networkd: "regulatory-domain", .ifupdown: "regulatory-domain",
                          .ifcfg: "regulatory-domain"],
    ]

    static var pairs: [(String, NetworkStack)] { accepted.flatMap { file in NetworkStack.allCases.map { (file, $0) } } }

    /// The unit profile of `text` (the pasted document and the cards read from it) for `stack`.
    static func profile(_ text: String, stack: NetworkStack) throws -> UnitProfile {
        var profile = try NetworkCases.profile(try NetplanV2.interfaces(text), stack: stack)
        profile.netplan = text
        return profile
    }

    /// The message the network step refuses `text` with when planned for `stack` (a test issue when it plans).
    static func refusal(_ text: String, stack: NetworkStack) throws -> String {
        let profile = try profile(text, stack: stack)
        do {
            _ = try plannedFiles(profile, into: try TemporaryDirectory("refusal"))
        } catch {
            return "\(error)"
        }
        Issue.record("the \(stack.rawValue) stack planned what it should refuse")
        return ""
    }

    /// The files the network step plans for `profile`, written into `folder` with their modes.
    static func plannedFiles(_ profile: UnitProfile, into folder: TemporaryDirectory) throws -> [RenderedFile] {
        let plan = try NetworkStep.plan(profile, root: TargetRoot(folder.path))
        return try plan.changes.compactMap { change in
            guard case let .write(contents, metadata) = change.action else { return nil }
            let text = String(decoding: contents, as: UTF8.self)
            let path = try folder.write(String(change.path.dropFirst()), text)
            chmod(path, mode_t(metadata?.mode ?? 0o644))
            return RenderedFile(path: change.path, text: text, mode: metadata?.mode ?? 0o644, reason: change.reason, secret: change.secret)
        }
    }

    /// What the stack's own tool says is wrong with `files` under `folder`; empty when it accepts them.
    static func complaints(_ stack: NetworkStack, files: [RenderedFile], folder: TemporaryDirectory) throws -> [String] {
        switch stack {
        case .netplan:
            let result = try runProcess("/usr/sbin/netplan", ["generate", "--root-dir", folder.path])
            return result.status == 0 && result.error.isEmpty ? [] : ["netplan generate: \(result.status) \(result.error)"]
        case .networkManager:
            let profiles = files.filter { $0.path.hasSuffix(".nmconnection") }.map { (($0.path as NSString).lastPathComponent as NSString).deletingPathExtension }
            let result = try networkManagerShow(folder, profiles: profiles, fields: "connection.id")
            let listed = Set(result.output.split(separator: "\n").map { String($0.dropFirst("connection.id:".count)) })
            let missing = profiles.filter { !listed.contains($0) }
            // The daemon names a keyfile it cannot load, and why, in its log.
            let warnings = result.error.split(separator: "\n").filter { line in
                line.contains("imprint-") && (line.contains("<warn>") || line.contains("<error>") || line.contains("invalid"))
            }
            return (missing.isEmpty ? [] : ["NetworkManager lists no \(missing)"]) + warnings.map(String.init)
        case .networkd:
            return try networkdComplaints(folder, files: files)
        case .ifupdown:
            let path = folder.file("etc/network/interfaces.d/imprint")
            var found: [String] = []
            // Cards are in the hotplug class too; a bond, bridge or VLAN only in auto.
            for allow in ["hotplug", "auto"] {
                let list = try runProcess("/usr/sbin/ifquery", ["-i", path, "--list", "--allow", allow])
                let state = try TemporaryDirectory("ifstate")
                let up = try runProcess("/usr/sbin/ifup", ["-n", "-a", "--allow", allow, "-i", path, "--state-dir", state.path])
                if list.status != 0 || !list.error.isEmpty { found.append("ifquery --allow \(allow): \(list.error)") }
                // With -n, stderr lists the commands ifup would run; its own complaints start with "ifup:".
                if up.status != 0 || up.error.contains("ifup:") { found.append("ifup -n --allow \(allow): \(up.error)") }
            }
            return found
        case .ifcfg:
            return try files.filter { $0.path.contains("/network-scripts/") }.compactMap { file in
                let result = try runProcess("/bin/bash", ["-c", "set -eu; . \(folder.file(String(file.path.dropFirst())))"])
                return result.status == 0 && result.error.isEmpty ? nil : "\(file.path): \(result.error)"
            }
        }
    }
}

@Suite struct NetplanExampleStackTests {
    /// Enough of netplan's examples are read: the issue's bar is 20 of 29.
    @Test func enoughExamplesAccepted() {
        #expect(ExampleCases.accepted.count >= 20, "\(ExampleCases.accepted)")
        #expect(Set(ExampleCases.refused.keys).isSubset(of: ExampleCases.accepted))
    }

    /// Each accepted example, planned for each stack as a run plans it, is either accepted by that stack's real
    /// tool (`netplan generate`, the NetworkManager daemon, systemd-networkd, `ifquery` and `ifup -n`, bash for
    /// ifcfg) or refused at plan time naming the setting, the stack and the stacks that carry it.
    @Test(arguments: ExampleCases.pairs)
    func exampleRendersOrIsRefused(_ file: String, _ stack: NetworkStack) throws {
        let text = try String(contentsOfFile: ExampleCases.folder + file, encoding: .utf8)
        if let key = ExampleCases.refused[file]?[stack] {
            let message = try ExampleCases.refusal(text, stack: stack)
            #expect(message.contains("network \(key) of ") && message.contains("for the \(stack.rawValue) stack"), "\(message)")
            #expect(message.contains("force netplan") && (message.contains("remove '\(key)'") || message.contains("add '\(key)'")), "\(message)")
            return
        }
        let folder = try TemporaryDirectory("example")
        let profile = try ExampleCases.profile(text, stack: stack)
        let files = try ExampleCases.plannedFiles(profile, into: folder)
        // network_manager.yaml only picks the renderer: no card, nothing written.
        #expect(files.isEmpty == profile.interfaces.isEmpty)
        if files.isEmpty { return }
        let complaints = try ExampleCases.complaints(stack, files: files, folder: folder)
        #expect(complaints == [], "\(complaints)")
    }
}

@Suite struct ModemTests {
    /// netplan's modem example, read back by NetworkManager's own daemon: a GSM profile on the card by name with
    /// every setting of the document, the password and PIN among its secrets; the file is a secret change (0600,
    /// masked in diffs). systemd-networkd is refused naming `modems`.
    @Test func networkManagerReadsTheModem() throws {
        let text = try String(contentsOfFile: ExampleCases.folder + "modem.yaml", encoding: .utf8)
        let folder = try TemporaryDirectory("modem")
        let files = try ExampleCases.plannedFiles(try ExampleCases.profile(text, stack: .networkManager), into: folder)
        let profile = try #require(files.first { $0.path.hasSuffix(".nmconnection") })
        #expect(profile.mode == 0o600 && profile.secret)
        let fields = "connection.type,connection.interface-name,gsm.apn,gsm.username,gsm.password,gsm.number,gsm.network-id,"
            + "gsm.device-id,gsm.pin,gsm.sim-id,gsm.sim-operator-id,gsm.mtu"
        let shown = try networkManagerShow(folder, profiles: ["imprint-0"], fields: fields, secrets: true)
        let expected = [
            "connection.type:gsm", "connection.interface-name:cdc-wdm1", "gsm.apn:ISP.CINGULAR", "gsm.username:ISP@CINGULARGPRS.COM",
            "gsm.password:CINGULAR1", "gsm.number:*99#", "gsm.network-id:24005", "gsm.device-id:da812de91eec16620b06cd0ca5cbc7ea25245222",
            "gsm.pin:2345", "gsm.sim-id:89148000000060671234", "gsm.sim-operator-id:310260", "gsm.mtu:1600",
        ]
        #expect(shown.output.split(separator: "\n").map(String.init) == expected, "\(shown.output)\n\(shown.error.suffix(2000))")
        let refusal = try ExampleCases.refusal(text, stack: .networkd)
        #expect(refusal.contains("modems") && refusal.contains("networkmanager"), "\(refusal)")
    }
}

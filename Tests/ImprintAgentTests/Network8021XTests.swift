import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintTestSupport
import Testing

/// Campus networks: a wired card on an 802.1X switch port, and Wi-Fi cards on WPA-Enterprise (eduroam) beside a
/// WPA-Personal network, as pasted netplan documents, rendered by Imprint's own templates for each stack and read
/// back by the stack's real tool.
enum EAPCases {
    static let password = "Tr0ub4dor&3 s3cret"
    static let keyPassword = "k3y-Pa55phrase"
    static let psk = "staff-wifi-2026"

    /// PEAP with MSCHAPv2 and the campus CA, on a wired card found by MAC.
    static let wired = """
        network:
          version: 2
          ethernets:
            lan:
              match: {macaddress: "3c:52:82:20:04:07"}
              dhcp4: true
              auth:
                key-management: 802.1x
                method: peap
                identity: rm204-07@school.example.org
                password: "\(password)"
                ca-certificate: /etc/ssl/certs/campus-ca.pem
                phase2-auth: mschapv2
        """

    /// eduroam: TTLS with PAP inside and an anonymous outer identity.
    static let eduroam = """
        network:
          version: 2
          wifis:
            wlan:
              match: {macaddress: "3c:52:82:20:14:07"}
              dhcp4: true
              access-points:
                eduroam:
                  auth:
                    key-management: eap
                    method: ttls
                    anonymous-identity: anonymous@school.example.org
                    identity: rm204-07@school.example.org
                    password: "\(password)"
                    ca-certificate: /etc/ssl/certs/campus-ca.pem
                    phase2-auth: pap
        """

    /// Two networks on one card: TLS with a client certificate and an encrypted key, and WPA-Personal.
    static let twoNetworks = """
        network:
          version: 2
          wifis:
            wlan:
              match: {macaddress: "3c:52:82:20:14:07"}
              dhcp4: true
              access-points:
                campus:
                  auth:
                    key-management: eap
                    method: tls
                    identity: rm204-07@school.example.org
                    ca-certificate: /etc/ssl/certs/campus-ca.pem
                    client-certificate: /etc/ssl/certs/rm204-07.pem
                    client-key: /etc/ssl/private/rm204-07.key
                    client-key-password: "\(keyPassword)"
                staff:
                  auth:
                    key-management: psk
                    password: "\(psk)"
        """

    static let documents = ["wired": wired, "eduroam": eduroam, "two networks": twoNetworks]

    /// The setting each stack that cannot carry a document refuses it for.
    static let refused: [String: [NetworkStack: String]] = [
        "wired": [.networkd: "auth"],
        "eduroam": [.networkd: "Wi-Fi"],
        "two networks": [.networkd: "access-points", .ifupdown: "access-points", .ifcfg: "access-points"],
    ]

    static var pairs: [(String, NetworkStack)] {
        documents.keys.sorted().flatMap { name in NetworkStack.allCases.map { (name, $0) } }
    }
}

@Suite struct Network8021XTests {
    /// Each document renders on each stack that can carry it, the stack's own tool reads the EAP method, the identity
    /// and the CA certificate back, and every file holding a password is 0600 and a secret change (shown in no diff,
    /// log or JSON); a stack that cannot carry it refuses at plan time, naming the setting.
    @Test(arguments: EAPCases.pairs)
    func rendersForEveryStackThatCarriesIt(_ name: String, _ stack: NetworkStack) throws {
        let interfaces = try NetplanV2.interfaces(EAPCases.documents[name] ?? "")
        let folder = try TemporaryDirectory("eap")
        if let key = EAPCases.refused[name]?[stack] {
            #expect {
                try NetworkCases.render(interfaces, stack: stack, into: folder)
            } throws: { error in
                "\(error)".contains(key) && "\(error)".contains("networkmanager") && !"\(error)".contains(EAPCases.password)
            }
            return
        }
        let files = try NetworkCases.render(interfaces, stack: stack, into: folder)
        for file in files where [EAPCases.password, EAPCases.keyPassword, EAPCases.psk].contains(where: file.text.contains) {
            #expect(file.mode == 0o600 && file.secret, "\(file.path) holds a password")
        }
        let read = try readBack(stack, folder: folder, files: files)
        switch name {
        case "wired":
            #expect(read.contains("eap=peap") && read.contains("identity=rm204-07@school.example.org"), "\(read)")
            #expect(read.contains("ca=/etc/ssl/certs/campus-ca.pem") && read.contains("phase2=mschapv2"), "\(read)")
            #expect(read.contains("password=\(EAPCases.password)"), "\(read)")
        case "eduroam":
            #expect(read.contains("eap=ttls") && read.contains("anonymous=anonymous@school.example.org"), "\(read)")
            #expect(read.contains("phase2=pap") && read.contains("ssid=eduroam"), "\(read)")
        default:
            #expect(read.contains("eap=tls") && read.contains("cert=/etc/ssl/certs/rm204-07.pem"), "\(read)")
            #expect(read.contains("key=/etc/ssl/private/rm204-07.key") && read.contains("keypassword=\(EAPCases.keyPassword)"), "\(read)")
            #expect(read.contains("ssid=campus") && read.contains("ssid=staff") && read.contains("psk=\(EAPCases.psk)"), "\(read)")
        }
    }

    /// What the stack's tool makes of the files, as `key=value` lines (lowercase): NetworkManager's daemon
    /// (`nmcli connection show`, secrets included), netplan's generated wpa_supplicant and NetworkManager files,
    /// `ifquery` for ifupdown, bash reading the ifcfg and keys files.
    func readBack(_ stack: NetworkStack, folder: TemporaryDirectory, files: [RenderedFile]) throws -> [String] {
        switch stack {
        case .networkManager:
            let profiles = files.map { (($0.path as NSString).lastPathComponent as NSString).deletingPathExtension }
            let fields = "802-11-wireless.ssid,802-11-wireless-security.key-mgmt,802-11-wireless-security.psk,802-1x.eap,802-1x.identity,802-1x.anonymous-identity,"
                + "802-1x.password,802-1x.ca-cert,802-1x.client-cert,802-1x.private-key,802-1x.private-key-password,802-1x.phase2-auth"
            let shown = try networkManagerShow(folder, profiles: profiles, fields: fields, secrets: true)
            #expect(shown.status == 0, "\(shown.error)")
            let names = [
                "802-11-wireless.ssid": "ssid", "802-11-wireless-security.psk": "psk", "802-1x.eap": "eap", "802-1x.identity": "identity",
                "802-1x.anonymous-identity": "anonymous", "802-1x.password": "password", "802-1x.ca-cert": "ca",
                "802-1x.client-cert": "cert", "802-1x.private-key": "key", "802-1x.private-key-password": "keypassword",
                "802-1x.phase2-auth": "phase2",
            ]
            return shown.output.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2, let name = names[parts[0]], !parts[1].isEmpty else { return nil }
                // nmcli shows a certificate's path as a file:// URI.
                return "\(name)=\(parts[1].replacingOccurrences(of: "file://", with: ""))"
            }
        case .netplan:
            let generated = try runProcess("/usr/sbin/netplan", ["generate", "--root-dir", folder.path])
            #expect(generated.status == 0 && generated.error.isEmpty, "\(generated.error)")
            // Wired: wpa_supplicant's configuration beside networkd; Wi-Fi: NetworkManager keyfiles.
            var lines: [String] = []
            for directory in ["run/netplan", "run/NetworkManager/system-connections"] {
                let path = folder.file(directory)
                for file in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                    let text = try String(contentsOfFile: path + "/" + file, encoding: .utf8)
                    lines += text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                }
            }
            return lines.compactMap { line in
                let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
                guard parts.count == 2 else { return nil }
                let names = [
                    "ssid": "ssid", "psk": "psk", "eap": "eap", "identity": "identity", "anonymous_identity": "anonymous",
                    "anonymous-identity": "anonymous", "password": "password", "ca_cert": "ca", "ca-cert": "ca",
                    "client_cert": "cert", "client-cert": "cert", "private_key": "key", "private-key": "key",
                    "private_key_passwd": "keypassword", "private-key-password": "keypassword", "phase2": "phase2",
                    "phase2-auth": "phase2",
                ]
                guard let name = names[parts[0]] else { return nil }
                let value = parts[1].lowercased().replacingOccurrences(of: "auth=", with: "").trimmingCharacters(in: CharacterSet(charactersIn: ";"))
                return "\(name)=\(["password", "keypassword", "psk"].contains(name) ? parts[1] : value)"
            }
        case .ifupdown:
            let path = folder.file("etc/network/interfaces.d/imprint")
            let shown = try runProcess("/usr/sbin/ifquery", ["-i", path, "imprint0"])
            #expect(shown.status == 0 && shown.error.isEmpty, "\(shown.error)")
            let names = [
                "wpa-ssid": "ssid", "wpa-psk": "psk", "wpa-eap": "eap", "wpa-identity": "identity", "wpa-anonymous-identity": "anonymous",
                "wpa-password": "password", "wpa-ca-cert": "ca", "wpa-phase2": "phase2", "wpa-driver": "driver",
            ]
            return shown.output.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, let name = names[parts[0]] else { return nil }
                let value = ["password", "psk", "identity", "anonymous", "ssid"].contains(name) ? parts[1]
                    : parts[1].lowercased().replacingOccurrences(of: "auth=", with: "")
                return "\(name)=\(value)"
            }
        case .ifcfg:
            let scripts = folder.file("etc/sysconfig/network-scripts")
            let sourced = try FileManager.default.contentsOfDirectory(atPath: scripts).sorted().map { ". '\(scripts)/\($0)'; " }.joined()
            let script = sourced + #"printf '%s\n' "ssid=${ESSID-}" "eap=${IEEE_8021X_EAP_METHODS-}" "identity=${IEEE_8021X_IDENTITY-}" "#
                + #""anonymous=${IEEE_8021X_ANON_IDENTITY-}" "password=${IEEE_8021X_PASSWORD-}" "ca=${IEEE_8021X_CA_CERT-}" "#
                + #""phase2=${IEEE_8021X_INNER_AUTH_METHODS-}" "mgmt=${KEY_MGMT-}""#
            let result = try runProcess("/bin/bash", ["-c", "set -eu; " + script])
            #expect(result.status == 0 && result.error.isEmpty, "\(result.error)")
            return result.output.split(separator: "\n").map { line in
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, ["eap", "phase2"].contains(parts[0]) else { return String(line) }
                return "\(parts[0])=\(parts[1].lowercased())"
            }
        case .networkd:
            return []
        }
    }

    /// A `--dry-run` of a unit whose document holds 802.1X passwords shows the files' sizes, never their text.
    @Test func dryRunMasksThePasswords() throws {
        let folder = try TemporaryDirectory("eap-dry")
        try folder.write("usr/sbin/NetworkManager", "")
        try folder.write("etc/NetworkManager/NetworkManager.conf", "[main]\nplugins=keyfile\n")
        var profile = try NetworkCases.profile(try NetplanV2.interfaces(EAPCases.wired), stack: .networkManager)
        profile.netplan = EAPCases.wired
        let plan = try NetworkStep.plan(profile, root: TargetRoot(folder.path))
        let profileChange = try #require(plan.changes.first { $0.path.hasSuffix("imprint-0.nmconnection") })
        #expect(profileChange.secret)
        let shown = profileChange.diff
        #expect(!shown.contains(EAPCases.password) && !shown.contains("rm204-07@school"), "\(shown)")
    }

    /// The plan says when the image lacks wpa_supplicant, which every stack hands 802.1X to, and says nothing when
    /// the image has it.
    @Test func planNamesAMissingSupplicant() throws {
        let folder = try TemporaryDirectory("eap-supplicant")
        try folder.write("etc/network/interfaces", "source /etc/network/interfaces.d/*\n")
        let profile = try NetworkCases.profile(try NetplanV2.interfaces(EAPCases.wired), stack: .ifupdown)
        let without = try NetworkStep.plan(profile, root: TargetRoot(folder.path))
        #expect(without.notes.contains { $0.contains("802.1X on 3c:52:82:20:04:07 needs wpa_supplicant") }, "\(without.notes)")
        try folder.write("usr/sbin/wpa_supplicant", "")
        let with = try NetworkStep.plan(profile, root: TargetRoot(folder.path))
        #expect(!with.notes.contains { $0.contains("wpa_supplicant") }, "\(with.notes)")
    }

    /// Where Imprint and cloud-init differ: `cloud-init devel net-convert` passes `auth` through to netplan but drops it
    /// for NetworkManager and ifupdown, so its unit would come up unauthenticated on an 802.1X port; Imprint's files
    /// keep it. (The test notices when cloud-init starts writing it.)
    @Test(arguments: [(NetworkStack.networkManager, "network-manager", "[802-1x]"), (.ifupdown, "eni", "wpa-eap")])
    func cloudInitDropsWhatImprintKeeps(_ stack: NetworkStack, _ kind: String, _ marker: String) throws {
        let folder = try TemporaryDirectory("eap-cloud-init")
        let input = try folder.write("input.yaml", EAPCases.wired)
        let output = folder.file("cloud-init")
        let converted = try runProcess("/usr/bin/cloud-init", [
            "devel", "net-convert", "-p", input, "-k", "yaml", "-d", output, "-D", "debian", "-O", kind, "-m", "eth0,3c:52:82:20:04:07",
        ])
        try #require(converted.status == 0, "\(converted.error)")
        let theirs = try FileManager.default.subpathsOfDirectory(atPath: output).map { output + "/" + $0 }
            .filter { !$0.contains("/udev/") }
            .compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }.joined()
        #expect(!theirs.isEmpty && !theirs.contains(marker) && !theirs.contains("rm204-07@school"), "cloud-init now writes 802.1X: compare it\n\(theirs)")
        let ours = try NetworkCases.render(try NetplanV2.interfaces(EAPCases.wired), stack: stack, into: try TemporaryDirectory("eap-ours"))
        #expect(ours.contains { $0.text.contains(marker) && $0.text.contains("rm204-07@school.example.org") })
    }

    /// Bad 802.1X settings are refused when the document is read, naming the setting and what to do, never
    /// showing a password.
    @Test(arguments: [
        ("method: md5\nidentity: a@b\npassword: x", "must be tls, peap or ttls"),
        ("method: peap\nidentity: a@b", "needs a 'password'"),
        ("method: tls\nidentity: a@b\nclient-key: /etc/ssl/a.key", "needs 'client-certificate' and 'client-key'"),
        ("method: ttls\nidentity: a@b\npassword: Secr3tPass\nca-certificate: ssl/ca.pem", "must be an absolute path"),
        ("method: ttls\nidentity: a@b\npassword: Secr3tPass\nca-certificate: /etc/../root/ca.pem", "must be an absolute path"),
        ("method: tls\nidentity: a@b\nclient-certificate: /a.pem\nclient-key: /a.key\nphase2-auth: pap", "goes with peap or ttls"),
        ("method: peap\nidentity: a@b\npassword: Secr3tPass\nphase2-auth: eap-gtc", "must be one of mschapv2"),
        ("method: peap\nidentity: a@b\npassword: Secr3tPass\ndomain-suffix-match: example.org", "is not supported"),
    ])
    func badSettingsAreNamed(_ settings: String, _ reason: String) throws {
        let document = "network:\n  version: 2\n  ethernets:\n    lan:\n      match: {macaddress: \"3c:52:82:20:04:07\"}\n"
            + "      auth:\n        key-management: 802.1x\n" + settings.split(separator: "\n").map { "        \($0)\n" }.joined()
        #expect {
            try NetplanV2.interfaces(document)
        } throws: { error in
            "\(error)".contains(reason) && "\(error)".contains("netplan interface lan auth") && !"\(error)".contains("Secr3tPass")
        }
    }

    /// A wired card's `auth` must say 802.1x, and Wi-Fi's belongs to an access point.
    @Test func authBelongsWhereNetplanPutsIt() throws {
        let onWifi = "network:\n  version: 2\n  wifis:\n    wlan:\n      match: {macaddress: \"3c:52:82:20:14:07\"}\n"
            + "      auth: {key-management: eap, method: peap, identity: a@b, password: x}\n      access-points: {eduroam: {}}\n"
        #expect { try NetplanV2.interfaces(onWifi) } throws: { "\($0)".contains("move it under its SSID") }
        let eapOnWire = EAPCases.wired.replacingOccurrences(of: "key-management: 802.1x", with: "key-management: eap")
        #expect { try NetplanV2.interfaces(eapOnWire) } throws: { "\($0)".contains("must be 802.1x on a wired card") }
    }
}

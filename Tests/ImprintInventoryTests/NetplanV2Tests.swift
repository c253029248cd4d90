import Foundation
import ImprintCore
import ImprintInventory
import ImprintTestSupport
import Testing

@Suite struct NetplanV2Tests {
    /// A netplan document (YAML or the same in JSON) becomes interfaces: addresses, DHCPv6, default routes, name
    /// servers, MTU and a Wi-Fi access point with its password.
    @Test func readsYAMLAndJSON() throws {
        let yaml = """
            network:
              version: 2
              renderer: networkd
              ethernets:
                lan:
                  match:
                    macaddress: 3C:52:82:20:04:07
                  dhcp6: true
                  optional: false
                  renderer: networkd
                  addresses: [10.20.4.107/24, "2001:db8:4::107/64"]
                  routes:
                    - to: default
                      via: 10.20.4.1
                    - to: "::/0"
                      via: "2001:db8:4::1"
                  nameservers: {addresses: [10.20.0.53], search: [school.example.org]}
                  mtu: 9000
              wifis:
                wlan:
                  match: {macaddress: "3c:52:82:20:14:07"}
                  dhcp4: true
                  access-points:
                    "School Wi-Fi": {password: "correct horse"}
            """
        let interfaces = try NetplanV2.interfaces(yaml)
        #expect(interfaces.count == 2)
        #expect(interfaces[0].mac.value == "3c:52:82:20:04:07")
        #expect(interfaces[0].addresses.map(\.description) == ["10.20.4.107/24", "2001:db8:4::107/64"])
        #expect(interfaces[0].gateway4?.value == "10.20.4.1" && interfaces[0].gateway6?.value == "2001:db8:4::1")
        #expect(interfaces[0].dns.map(\.value) == ["10.20.0.53"] && interfaces[0].search.map(\.value) == ["school.example.org"])
        #expect(interfaces[0].mtu == 9000)
        #expect(interfaces[0].dhcp6 && !interfaces[1].dhcp6)
        let wifi = try WifiNetwork(ssid: "School Wi-Fi", passphrase: "correct horse")
        #expect(interfaces[1].usesDHCP4 && interfaces[1].wifi == wifi)

        let json = #"{"version": 2, "ethernets": {"lan": {"match": {"macaddress": "3c:52:82:20:04:07"}, "dhcp4": true}}}"#
        #expect(try NetplanV2.interfaces(json) == [try InterfaceConfig(mac: MACAddress("3c:52:82:20:04:07"))])
    }

    /// What Imprint cannot render is refused with a message naming it: a name-only match, a bond, a route to a
    /// network, a gateway outside the subnet, an SSID with a newline, no IPv4 at all (DHCPv6 alone), a renamed card,
    /// `optional: true`, `accept-ra`, a DHCP flag that is not a boolean, not version 2, two interfaces with one MAC.
    @Test func refusesWhatItCannotRender() {
        let cases: [(String, String)] = [
            ("network: {version: 2, ethernets: {eth0: {dhcp4: true}}}", "never to a name alone"),
            ("network: {version: 2, ethernets: {eth0: {match: {name: eth0}, dhcp4: true}}}", "never to a name alone"),
            ("network: {version: 2, bonds: {bond0: {interfaces: [eth0]}}}", "'bonds'"),
            ("network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, addresses: [10.0.0.2/24], routes: [{to: 10.9.0.0/16, via: 10.0.0.1}]}}}", "only default routes"),
            ("network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, addresses: [10.0.0.2/24], gateway4: 10.1.0.1}}}", "outside the subnet"),
            ("network: {version: 2, wifis: {w: {match: {macaddress: '3c:52:82:20:04:07'}, dhcp4: true, access-points: {\"a\\nb\": {}}}}}", "control character"),
            ("network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, addresses: ['2001:db8::2/64']}}}", "say 'dhcp4: true'"),
            ("network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, dhcp6: true}}}", "an IPv6-only card is not supported"),
            ("network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, set-name: lan, dhcp4: true}}}", "set-name"),
            ("network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, optional: true, dhcp4: true}}}", "remove 'optional'"),
            ("network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, accept-ra: false, dhcp4: true}}}", "remove 'accept-ra'"),
            ("network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, dhcp4: true, dhcp6: maybe}}}", "dhcp6 'maybe'"),
            ("network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, dhcp6: true, mtu: 1000, dhcp4: true}}}", "1280 to 9216"),
            ("network: {version: 1, config: []}", "version: 2"),
            ("network: {version: 2, ethernets: {a: {match: {macaddress: '3c:52:82:20:04:07'}, dhcp4: true}, b: {match: {macaddress: '3C-52-82-20-04-07'}, dhcp4: true}}}", "another interface already matches this MAC"),
            ("network: [", "not YAML or JSON"),
        ]
        for (text, expected) in cases {
            #expect(throws: CoreError.self, "\(text)") { try NetplanV2.interfaces(text) }
            do {
                _ = try NetplanV2.interfaces(text)
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
    }

    /// The 'netplan' CSV column imports a document, export writes it back as given, and a second import of the
    /// export changes nothing; the unit's interfaces (and so its MAC identifier) come from the document.
    @Test func csvRoundTrip() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        let document = "network:\n  version: 2\n  ethernets:\n    lan:\n      match: {macaddress: \"3c:52:82:20:04:99\"}\n      addresses: [10.20.4.99/24]\n"
        let csv = CSV.format([["hostname", "netplan"], ["RM204-99", document]])
        let report = try inventory.importCSV(csv, file: "units.csv")
        #expect(report.added == ["RM204-99"])
        let record = try inventory.unit("RM204-99")
        #expect(record.draft.netplan == document)
        #expect(record.profile.interfaces.map(\.mac.value) == ["3c:52:82:20:04:99"])
        #expect(record.draft.identifiers.map(\.description).contains { $0.contains("3c:52:82:20:04:99") })
        let exported = try inventory.exportCSV(.units)
        #expect(try CSV.parse(exported)[1].fields[CSVKind.units.columns.firstIndex(of: "netplan")!] == document)
        #expect(try inventory.importCSV(exported, file: "again.csv", update: true).unchanged == ["RM204-99"])

        let both = CSV.format([["hostname", "ipv4", "macs", "netplan"], ["RM204-98", "10.0.0.2/24", "3c:52:82:20:04:98", document]])
        #expect(throws: InventoryError.self) { try inventory.importCSV(both, file: "both.csv") }
    }

    /// A unit's network stack wins over its group's, is exported in the units file, and clears back to the group's.
    @Test func unitStackOverridesGroup() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        #expect(try inventory.unit("RM204-07").profile.networkStack == nil)
        var changes = UnitChanges()
        changes.networkStack = .set(.ifupdown)
        let record = try inventory.updateUnit("RM204-07", changes)
        #expect(record.profile.networkStack == .ifupdown)
        let exported = try CSV.parse(try inventory.exportCSV(.units))
        let column = try #require(CSVKind.units.columns.firstIndex(of: "network_stack"))
        #expect(exported.first { $0.fields[0] == "RM204-07" }?.fields[column] == "ifupdown")
        changes.networkStack = .clear
        #expect(try inventory.updateUnit("RM204-07", changes).profile.networkStack == nil)
    }

    /// An inventory made before the netplan column is upgraded in place by a new, named migration.
    @Test func upgradesOlderSchema() throws {
        let folder = try TemporaryDirectory()
        _ = try makeInventory(folder)
        let database = folder.file("inventory.db")
        let downgrade = try runProcess("/usr/bin/sqlite3", [database,
            "ALTER TABLE unit DROP COLUMN netplan; ALTER TABLE unit DROP COLUMN networkStack; DELETE FROM grdb_migrations WHERE identifier LIKE 'v2 %';"])
        #expect(downgrade.status == 0, "\(downgrade.error)")
        let inventory = try Inventory(path: database)
        _ = try inventory.importCSV(CSV.format([["hostname", "netplan"], ["RM204-97", #"{"version": 2, "ethernets": {"e": {"match": {"macaddress": "3c:52:82:20:04:97"}, "dhcp4": true}}}"#]]), file: "u.csv")
        #expect(try inventory.unit("RM204-97").draft.netplan?.contains("3c:52:82:20:04:97") == true)
        let migrations = try runProcess("/usr/bin/sqlite3", [database, "SELECT identifier FROM grdb_migrations ORDER BY rowid"])
        // The v2 migration ran again, now, after the later ones the downgrade left.
        let applied = migrations.output.split(separator: "\n").map(String.init)
        #expect(applied.first == "v1 units, identifiers, groups, printers, history")
        #expect(applied.last == "v2 unit netplan text and network stack")
        #expect(applied.filter { $0.hasPrefix("v2 ") }.count == 1)
    }

    /// Aliases of aliases that would expand to millions of values are refused by name, not expanded for minutes.
    @Test func refusesAliasExpansion() {
        var lines = [#"a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]"#]
        for (previous, name) in zip("abcdefgh", "bcdefghi") {
            lines.append("\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]")
        }
        lines.append(#"network: {version: 2, ethernets: {e: {match: {macaddress: "3c:52:82:20:04:09"}, mtu: *i}}}"#)
        #expect {
            try NetplanV2.interfaces(lines.joined(separator: "\n"))
        } throws: { error in
            "\(error)".contains("expands to more than 100000 values")
        }
    }
}

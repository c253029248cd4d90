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
        #expect(interfaces[0].mac?.value == "3c:52:82:20:04:07" && interfaces[0].name == nil)
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

    /// A card named by its kernel name without `match:` (netplan's own static.yaml, dhcp.yaml and
    /// static_multiaddress.yaml) is bound by that name; `match: {name: ...}` likewise; `set-name` renames a card
    /// matched by MAC.
    @Test func bindsByNameAndRenames() throws {
        let examples = "/usr/share/doc/netplan/examples/"
        let statics = try NetplanV2.interfaces(String(contentsOfFile: examples + "static.yaml", encoding: .utf8))
        #expect(statics.count == 1)
        #expect(statics[0].name?.value == "enp3s0" && statics[0].mac == nil)
        #expect(statics[0].addresses.map(\.description) == ["10.10.10.2/24"] && statics[0].gateway4?.value == "10.10.10.1")
        #expect(statics[0].search.map(\.value) == ["mydomain", "otherdomain"])
        let dhcp = try NetplanV2.interfaces(String(contentsOfFile: examples + "dhcp.yaml", encoding: .utf8))
        #expect(dhcp.map(\.name?.value) == ["enp3s0"] && dhcp[0].usesDHCP4)
        let multi = try NetplanV2.interfaces(String(contentsOfFile: examples + "static_multiaddress.yaml", encoding: .utf8))
        #expect(multi[0].addresses.map(\.description) == ["10.100.1.38/24", "10.100.1.39/24"] && multi[0].name?.value == "enp3s0")

        let matched = try NetplanV2.interfaces("""
            network:
              version: 2
              ethernets:
                uplink: {match: {name: eno1}, dhcp4: true}
                lan:
                  match: {macaddress: "3c:52:82:20:04:07"}
                  set-name: lan0
                  dhcp4: true
            """)
        #expect(matched.map(\.name?.value) == [nil, "eno1"])
        #expect(matched[0].mac?.value == "3c:52:82:20:04:07" && matched[0].setName?.value == "lan0")
    }

    /// netplan reads a document without `version` (its vrf.yaml and vxlan.yaml), so Imprint reads it too: what is
    /// refused is then the section it cannot render, named, not the layout.
    @Test func readsDocumentsWithoutVersion() throws {
        #expect(try NetplanV2.interfaces("network:\n  ethernets:\n    enp3s0: {dhcp4: true}\n  renderer: networkd\n").count == 1)
        let vrf = try String(contentsOfFile: "/usr/share/doc/netplan/examples/vrf.yaml", encoding: .utf8)
        #expect(throws: CoreError.self) { try NetplanV2.interfaces(vrf) }
        do { _ = try NetplanV2.interfaces(vrf) } catch { #expect("\(error)".contains("'bridges'") || "\(error)".contains("'vrfs'"), "\(error)") }
    }

    /// What Imprint cannot render is refused with a message naming it: a name pattern, a match by driver, a rename
    /// of a card found by name, loopback, a bond of a card the document lacks, a tunnel, a route key Imprint does not render, a route's gateway outside the
    /// subnet without `on-link`, a gateway outside the subnet, an SSID with a newline, a DHCP override other than the
    /// route metric, `accept-ra`, a DHCP flag that is not a boolean, not version 2, two interfaces with one MAC or one
    /// name.
    @Test func refusesWhatItCannotRender() {
        let cases: [(String, String)] = [
            ("network: {version: 2, ethernets: {lan: {match: {name: 'en*'}, dhcp4: true}}}", "match name 'en*': is a pattern"),
            ("network: {version: 2, ethernets: {lan: {match: {driver: e1000e}, dhcp4: true}}}", "match 'driver': is not supported"),
            ("network: {version: 2, ethernets: {lan: {match: {name: enp3s0}, set-name: lan0, dhcp4: true}}}", "add 'match: {macaddress: ...}'"),
            ("network: {version: 2, ethernets: {lo: {addresses: [7.7.7.7/32]}}}", "loopback"),
            ("network: {version: 2, ethernets: {enp3s0: {dhcp4: true}, lan: {match: {name: enp3s0}, dhcp4: true}}}", "another interface already has this name"),
            ("network: {version: 2, bonds: {bond0: {interfaces: [eth0]}}}", "interfaces 'eth0': names no interface of the document"),
            ("network: {version: 2, tunnels: {he: {mode: sit}}}", "needs 'local' and 'remote'"),
            ("network: {version: 2, tunnels: {wg0: {mode: wireguard, key: abc}}}", "mode 'wireguard': is not rendered"),
            ("network: {version: 2, vrfs: {vrf1: {table: 1}}}", "'vrfs'"),
            ("network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, addresses: [10.0.0.2/24], routes: [{to: 10.9.0.0/16, via: 10.0.0.1, type: blackhole}]}}}", "route 'type': is not supported"),
            ("network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, addresses: [10.0.0.2/24], routes: [{to: 10.9.0.0/16, via: 10.1.0.1}]}}}", "or say 'on-link: true'"),
            ("network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, addresses: [10.0.0.2/24], gateway4: 10.1.0.1}}}", "outside the subnet"),
            ("network: {version: 2, wifis: {w: {match: {macaddress: '3c:52:82:20:04:07'}, dhcp4: true, access-points: {\"a\\nb\": {}}}}}", "control character"),
            ("network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, dhcp4: true, dhcp4-overrides: {use-dns: false}}}}", "dhcp4-overrides 'use-dns'"),
            ("network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, accept-ra: false, dhcp4: true}}}", "remove 'accept-ra'"),
            ("network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, dhcp4: true, dhcp6: maybe}}}", "dhcp6 'maybe'"),
            ("network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, dhcp6: true, mtu: 1000, dhcp4: true}}}", "1280 to 9216"),
            ("network: {version: 1, config: []}", "version '1': must be 2"),
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

    /// A card without DHCPv4 and without an IPv4 address has no IPv4 (netplan reads it so), and keeps its other
    /// settings; through JSON (the profile a unit gets) it stays so, where a plain card still defaults to DHCP.
    @Test func cardWithoutIPv4() throws {
        let interfaces = try NetplanV2.interfaces(
            "network: {version: 2, ethernets: {e: {match: {macaddress: '3c:52:82:20:04:07'}, dhcp6: true, optional: true, routes: [{to: '::/0', via: 'fe80::1', metric: 50}]}}}")
        let card = try #require(interfaces.first)
        #expect(card.noIPv4 && !card.usesDHCP4 && card.dhcp6 && card.optional && card.routes.first?.metric == 50)
        let decoded = try JSONDecoder().decode([InterfaceConfig].self, from: JSONEncoder().encode(interfaces))
        #expect(decoded == interfaces)
        let plain = try JSONDecoder().decode(InterfaceConfig.self, from: Data(#"{"mac": "3c:52:82:20:04:07"}"#.utf8))
        #expect(plain.usesDHCP4 && !plain.noIPv4)
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
        #expect(record.profile.interfaces.map(\.mac?.value) == ["3c:52:82:20:04:99"])
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

    /// An inventory whose interface rows all need a MAC (before migration "v4 ...") keeps its rows when upgraded,
    /// and then stores a card bound by name; the schema still refuses a row bound to no card.
    @Test func upgradesInterfaceRowsForNames() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        let byMAC = "network: {version: 2, ethernets: {lan: {match: {macaddress: '3c:52:82:20:04:96'}, addresses: [10.20.4.96/24]}}}"
        _ = try inventory.importCSV(CSV.format([["hostname", "netplan"], ["RM204-96", byMAC]]), file: "u.csv")
        let database = folder.file("inventory.db")
        let columns = "id, unitId, position, mac, addresses, gateway4, gateway6, dns, search, mtu, wifiSSID, wifiPassphrase"
        let downgrade = try runProcess("/usr/bin/sqlite3", [database, """
            CREATE TABLE old (id INTEGER PRIMARY KEY AUTOINCREMENT, unitId INTEGER NOT NULL REFERENCES unit(id) ON DELETE CASCADE,
                position INTEGER NOT NULL, mac TEXT NOT NULL, addresses TEXT NOT NULL DEFAULT '', gateway4 TEXT, gateway6 TEXT,
                dns TEXT NOT NULL DEFAULT '', search TEXT NOT NULL DEFAULT '', mtu INTEGER, wifiSSID TEXT, wifiPassphrase TEXT,
                UNIQUE (unitId, mac));
            INSERT INTO old (\(columns)) SELECT \(columns) FROM interface;
            DROP TABLE interface; ALTER TABLE old RENAME TO interface;
            DELETE FROM grdb_migrations WHERE identifier LIKE 'v4 %';
            """])
        #expect(downgrade.status == 0, "\(downgrade.error)")
        let upgraded = try Inventory(path: database)
        let rows = try runProcess("/usr/bin/sqlite3", [database, "SELECT mac, addresses FROM interface"])
        #expect(rows.output == "3c:52:82:20:04:96|10.20.4.96/24\n")
        let byName = "network: {version: 2, ethernets: {enp3s0: {addresses: [10.20.4.95/24]}}}"
        _ = try upgraded.importCSV(CSV.format([["hostname", "netplan"], ["RM204-95", byName]]), file: "v.csv")
        #expect(try upgraded.unit("RM204-95").profile.interfaces.map(\.name?.value) == ["enp3s0"])
        // Two units may not paste the same static address, whether their cards are bound by MAC or by name.
        let same = "network: {version: 2, ethernets: {enp3s0: {addresses: [10.20.4.96/24]}}}"
        #expect(throws: InventoryError.self) { try upgraded.importCSV(CSV.format([["hostname", "netplan"], ["RM204-94", same]]), file: "w.csv") }
        let unbound = try runProcess("/usr/bin/sqlite3", [database, "INSERT INTO interface (unitId, position) VALUES (1, 9)"])
        #expect(unbound.status != 0 && unbound.error.contains("CHECK constraint failed"), "\(unbound.error)")
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

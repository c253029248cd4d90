import Foundation
import ImprintCore
import ImprintInventory
import ImprintTestSupport
import Testing

@Suite struct CSVParserTests {
    /// Quoted fields keep commas, doubled quotes and line breaks; records remember their first line.
    @Test func quoting() throws {
        let records = try CSV.parse("a,b\n\"x, y\",\"say \"\"hi\"\"\"\n\"two\nlines\",z\n")
        #expect(records.map(\.fields) == [["a", "b"], ["x, y", "say \"hi\""], ["two\nlines", "z"]])
        #expect(records.map(\.line) == [1, 2, 3])
    }

    /// CRLF line ends, a byte-order mark and blank lines are handled as spreadsheets write them.
    @Test func spreadsheetQuirks() throws {
        let records = try CSV.parse("\u{FEFF}a,b\r\n1,2\r\n\r\n3,4")
        #expect(records.map(\.fields) == [["a", "b"], ["1", "2"], ["3", "4"]])
        #expect(records.last?.line == 4)
    }

    /// An unclosed quote and text after a closing quote are syntax errors naming the line.
    @Test func syntaxErrors() {
        #expect { try CSV.parse("a,b\n1,\"open\n2,3\n") } throws: { ($0 as? CSV.SyntaxError)?.line == 2 }
        #expect { try CSV.parse("a,b\n1,\"x\"y\n") } throws: { ($0 as? CSV.SyntaxError)?.line == 2 }
        #expect { try CSV.parse("a,b\n1,x\"y\n") } throws: { ($0 as? CSV.SyntaxError)?.line == 2 }
    }

    /// Formatting quotes only what needs it (a CRLF line break too), and parsing gives the fields back.
    @Test func roundTrip() throws {
        let rows = [["plain", "with, comma", "with \"quote\"", " padded ", "", "two\r\nlines", "cr\ronly"]]
        #expect(try CSV.parse(CSV.format(rows)).map(\.fields) == rows)
    }
}

@Suite struct CSVImportTests {
    /// The demo room imports whole: 30 units, their group and printers.
    @Test func demoRoom() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        #expect(try inventory.units().count == 30)
        #expect(try inventory.units(group: "RM204").count == 30)
        #expect(try inventory.groups().first?.draft.namingPattern?.description == "RM204-{##}")
    }

    /// A file with bad rows imports nothing and reports every bad row with its line and reason.
    @Test func badRowsImportNothing() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let text = """
            hostname,serial,macs,ipv4,gateway4
            good-01,S001,3c:52:82:aa:00:01,10.0.0.11/24,10.0.0.1
            "bad
            name",S002,3c:52:82:aa:00:02,,
            bad_03,S003,3c:52:82:aa:00:03,,
            good-04,S004,3c:52:82:aa:00:zz,,
            good-05,S005,3c:52:82:aa:00:05,10.0.0.15/24,10.9.9.1
            good-06,To be filled by O.E.M.,3c:52:82:aa:00:06,,
            good-07,S007,,10.0.0.17/24,
            good-08,S008,3c:52:82:aa:00:08,,,extra
            """
        let problems = try importProblems(inventory, text)
        #expect(problems.map(\.line) == [3, 5, 6, 7, 8, 9, 10])
        #expect(problems[0].reason.contains("'bad\\nname'"))
        #expect(problems[2].reason.contains("3c:52:82:aa:00:zz"))
        #expect(problems[3].reason.contains("10.9.9.1") && problems[3].reason.contains("outside the subnet"))
        #expect(problems[4].reason.contains("placeholder"))
        #expect(problems[5].reason.contains("MAC"))
        #expect(problems[6].reason.contains("fields"))
        #expect(try inventory.units().count == 30)
        #expect(throws: InventoryError.self) { try inventory.unit("good-01") }
    }

    /// With --skip-invalid the good rows are imported and the bad ones still listed.
    @Test func skipInvalid() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        let report = try inventory.importCSV(
            "hostname,macs\nok-1,3c:52:82:aa:00:01\n-bad,3c:52:82:aa:00:02\nok-3,3c:52:82:aa:00:03\n", file: "x.csv",
            skipInvalid: true)
        #expect(report.added == ["ok-1", "ok-3"])
        #expect(report.skipped.map(\.line) == [3])
        #expect(try inventory.units().count == 2)
    }

    /// A MAC twice in the file names both lines and both hostnames; neither row is imported.
    @Test func duplicateInsideFile() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        let text = "hostname,macs\npc-1,3c:52:82:aa:00:01\npc-2,3C-52-82-AA-00-01\npc-3,3c:52:82:aa:00:03\nPC-1,3c:52:82:aa:00:04\n"
        let problems = try importProblems(inventory, text)
        #expect(problems.contains { $0.line == 3 && $0.reason.contains("line 2") && $0.reason.contains("pc-1") })
        #expect(problems.contains { $0.line == 2 && $0.reason.contains("line 3") && $0.reason.contains("pc-2") })
        #expect(problems.contains { $0.line == 5 && $0.reason.contains("hostname PC-1") })
        let report = try inventory.importCSV(text, file: "x.csv", skipInvalid: true)
        #expect(report.added == ["pc-3"])
    }

    /// An identifier the inventory already has names the unit that has it; an existing hostname asks for --update.
    @Test func duplicateAgainstDatabase() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let text = "hostname,macs,serial\nnew-1,3c:52:82:20:04:07,N1\nRM204-02,3c:52:82:aa:00:02,N2\n"
        let problems = try importProblems(inventory, text)
        #expect(problems.count == 2)
        #expect(problems[0].line == 2 && problems[0].reason.contains("RM204-07"))
        #expect(problems[1].line == 3 && problems[1].reason.contains("--update"))
    }

    /// Rows sharing a static address (IPv4 or IPv6) are all refused naming each other, a row with an address the
    /// inventory already has names the unit that has it, a network or broadcast address is refused saying so, and
    /// the file imports nothing.
    @Test func duplicateAddresses() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let before = try inventory.exportCSV(.units)
        let text = """
            hostname,macs,ipv4,ipv6
            new-1,3c:52:82:aa:00:01,10.20.4.201/24,
            new-2,3c:52:82:aa:00:02,10.20.4.201/24,
            new-3,3c:52:82:aa:00:03,10.20.4.101/24,
            new-4,3c:52:82:aa:00:04,10.20.4.0/24,
            new-5,3c:52:82:aa:00:05,,2001:db8:4::5/64
            new-6,3c:52:82:aa:00:06,,2001:DB8:4:0:0::5/64
            new-7,3c:52:82:aa:00:07,10.20.4.207/24,
            new-8,3c:52:82:aa:00:08,10.20.4.201/24,
            """
        let problems = try importProblems(inventory, text)
        #expect(problems.map(\.line) == [2, 2, 3, 4, 5, 6, 7, 9])
        #expect(problems.contains { $0.line == 2 && $0.reason == "address 10.20.4.201 is also on line 3 (new-2)" })
        #expect(problems.contains { $0.line == 2 && $0.reason == "address 10.20.4.201 is also on line 9 (new-8)" })
        #expect(problems.contains { $0.line == 3 && $0.reason == "address 10.20.4.201 is also on line 2 (new-1)" })
        #expect(problems.contains { $0.line == 9 && $0.reason == "address 10.20.4.201 is also on line 2 (new-1)" })
        #expect(problems.contains { $0.line == 4 && $0.reason.hasPrefix("address 10.20.4.101 already belongs to unit RM204-01;") })
        #expect(problems.contains { $0.line == 5 && $0.reason.hasPrefix("invalid address '10.20.4.0/24': is the network address") })
        #expect(problems.contains { $0.line == 6 && $0.reason == "address 2001:db8:4::5 is also on line 7 (new-6)" })
        #expect(try inventory.exportCSV(.units) == before, "nothing is written")
        let report = try inventory.importCSV(text, file: "x.csv", skipInvalid: true)
        #expect(report.added == ["new-7"])
    }

    /// A row naming a group the inventory does not have is refused naming the closest existing group, every such
    /// row is listed, and nothing is written; with createGroups the groups are created and reported.
    @Test func unknownGroup() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let text = "hostname,group,macs\nRM204-31,RM024,3c:52:82:aa:00:31\nRM204-32,RM204,3c:52:82:aa:00:32\nRM204-33,rm204,3c:52:82:aa:00:33\nLIB-01,Library,3c:52:82:aa:00:34\n"
        let problems = try importProblems(inventory, text)
        #expect(problems.map(\.line) == [2, 5])
        #expect(problems[0].reason == "no group 'RM024' (the closest existing group is 'RM204'); fix the group name, "
            + "or import with --create-groups to create the groups the file names")
        #expect(problems[1].reason.hasPrefix("no group 'Library' (the closest existing group is 'RM204')"))
        #expect(try inventory.units().count == 30 && inventory.groups().count == 1)
        let report = try inventory.importCSV(text, file: "x.csv", createGroups: true)
        #expect(report.createdGroups == ["RM024", "Library"])
        #expect(try inventory.unit("RM204-31").draft.group == "RM024")
        #expect(try inventory.unit("RM204-33").draft.group == "RM204")
    }

    /// --update replaces existing units and raises their revision only when a row changes them.
    @Test func update() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let exported = try inventory.exportCSV(.units)
        let unchanged = try inventory.importCSV(exported, file: "x.csv", update: true)
        #expect(unchanged.unchanged.count == 30 && unchanged.updated.isEmpty)
        let edited = exported.replacingOccurrences(of: "seat 7\n", with: "seat 7 moved to window\n")
        let report = try inventory.importCSV(edited, file: "x.csv", update: true)
        #expect(report.updated == ["RM204-07"])
        #expect(try inventory.unit("RM204-07").revision == 2)
        var changes = UnitChanges()
        changes.addIdentifiers = [try Identifier(.serial, "REPLACED7")]
        try inventory.updateUnit("RM204-07", changes)
        let again = try inventory.importCSV(try inventory.exportCSV(.units), file: "x.csv", update: true)
        #expect(again.unchanged.count == 30, "a replaced serial must not make the same record look changed")
    }

    /// A dry run reports what it would do and writes nothing.
    @Test func dryRun() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        let report = try inventory.importCSV("hostname\npc-1\npc-2\n", file: "x.csv", dryRun: true)
        #expect(report.added == ["pc-1", "pc-2"])
        #expect(try inventory.units().isEmpty)
    }

    /// Unknown columns and a header without a key column are refused before any row is read.
    @Test func badHeader() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        #expect { try inventory.importCSV("hostname,colour\npc-1,red\n", file: "x.csv") } throws: {
            String(describing: $0).contains("unknown column 'colour'")
        }
        #expect { try inventory.importCSV("serial\nS1\n", file: "x.csv") } throws: { String(describing: $0).contains("header") }
        #expect { try inventory.importCSV("", file: "x.csv") } throws: { String(describing: $0).contains("empty") }
    }

    /// Export then import into an empty inventory gives back the same units, groups and printers, including
    /// several configured cards, Wi-Fi, IPv6 and text that needs quoting.
    @Test func exportImportRoundTrip() throws {
        let folder = try TemporaryDirectory()
        let source = try demoInventory(folder)
        var draft = try unit("lab-multi", [(.serial, "MULTI1"), (.assetTag, "SCH, \"quoted\" tag")], group: "RM204")
        draft.notes = "has two cards, one \"quoted\" word"
        draft.interfaces = [
            try InterfaceConfig(
                mac: MACAddress("3c:52:82:aa:01:01"), addresses: [IPPrefix("10.0.0.5/24"), IPPrefix("2001:db8::5/64")],
                gateway4: IPAddress("10.0.0.1"), gateway6: IPAddress("fe80::1"), dns: [IPAddress("10.0.0.53")],
                search: [DomainName("lab.example.org")], mtu: 9000),
            try InterfaceConfig(mac: MACAddress("3c:52:82:aa:01:02"), wifi: WifiNetwork(ssid: "School, Wi-Fi", passphrase: "correct horse")),
        ]
        draft.printers = [try PrinterName("library-color")]
        draft.defaultPrinter = try PrinterName("library-color")
        try source.addUnit(draft)
        var wifiOnly = try unit("lab-wifi", [(.mac, "3c:52:82:aa:02:01")])
        wifiOnly.interfaces = [try InterfaceConfig(mac: MACAddress("3c:52:82:aa:02:01"), wifi: WifiNetwork(ssid: "Staff", passphrase: "12345678"))]
        try source.addUnit(wifiOnly)

        let copyFolder = try TemporaryDirectory()
        let copy = try makeInventory(copyFolder)
        for kind in [CSVKind.printers, .groups, .units] {
            _ = try copy.importCSV(try source.exportCSV(kind), file: kind.rawValue)
        }
        #expect(try copy.units().map(\.draft) == source.units().map(\.draft))
        #expect(try copy.units().map(\.profile) == source.units().map(\.profile))
        #expect(try copy.groups() == source.groups())
        #expect(try copy.printers() == source.printers())
        for kind in CSVKind.allCases {
            #expect(try copy.exportCSV(kind) == source.exportCSV(kind))
        }
    }

    /// The network column's JSON is validated like every other value.
    @Test func networkJSONValidated() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        let text = #"""
            hostname,network
            pc-1,"[{""mac"":""3c:52:82:aa:00:01"",""addresses"":[""10.0.0.5/24""],""gateway4"":""10.1.0.1""}]"
            pc-2,"not json"
            pc-3,"[{""mac"":""3c:52:82:aa:00:03""},{""mac"":""3c:52:82:aa:00:03""}]"
            """#
        let problems = try importProblems(inventory, text)
        #expect(problems.map(\.line) == [2, 3, 4])
        #expect(problems[0].reason.contains("outside the subnet"))
        #expect(problems[2].reason.contains("two interfaces"))
    }
}

/// The problems a failed import reports; fails the test when the import does not fail that way.
func importProblems(_ inventory: Inventory, _ text: String) throws -> [RowProblem] {
    do {
        _ = try inventory.importCSV(text, file: "x.csv")
    } catch .importFailed(_, let problems) {
        return problems
    }
    Issue.record("the import was expected to fail with bad rows")
    return []
}

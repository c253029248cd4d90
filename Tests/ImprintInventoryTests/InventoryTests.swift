import Foundation
import ImprintCore
import ImprintInventory
import ImprintTestSupport
import Testing

@Suite struct InventoryStoreTests {
    /// The inventory file is created mode 0600, since it may hold Wi-Fi passphrases.
    @Test func createdPrivate() throws {
        let folder = try TemporaryDirectory()
        let inventory = try Inventory.create(path: folder.file("sub/inventory.db"))
        let mode = try FileManager.default.attributesOfItem(atPath: inventory.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    /// Opening an inventory that does not exist is a clear error, and creates nothing.
    @Test func missingInventory() throws {
        let folder = try TemporaryDirectory()
        #expect {
            try Inventory(path: folder.file("none.db"))
        } throws: { error in
            String(describing: error).contains("imprint inventory init")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.file("none.db")))
    }

    /// A file that is not a database is refused with a message, not a crash.
    @Test func garbageFile() throws {
        let folder = try TemporaryDirectory()
        let path = try folder.write("garbage.db", String(repeating: "not sqlite ", count: 100))
        #expect(throws: InventoryError.self) { try Inventory(path: path) }
    }

    /// A unit is stored with normalised identifiers and read back by hostname or any identifier.
    @Test func addAndFind() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        try inventory.addUnit(try unit("Lab-01", [(.serial, "5CG1234XYZ"), (.mac, "3C-52-82-01-02-03"), (.uuid, "4C4C4544-0042-3510-8052-B4C04F4E3732")]))
        for reference in ["lab-01", "5CG1234XYZ", "3c:52:82:01:02:03", "3C5282010203", "4c4c4544-0042-3510-8052-b4c04f4e3732"] {
            #expect(try inventory.unit(reference).draft.hostname.value == "Lab-01")
        }
        #expect(throws: InventoryError.self) { try inventory.unit("lab-02") }
    }

    /// Hostnames are unique without regard to case.
    @Test func hostnameUnique() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        try inventory.addUnit(try unit("lab-01"))
        #expect(throws: InventoryError.self) { try inventory.addUnit(try unit("LAB-01")) }
    }

    /// An identifier cannot belong to two units; the error names the unit that has it.
    @Test func identifierUnique() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        try inventory.addUnit(try unit("lab-01", [(.mac, "3c:52:82:01:02:03")]))
        #expect {
            try inventory.addUnit(try unit("lab-02", [(.mac, "3C:52:82:01:02:03")]))
        } throws: { error in
            String(describing: error).contains("lab-01") && String(describing: error).contains("3c:52:82:01:02:03")
        }
        #expect(try inventory.units().count == 1)
    }

    /// A static IPv4 or IPv6 address cannot belong to two units, whatever its prefix length or spelling: add and
    /// set are refused naming the unit that has it, and nothing changes; a unit keeps its own address on a change.
    @Test func addressUnique() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        try inventory.addUnit(try unit("lab-01", mac: "3c:52:82:01:02:01", addresses: ["10.20.4.101/24", "2001:db8:4::101/64"]))
        try inventory.addUnit(try unit("lab-02", [(.mac, "3c:52:82:01:02:02")]))
        for (hostname, address, expected) in [
            ("lab-03", "10.20.4.101/16", "address 10.20.4.101 already belongs to unit lab-01"),
            ("lab-03", "2001:DB8:4:0::101/64", "address 2001:db8:4::101 already belongs to unit lab-01"),
        ] {
            #expect { try inventory.addUnit(try unit(hostname, mac: "3c:52:82:01:02:03", addresses: [address])) } throws: { error in
                guard case .addressTaken = error as? InventoryError else { return false }
                return String(describing: error).hasPrefix(expected)
            }
            var changes = UnitChanges()
            changes.interface = try InterfaceConfig(mac: MACAddress("3c:52:82:01:02:02"), addresses: [IPPrefix(address)])
            #expect { try inventory.updateUnit("lab-02", changes) } throws: { String(describing: $0).hasPrefix(expected) }
        }
        #expect(try inventory.units().map(\.draft.hostname.value) == ["lab-01", "lab-02"])
        #expect(try inventory.unit("lab-02").revision == 1 && inventory.unit("lab-02").draft.interfaces.isEmpty)
        var changes = UnitChanges()
        changes.notes = .set("window seat")
        #expect(try inventory.updateUnit("lab-01", changes).revision == 2)
        var moved = UnitChanges()
        moved.interface = try InterfaceConfig(mac: MACAddress("3c:52:82:01:02:01"), addresses: [IPPrefix("10.20.4.111/24")])
        try inventory.updateUnit("lab-01", moved)
        var freed = UnitChanges()
        freed.interface = try InterfaceConfig(mac: MACAddress("3c:52:82:01:02:02"), addresses: [IPPrefix("10.20.4.101/24")])
        #expect(try inventory.updateUnit("lab-02", freed).revision == 2, "an address its unit gave up is free again")
    }

    /// A subnet's network and broadcast address (IPv4) and its Subnet-Router anycast address (IPv6) are refused,
    /// naming the value and why; a /31, /32, /127 or /128 has none to refuse.
    @Test func networkAndBroadcastRefused() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        for (address, reason) in [
            ("10.20.4.0/24", "is the network address of 10.20.4.0/24"),
            ("10.20.4.255/24", "is the broadcast address of 10.20.4.0/24"),
            ("10.20.7.255/22", "is the broadcast address of 10.20.4.0/22"),
            ("192.168.1.3/30", "is the broadcast address of 192.168.1.0/30"),
            ("2001:db8:4::/64", "is the Subnet-Router anycast address of 2001:db8:4::/64"),
        ] {
            #expect { try inventory.addUnit(try unit("lab-01", mac: "3c:52:82:01:02:01", addresses: [address])) } throws: { error in
                String(describing: error).hasPrefix("invalid address '\(address)': \(reason), which no unit can have; give a host address")
            }
        }
        #expect(try inventory.units().isEmpty)
        for (index, address) in ["10.20.5.0/31", "10.20.5.1/31", "10.20.6.255/32", "2001:db8:5::/127", "2001:db8:6::/128", "10.20.4.1/24"].enumerated() {
            try inventory.addUnit(try unit("ok-\(index)", mac: "3c:52:82:01:03:0\(index)", addresses: [address]))
        }
        #expect(try inventory.units().count == 6)
    }

    /// A unit naming a group the inventory does not have is refused naming the closest existing group, and nothing
    /// is written; a group that exists is found without regard to case.
    @Test func unknownGroupRefused() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        try inventory.addGroup(try GroupDraft(name: "LIBRARY"))
        #expect { try inventory.addUnit(try unit("RM204-31", group: "RM024")) } throws: { error in
            guard case .unknownGroup(let name, let closest, _) = error as? InventoryError else { return false }
            return name == "RM024" && closest == "RM204"
                && String(describing: error) == "no group 'RM024' (the closest existing group is 'RM204'); fix the group name, "
                    + "or create it first with 'imprint inventory group add RM024'"
        }
        var changes = UnitChanges()
        changes.group = .set("LIBRAYR")
        #expect { try inventory.updateUnit("RM204-07", changes) } throws: { String(describing: $0).contains("'LIBRARY'") }
        #expect(try inventory.groups().map(\.draft.name) == ["LIBRARY", "RM204"])
        #expect(try inventory.units().count == 30 && inventory.unit("RM204-07").revision == 1)
        #expect(try inventory.addUnit(try unit("RM204-31", group: "rm204")).draft.group == "RM204")
    }

    /// Every real change raises the revision; a change to nothing leaves it.
    @Test func revisions() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        try inventory.addUnit(try unit("lab-01", [(.serial, "AAA111")]))
        var changes = UnitChanges()
        changes.model = .set("OptiPlex 7090")
        #expect(try inventory.updateUnit("lab-01", changes).revision == 2)
        #expect(try inventory.updateUnit("lab-01", changes).revision == 2)
        changes = UnitChanges()
        changes.addIdentifiers = [try Identifier(.serial, "BBB222")]
        let record = try inventory.updateUnit("AAA111", changes)
        #expect(record.revision == 3)
        #expect(record.draft.identifiers == [try Identifier(.serial, "BBB222")])
    }

    /// Renaming keeps identifiers; removing a MAC drops the settings of its card.
    @Test func renameAndRemoveMAC() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        let mac = try MACAddress("3c:52:82:01:02:03")
        var draft = try unit("lab-01")
        draft.interfaces = [try InterfaceConfig(mac: mac, addresses: [IPPrefix("10.0.0.5/24")])]
        let added = try inventory.addUnit(draft)
        #expect(added.draft.identifiers == [try Identifier(.mac, mac.value)])
        var changes = UnitChanges()
        changes.hostname = try Hostname("lab-99")
        changes.removeIdentifiers = [try Identifier(.mac, mac.value)]
        let record = try inventory.updateUnit("lab-01", changes)
        #expect(record.draft.hostname.value == "lab-99")
        #expect(record.draft.interfaces.isEmpty && record.draft.identifiers.isEmpty)
    }

    /// A group's change raises the revision of each of its units; units elsewhere keep theirs.
    @Test func groupChangeBumpsMembers() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        try inventory.addUnit(try unit("office-01"))
        var changes = GroupChanges()
        changes.dns = [try IPAddress("10.20.0.99")]
        try inventory.updateGroup("RM204", changes)
        #expect(try inventory.unit("RM204-05").revision == 2)
        #expect(try inventory.unit("RM204-05").profile.interfaces.first?.dns == [try IPAddress("10.20.0.99")])
        #expect(try inventory.unit("office-01").revision == 1)
    }

    /// A printer's change raises the revision of the units that get it through their group.
    @Test func printerChangeBumpsUsers() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        try inventory.addUnit(try unit("office-01"))
        var changes = PrinterChanges()
        changes.location = .set("Room 204, back wall")
        try inventory.updatePrinter("rm204-laser", changes)
        #expect(try inventory.unit("RM204-30").revision == 2)
        #expect(try inventory.unit("office-01").revision == 1)
    }

    /// A unit inherits its group's domain, DNS, printers and default printer.
    @Test func profileInherits() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let profile = try inventory.unit("RM204-07").profile
        #expect(profile.fqdn == "RM204-07.school.example.org")
        #expect(profile.printers.map(\.name.value) == ["rm204-laser", "library-color"])
        #expect(profile.defaultPrinter?.value == "rm204-laser")
        #expect(profile.interfaces.first?.gateway4 == (try IPAddress("10.20.4.1")))
        #expect(profile.networkMode == .static)
    }

    /// A printer or group still in use cannot be removed, and the error says who uses it.
    @Test func removeInUse() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        #expect { try inventory.removePrinter("rm204-laser") } throws: { String(describing: $0).contains("group RM204") }
        #expect { try inventory.removeGroup("RM204") } throws: { String(describing: $0).contains("RM204-01") }
        #expect(try inventory.printers().count == 2)
    }

    /// Runs are recorded and listed; they outlive the unit's removal, found by the hostname it had.
    @Test func history() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        try inventory.recordRun(of: "RM204-03", source: "boot", result: "applied", revision: 1, identity: "{\"hostname\":\"RM204-03\"}")
        try inventory.recordRun(of: "RM204-03", source: "technician", result: "nothing-to-do", revision: 1, identity: "{}")
        #expect(try inventory.history(of: "RM204-03").map(\.source) == ["boot", "technician"])
        try inventory.removeUnit("RM204-03")
        #expect(try inventory.history(of: "rm204-03").count == 2)
        #expect(throws: InventoryError.self) { try inventory.history(of: "RM204-99") }
    }
}

@Suite struct NamingTests {
    /// Preloaded names continue past the highest taken number, in the order given.
    @Test func namesPastTaken() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let named = try inventory.name(
            [try Identifier(.serial, "NEW001"), try Identifier.guessingKind("3c:52:82:99:00:02")], pattern: nil, group: "RM204")
        #expect(named.map(\.hostname.value) == ["RM204-31", "RM204-32"])
        #expect(try inventory.unit("NEW001").draft.group == "RM204")
    }

    /// A pattern built from an identifier names each machine by its own serial, not by a counter.
    @Test func nameByIdentifier() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let named = try inventory.name(
            [try Identifier(.serial, "5CG2041XQ7"), try Identifier(.serial, "5CG2041XQ8")],
            pattern: try NamingPattern("LAB-{serial}"), group: "RM204")
        #expect(named.map(\.hostname.value) == ["LAB-5CG2041XQ7", "LAB-5CG2041XQ8"])
        #expect(try inventory.unit("5CG2041XQ8").draft.hostname.value == "LAB-5CG2041XQ8")
    }

    /// An identifier the inventory already has stops the whole request; nothing is named.
    @Test func allOrNothing() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        #expect {
            try inventory.name(
                [try Identifier(.serial, "NEW001"), try Identifier(.mac, "3c:52:82:20:04:07")],
                pattern: try NamingPattern("LAB-{###}"), group: nil)
        } throws: { error in
            String(describing: error).contains("line 2") && String(describing: error).contains("RM204-07")
        }
        #expect(throws: InventoryError.self) { try inventory.unit("NEW001") }
    }

    /// The server-side (counting) enrolment gives seat after seat the group's next names, in order, with their
    /// identifiers.
    @Test func enrolSeatBySeat() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let first = try inventory.enroll(HardwareFacts(serial: "SEAT31", model: "OptiPlex 7090"), group: "RM204", counting: true)
        let second = try inventory.enroll(
            HardwareFacts(interfaces: [NetworkInterfaceFact(name: "eno1", mac: "3c:52:82:99:00:32")]), group: "RM204",
            counting: true)
        #expect(first.unit.draft.hostname.value == "RM204-31")
        #expect(first.unit.draft.model == "OptiPlex 7090")
        #expect(second.unit.draft.hostname.value == "RM204-32")
        #expect(try inventory.match(HardwareFacts(serial: "SEAT31")).unit.draft.hostname.value == "RM204-31")
        #expect(try inventory.enrollmentGroup() == nil)
        var changes = GroupChanges()
        changes.enroll = true
        try inventory.updateGroup("RM204", changes)
        #expect(try inventory.enrollmentGroup() == "RM204")
        try inventory.addGroup(try GroupDraft(name: "NOPATTERN"))
        #expect { try inventory.enroll(HardwareFacts(serial: "X9"), group: "NOPATTERN") } throws: {
            String(describing: $0).contains("--naming-pattern NOPATTERN-{serial}")
        }
    }

    /// Offline, a counter is refused (nothing stored, the message says what to do); a pattern built from the unit's
    /// own identifiers names two units enrolling into two copies of one inventory differently.
    @Test func offlineEnrolmentNeedsIdentifierPatterns() throws {
        let folder = try TemporaryDirectory()
        let inventory = try demoInventory(folder)
        let facts = HardwareFacts(serial: "5CG2041XQ7", interfaces: [NetworkInterfaceFact(name: "eno1", mac: "3c:52:82:99:00:33")])
        #expect { try inventory.enroll(facts, group: "RM204") } throws: { error in
            let text = String(describing: error)
            return text.contains("counter (RM204-{##})") && text.contains("--naming-pattern RM204-{serial}")
                && text.contains("imprint inventory name")
        }
        #expect(throws: InventoryError.self) { try inventory.match(facts) }
        // Two copies of the inventory, as two units carry them.
        var results: [String] = []
        for (copy, serial) in [("a", "5CG2041XQ7"), ("b", "5CG2041XQ8")] {
            let path = folder.file("copy-\(copy).db")
            try FileManager.default.copyItem(atPath: inventory.path, toPath: path)
            let unitCopy = try Inventory(path: path)
            var changes = GroupChanges()
            changes.namingPattern = .set(try NamingPattern("LAB-{serial}"))
            try unitCopy.updateGroup("RM204", changes)
            results.append(try unitCopy.enroll(HardwareFacts(serial: serial), group: "RM204").unit.draft.hostname.value)
        }
        #expect(results == ["LAB-5CG2041XQ7", "LAB-5CG2041XQ8"])
        var changes = GroupChanges()
        changes.namingPattern = .set(try NamingPattern("lab-{mac}"))
        try inventory.updateGroup("RM204", changes)
        #expect(try inventory.enroll(facts, group: "RM204").unit.draft.hostname.value == "lab-990033")
        // A preview plans the name and stores nothing.
        let preview = HardwareFacts(interfaces: [NetworkInterfaceFact(name: "eno1", mac: "3c:52:82:99:00:34")])
        #expect(try inventory.enroll(preview, group: "RM204", preview: true).unit.draft.hostname.value == "lab-990034")
        #expect(throws: InventoryError.self) { try inventory.match(preview) }
    }

    /// Without a pattern and without a group that has one, naming explains what to give.
    @Test func needsPattern() throws {
        let folder = try TemporaryDirectory()
        let inventory = try makeInventory(folder)
        #expect { try inventory.name([try Identifier(.serial, "X1")], pattern: nil, group: nil) } throws: {
            String(describing: $0).contains("--pattern")
        }
    }
}

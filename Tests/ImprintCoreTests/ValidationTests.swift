import ImprintCore
import Testing

@Suite struct HostnameTests {
    /// Valid RFC 1123 labels are accepted and keep the case the admin typed.
    @Test func acceptsLabels() throws {
        #expect(try Hostname("RM204-07").value == "RM204-07")
        #expect(try Hostname(" lab1 ").value == "lab1")
        #expect(try Hostname(String(repeating: "a", count: 63)).value.count == 63)
    }

    /// A newline, an underscore, a dot, a leading or trailing hyphen, an empty or over-long name are refused.
    @Test(arguments: ["rm204\n", "rm\n204", "rm_204", "rm204.school", "-rm204", "rm204-", "", String(repeating: "a", count: 64), "rm 204", "rm204\u{0}"])
    func refusesBadNames(_ text: String) {
        #expect(throws: CoreError.self) { try Hostname(text) }
    }

    /// The error names the bad value with its control characters made visible.
    @Test func errorShowsNewline() {
        #expect {
            try Hostname("lab\nevil")
        } throws: { error in
            String(describing: error).contains("'lab\\nevil'") && String(describing: error).contains("RFC 1123")
        }
    }

    /// Names longer than NetBIOS's 15 characters earn a warning; shorter ones none.
    @Test func netbiosWarning() throws {
        #expect(try Hostname("RM204-07").warning == nil)
        let long = try Hostname("computer-lab-204-07")
        #expect(long.warning?.contains("computer-lab-20") == true)
    }

    /// Hostnames compare without case, as DNS does.
    @Test func comparesWithoutCase() throws {
        #expect(try Hostname("RM204-01") == Hostname("rm204-01"))
    }

    /// An FQDN over 253 characters is refused.
    @Test func fqdnLimit() throws {
        let label = String(repeating: "d", count: 60)
        let domain = try DomainName([label, label, label, "example"].joined(separator: "."))
        #expect(throws: CoreError.self) { try Hostname(String(repeating: "h", count: 63)).qualified(in: domain) }
        #expect(try Hostname("pc1").qualified(in: DomainName("school.example.org")) == "pc1.school.example.org")
    }
}

@Suite struct IdentifierValueTests {
    /// Every common MAC spelling normalises to lowercase colon form.
    @Test(arguments: ["3C:52:82:01:02:03", "3c-52-82-01-02-03", "3c52.8201.0203", "3c5282010203", " 3c:52:82:01:02:03 "])
    func macForms(_ text: String) throws {
        #expect(try MACAddress(text).value == "3c:52:82:01:02:03")
    }

    /// Malformed, all-zero, broadcast and multicast MACs are refused.
    @Test(arguments: ["3c:52:82:01:02", "3c:52:82:01:02:0g", "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01", "3c:52-82:01:02:03"])
    func badMACs(_ text: String) {
        #expect(throws: CoreError.self) { try MACAddress(text) }
    }

    /// UUIDs are lowercased, braces removed; malformed ones refused.
    @Test func uuids() throws {
        #expect(try SMBIOSUUID("{4C4C4544-0042-3510-8052-B4C04F4E3732}").value == "4c4c4544-0042-3510-8052-b4c04f4e3732")
        #expect(throws: CoreError.self) { try SMBIOSUUID("4c4c4544-0042-3510-8052") }
        #expect(throws: CoreError.self) { try SMBIOSUUID("4c4c4544x0042-3510-8052-b4c04f4e3732") }
    }

    /// A UUID written as 32 hex digits without dashes, in any case, is stored in the dashed lowercase form; 31 or 33
    /// digits, or a letter past f, are refused.
    @Test func uuidsWithoutDashes() throws {
        #expect(try SMBIOSUUID("AbCd4544004235108052B4C04F4E3732").value == "abcd4544-0042-3510-8052-b4c04f4e3732")
        #expect(try SMBIOSUUID(" {4C4C4544004235108052B4C04F4E3732} ").value == "4c4c4544-0042-3510-8052-b4c04f4e3732")
        #expect(try Identifier(.uuid, "4C4C4544004235108052B4C04F4E3732") == Identifier(.uuid, "4c4c4544-0042-3510-8052-b4c04f4e3732"))
        for bad in ["4c4c4544004235108052b4c04f4e373", "4c4c4544004235108052b4c04f4e37321", "4c4c4544004235108052b4c04f4e373g"] {
            #expect { try SMBIOSUUID(bad) } throws: { String(describing: $0).contains(quoted(bad)) }
        }
    }

    /// libuuid's random UUIDs are well formed and differ.
    @Test func randomUUIDs() throws {
        let first = SMBIOSUUID.random()
        #expect(try SMBIOSUUID(first).value == first)
        #expect(first != SMBIOSUUID.random())
    }

    /// Firmware placeholders are never accepted as identifiers.
    @Test(arguments: [
        (IdentifierKind.serial, "To be filled by O.E.M."), (.serial, "Default string"), (.serial, "System Serial Number"),
        (.serial, "0123456789"), (.serial, "00000000"), (.assetTag, "Not Specified"), (.serial, "........"),
        (.uuid, "00000000-0000-0000-0000-000000000000"), (.uuid, "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"),
        (.uuid, "03000200-0400-0500-0006-000700080009"),
    ])
    func placeholdersRefused(kind: IdentifierKind, text: String) {
        #expect(Placeholder.isPlaceholder(text, kind: kind))
        #expect(throws: CoreError.self) { try Identifier(kind, text) }
    }

    /// Real serials pass the placeholder check.
    @Test func realSerial() throws {
        #expect(try Identifier(.serial, "5CG1234XYZ").value == "5CG1234XYZ")
        #expect(!Placeholder.isPlaceholder("5CG1234XYZ", kind: .serial))
    }

    /// The kind of a bare identifier is guessed from its shape.
    @Test func guessesKind() throws {
        #expect(try Identifier.guessingKind("3C-52-82-01-02-03") == Identifier(.mac, "3c:52:82:01:02:03"))
        #expect(try Identifier.guessingKind("4c4c4544-0042-3510-8052-b4c04f4e3732").kind == .uuid)
        #expect(try Identifier.guessingKind("5CG1234XYZ").kind == .serial)
    }
}

@Suite struct NetworkValueTests {
    /// Addresses are stored in canonical form; a prefix is required and bounded.
    @Test func prefixes() throws {
        #expect(try IPPrefix("10.0.4.21/24").description == "10.0.4.21/24")
        #expect(try IPPrefix("2001:DB8:0:0::21/64").description == "2001:db8::21/64")
        for bad in ["10.0.4.21", "10.0.4.21/33", "10.0.4.256/24", "2001:db8::1/129", "10.0.4.21/", "10.0.4.21/2a"] {
            #expect(throws: CoreError.self) { try IPPrefix(bad) }
        }
    }

    /// A gateway outside the interface's subnet is refused; inside, or IPv6 link-local, is accepted.
    @Test func gatewayInsideSubnet() throws {
        let mac = try MACAddress("3c:52:82:01:02:03")
        _ = try InterfaceConfig(mac: mac, addresses: [IPPrefix("10.0.4.21/24")], gateway4: IPAddress("10.0.4.1"))
        #expect(throws: CoreError.self) {
            try InterfaceConfig(mac: mac, addresses: [IPPrefix("10.0.4.21/24")], gateway4: IPAddress("10.0.5.1"))
        }
        #expect(throws: CoreError.self) { try InterfaceConfig(mac: mac, gateway4: IPAddress("10.0.4.1")) }
        _ = try InterfaceConfig(mac: mac, addresses: [IPPrefix("2001:db8::21/64")], gateway6: IPAddress("fe80::1"))
        #expect(throws: CoreError.self) {
            try InterfaceConfig(mac: mac, addresses: [IPPrefix("2001:db8::21/64")], gateway6: IPAddress("2001:db9::1"))
        }
    }

    /// An MTU out of range is refused.
    @Test func mtu() throws {
        let mac = try MACAddress("3c:52:82:01:02:03")
        #expect(throws: CoreError.self) { try InterfaceConfig(mac: mac, mtu: 100) }
        #expect(try InterfaceConfig(mac: mac, mtu: 9000).mtu == 9000)
    }

    /// SSIDs with newlines and WPA passphrases of the wrong length are refused.
    @Test func wifi() throws {
        #expect(throws: CoreError.self) { try WifiNetwork(ssid: "school\nevil", passphrase: nil) }
        #expect(throws: CoreError.self) { try WifiNetwork(ssid: String(repeating: "s", count: 33), passphrase: nil) }
        #expect(throws: CoreError.self) { try WifiNetwork(ssid: "school", passphrase: "short") }
        #expect(try WifiNetwork(ssid: "school", passphrase: "long enough").passphrase == "long enough")
    }
}

@Suite struct PrinterValueTests {
    /// Names that could break printers.conf or that CUPS refuses are refused before anything is written.
    @Test(arguments: ["rm204 laser", "rm204\nlaser", "</Printer>", "a#b", "a/b", "a\"b", "", String(repeating: "p", count: 128)])
    func badNames(_ text: String) {
        #expect(throws: CoreError.self) { try PrinterName(text) }
    }

    /// URIs with spaces or without a scheme are refused; ordinary ones pass.
    @Test func uris() throws {
        #expect(try DeviceURI("ipp://10.0.4.5/ipp/print").value == "ipp://10.0.4.5/ipp/print")
        #expect(try DeviceURI("socket://10.0.4.6:9100").value == "socket://10.0.4.6:9100")
        for bad in ["ipp://10.0.4.5/ipp/my printer", "10.0.4.5", "IPP://x", "ipp:", "ipp://a\nb"] {
            #expect(throws: CoreError.self) { try DeviceURI(bad) }
        }
    }

    /// Drivers: everywhere, raw, or an absolute PPD path.
    @Test func drivers() throws {
        #expect(try PrinterDriver("everywhere") == .everywhere)
        #expect(try PrinterDriver("RAW") == .raw)
        #expect(try PrinterDriver("/usr/share/ppd/hp.ppd.gz") == .ppd(path: "/usr/share/ppd/hp.ppd.gz"))
        for bad in ["hp.ppd", "/usr/share/../ppd/x.ppd", "/tmp/x.txt", "driverless"] {
            #expect(throws: CoreError.self) { try PrinterDriver(bad) }
        }
    }

    /// Free text never carries a control character.
    @Test func fieldText() throws {
        #expect(try FieldText.check("  Room 204 ", field: "location") == "Room 204")
        #expect(throws: CoreError.self) { try FieldText.check("a\tb", field: "notes") }
        #expect(throws: CoreError.self) { try FieldText.check("a\u{2028}b", field: "notes") }
    }
}

@Suite struct NamingPatternTests {
    /// Numbers continue past the highest name the pattern already gave, zero-padded to the pattern's width.
    @Test func numbersPastTaken() throws {
        let pattern = try NamingPattern("RM204-{##}")
        #expect(pattern.nextNames(3, taken: []) == ["RM204-01", "RM204-02", "RM204-03"])
        #expect(pattern.nextNames(2, taken: ["rm204-01", "RM204-07", "OTHER-99", "RM204-x"]) == ["RM204-08", "RM204-09"])
        #expect(pattern.nextNames(1, taken: ["RM204-99"]) == ["RM204-100"])
        #expect(pattern.nextNames(1, taken: [], start: 20) == ["RM204-20"])
        // A hand-made name with a counter near Int.max is not the pattern's: counting past it would overflow.
        #expect(pattern.nextNames(1, taken: ["RM204-9223372036854775807", "RM204-12"]) == ["RM204-13"])
    }

    /// Patterns built from an identifier name a unit by its serial, asset tag or the last six hex digits of its
    /// first MAC, and say which field to use when the unit has no such identifier or one a hostname cannot hold.
    @Test func identifierPatterns() throws {
        let serial = try Identifier(.serial, "5CG2041XQ7")
        let mac = try Identifier(.mac, "3C-52-82-20-04-07")
        #expect(try NamingPattern("LAB-{serial}").name(for: [serial, mac]).value == "LAB-5CG2041XQ7")
        #expect(try NamingPattern("lab-{mac}-pc").name(for: [serial, mac]).value == "lab-200407-pc")
        #expect(try NamingPattern("{asset}").name(for: [try Identifier(.assetTag, "A-1042")]).value == "A-1042")
        #expect(try NamingPattern("LAB-{Serial}").description == "LAB-{serial}")
        #expect(try !NamingPattern("LAB-{mac}").isCounter && NamingPattern("LAB-{#}").isCounter)
        #expect(try NamingPattern("LAB-{serial}").number(in: "LAB-1") == nil)
        #expect { try NamingPattern("LAB-{asset}").name(for: [serial, mac]) } throws: { error in
            String(describing: error).contains("this unit has no asset tag to name it by; it has serial, MAC: use {serial} or {mac}")
        }
        #expect { try NamingPattern("LAB-{serial}").name(for: [try Identifier(.serial, "AB 12/3"), mac]) } throws: { error in
            String(describing: error).contains("'AB 12/3' holds characters a hostname cannot") && String(describing: error).contains("{mac}")
        }
        #expect(throws: CoreError.self) { try NamingPattern("LAB-{serial}-{mac}") }
        #expect(throws: CoreError.self) { try NamingPattern("LAB-{name}") }
        #expect(throws: CoreError.self) { try NamingPattern("LAB-{##}").name(for: [serial]) }
    }

    /// Patterns without one counter, or that cannot make a hostname, are refused.
    @Test(arguments: ["RM204", "RM204-{}", "RM204-{##}-{#}", "RM 204-{##}", "RM204-{#######}", "RM204_{##}"])
    func badPatterns(_ text: String) {
        #expect(throws: CoreError.self) { try NamingPattern(text) }
    }
}

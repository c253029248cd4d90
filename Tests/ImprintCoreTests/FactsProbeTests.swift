import Foundation
import ImprintCore
import ImprintTestSupport
import Testing

@Suite struct FactsProbeTests {
    func facts(_ fixture: String) throws -> HardwareFacts {
        let folder = try TemporaryDirectory()
        return try FactsProbe.read(root: try TargetRoot(try folder.copyFixture("sysfs/\(fixture)")))
    }

    /// DMI fields come through /sys/class/dmi/id (a link, as on real systems); only the physical card is listed,
    /// not lo, docker0 or a veth.
    @Test func desktop() throws {
        let facts = try facts("optiplex-7090")
        #expect(facts.serial == "7XK07QF9")
        #expect(facts.model == "OptiPlex 7090")
        #expect(facts.vendor == "Dell Inc.")
        #expect(facts.interfaces.map(\.name) == ["eno1"])
        #expect(facts.interfaces.first?.mac == "3c:52:82:20:04:07")
        #expect(facts.interfaces.first?.bus == "pci")
    }

    /// A server's four ports are listed; its bridge and bond are not.
    @Test func severalCards() throws {
        let facts = try facts("server-multi-nic")
        #expect(facts.interfaces.map(\.name) == ["eno1", "eno2", "ens1f0", "ens1f1"])
    }

    /// A laptop's USB dock adapter is removable and its Wi-Fi card wireless.
    @Test func dockAndWifi() throws {
        let facts = try facts("latitude-dock-a")
        let dock = try #require(facts.interfaces.first { $0.name.hasPrefix("enx") })
        #expect(dock.removable && dock.bus == "usb")
        let wifi = try #require(facts.interfaces.first { $0.name == "wlp2s0" })
        #expect(wifi.wireless && !wifi.removable)
        #expect(facts.identifiers().usable.contains(try Identifier(.mac, "28:d0:ea:11:22:0a")))
        #expect(!facts.identifiers().usable.contains(try Identifier(.mac, "00:e0:4c:68:01:02")))
    }

    /// A board full of placeholders yields only its MAC as a usable identifier.
    @Test func placeholderBoard() throws {
        let facts = try facts("placeholder-board")
        #expect(facts.identifiers().usable == [try Identifier(.mac, "70:85:c2:aa:10:01")])
        #expect(facts.identifiers().ignored.count == 3)
    }

    /// A root whose /sys links point at the host's absolute paths reads inside the root, never the host's sysfs.
    @Test func hostileLinks() throws {
        let folder = try TemporaryDirectory()
        let root = folder.file("root")
        try FileManager.default.createDirectory(atPath: root + "/sys/class/net", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/sys/class/dmi", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/sys/class/dmi/id", withDestinationPath: "/sys/devices/virtual/dmi/id")
        try FileManager.default.createSymbolicLink(atPath: root + "/sys/class/net/eth0", withDestinationPath: "/sys/class/net/lo")
        try FileManager.default.createSymbolicLink(atPath: root + "/sys/class/net/eth1", withDestinationPath: "../../../../../../../sys/class/net/lo")
        let facts = try FactsProbe.read(root: try TargetRoot(root))
        #expect(facts == HardwareFacts())
        try FileManager.default.createSymbolicLink(atPath: root + "/sys/class/net/eth9", withDestinationPath: "eth9")
        #expect { try FactsProbe.read(root: try TargetRoot(root)) } throws: { String(describing: $0).contains("loop") }
    }

    /// A missing facts file and a malformed one are errors naming the file.
    @Test func factsFileErrors() throws {
        let folder = try TemporaryDirectory()
        #expect { try FactsProbe.read(factsFile: folder.file("none.json")) } throws: { String(describing: $0).contains("none.json") }
        let bad = try folder.write("bad.json", "{\"serial\": [}")
        #expect { try FactsProbe.read(factsFile: bad) } throws: { String(describing: $0).contains("bad.json") }
    }

    /// The demo facts files all parse, and each names its unit's MAC.
    @Test func demoFactsFiles() throws {
        for index in 1...30 {
            let name = String(format: "RM204-%02d", index)
            let facts = try FactsProbe.read(factsFile: fixturePath("demo/facts/\(name).json"))
            #expect(facts.interfaces.first?.mac == String(format: "3c:52:82:20:04:%02x", index))
        }
    }
}

import Foundation
import ImprintCore
import ImprintTestSupport
import Testing

@Suite struct TargetRootTests {
    /// A root with `/etc` linked to an absolute folder on the host resolves that link inside the root.
    @Test func absoluteLinkStaysInside() throws {
        let folder = try TemporaryDirectory()
        let outside = try folder.write("outside/etc/hostname", "host-secret\n")
        let root = folder.file("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/etc", withDestinationPath: (outside as NSString).deletingLastPathComponent)
        let target = try TargetRoot(root)
        let resolved = try target.resolve("/etc/hostname")
        #expect(resolved.hasPrefix(target.path + "/"))
        #expect(try target.readFile("/etc/hostname") == nil)
    }

    /// Relative links climbing with `..` stop at the root, as `/..` does.
    @Test func dotDotClamped() throws {
        let folder = try TemporaryDirectory()
        try folder.write("secret", "outside\n")
        try folder.write("root/etc/real", "inside\n")
        let root = folder.file("root")
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/hostname", withDestinationPath: "../../../../secret")
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/ok", withDestinationPath: "../etc/./real")
        let target = try TargetRoot(root)
        #expect(try target.resolve("/etc/hostname") == target.path + "/secret")
        #expect(try target.readFile("/etc/hostname") == nil)
        #expect(try target.readTrimmedText("/etc/ok") == "inside")
        #expect(try target.resolve("/../../etc/real") == target.path + "/etc/real")
    }

    /// A link loop is an error, not a hang; a dangling link reads as missing.
    @Test func loopsAndDangling() throws {
        let folder = try TemporaryDirectory()
        let root = folder.file("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/a", withDestinationPath: "b")
        try FileManager.default.createSymbolicLink(atPath: root + "/b", withDestinationPath: "/a")
        try FileManager.default.createSymbolicLink(atPath: root + "/dangling", withDestinationPath: "/nowhere/file")
        let target = try TargetRoot(root)
        #expect(throws: CoreError.self) { try target.resolve("/a/file") }
        #expect(try target.readFile("/dangling") == nil)
        #expect(!target.exists("/dangling"))
    }

    /// Without following the final link, the link itself is named (for replacing it, not its target).
    @Test func finalLinkKept() throws {
        let folder = try TemporaryDirectory()
        let root = folder.file("root")
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/hostname", withDestinationPath: "/etc/other")
        let target = try TargetRoot(root)
        #expect(try target.resolve("/etc/hostname", followingFinalLink: false) == target.path + "/etc/hostname")
        #expect(try target.resolve("/etc/hostname") == target.path + "/etc/other")
    }

    /// An atomic write replaces a file whole with the mode asked for and leaves no temporary file.
    @Test func atomicWrite() throws {
        let folder = try TemporaryDirectory()
        let path = try folder.write("out/file.csv", "old\n")
        try AtomicFile.write(Data("new\n".utf8), to: path, mode: 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\n")
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.file("out")) == ["file.csv"])
    }
}

@Suite struct FactsFileTests {
    /// A facts file as `imprint facts --json` writes it parses back to the same facts.
    @Test func roundTrip() throws {
        let facts = HardwareFacts(
            serial: "S1", uuid: "4c4c4544-0042-3510-8052-b4c04f4e3732", model: "OptiPlex 7090",
            interfaces: [NetworkInterfaceFact(name: "eno1", mac: "3c:52:82:01:02:03", bus: "pci")])
        let data = try JSONEncoder().encode(facts)
        #expect(try HardwareFacts.parse(json: data, source: "x") == facts)
    }

    /// A hand-written file may list plain MACs.
    @Test func macsShorthand() throws {
        let facts = try HardwareFacts.parse(json: Data(#"{"serial": "S1", "macs": ["3C:52:82:01:02:03"]}"#.utf8), source: "x")
        #expect(facts.identifiers().usable == [try Identifier(.serial, "S1"), try Identifier(.mac, "3c:52:82:01:02:03")])
    }

    /// Broken JSON, wrong types and unknown fields are refused with the field named.
    @Test(arguments: [
        ("{", "not valid JSON"), (#"{"serial": 5}"#, "'serial'"), (#"{"serail": "S1"}"#, "'serail'"),
        (#"[1]"#, "one JSON object"), (#"{"interfaces": [{"name": "eno1"}]}"#, "'mac'"),
    ])
    func badFiles(text: String, mention: String) {
        #expect {
            try HardwareFacts.parse(json: Data(text.utf8), source: "facts.json")
        } throws: { error in
            String(describing: error).contains(mention)
        }
    }

    /// Placeholders, malformed values and removable cards are set aside with a reason each.
    @Test func ignoredFacts() throws {
        let facts = HardwareFacts(
            serial: "Default string", uuid: "not-a-uuid", assetTag: "SCH-1",
            interfaces: [
                NetworkInterfaceFact(name: "eno1", mac: "3c:52:82:01:02:03"),
                NetworkInterfaceFact(name: "enx1", mac: "00:e0:4c:68:01:02", bus: "usb", removable: true),
            ])
        let (usable, ignored) = facts.identifiers()
        #expect(usable == [try Identifier(.assetTag, "SCH-1"), try Identifier(.mac, "3c:52:82:01:02:03")])
        #expect(ignored.map(\.field) == ["serial", "uuid", "MAC of enx1"])
    }
}

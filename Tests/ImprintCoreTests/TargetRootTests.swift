import CLinux
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

    /// Broken JSON is refused naming the line and column where the parser gave up, and what it found.
    @Test(arguments: [
        ("{\"serial\": \"S1\",\n  \"uuid\": nope}", "at line 2, column 12 (invalid value)"),
        ("{\"serial\": \"S1\",\n", "at line 2, column 1 (the file ends too early)"),
        ("{\"model\": \"Ünïcode\" x}", "at line 1, column 21 (invalid value)"),
    ])
    func invalidJSONNamesLineAndColumn(text: String, mention: String) {
        #expect {
            try HardwareFacts.parse(json: Data(text.utf8), source: "facts.json")
        } throws: { error in
            String(describing: error).contains(mention)
        }
    }

    /// A byte offset becomes a 1-based line and a column counted in characters, not bytes.
    @Test func lineAndColumn() {
        let data = Data("ab\nçd\nef".utf8)
        #expect(HardwareFacts.lineAndColumn(ofByte: 0, in: data) == (1, 1))
        #expect(HardwareFacts.lineAndColumn(ofByte: 5, in: data) == (2, 2))
        #expect(HardwareFacts.lineAndColumn(ofByte: data.count, in: data) == (3, 3))
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

@Suite struct TargetRootWriteTests {
    func root(_ folder: TemporaryDirectory) throws -> TargetRoot {
        try FileManager.default.createDirectory(atPath: folder.file("root/etc"), withIntermediateDirectories: true)
        return try TargetRoot(folder.file("root"))
    }

    /// A replaced file keeps its owner, mode and extended attributes; no temporary file is left behind.
    @Test func keepsMetadata() throws {
        let folder = try TemporaryDirectory()
        let target = try root(folder)
        let path = try folder.write("root/etc/hostname", "master\n")
        chmod(path, 0o640)
        chown(path, 0, 4)
        let label = Data("system_u:object_r:hostname_etc_t:s0".utf8)
        let labelled = label.withUnsafeBytes { setxattr(path, "user.imprint-test", $0.baseAddress, label.count, 0) } == 0
        try target.write("/etc/hostname", Data("RM204-07\n".utf8))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "RM204-07\n")
        let kept = try #require(try target.metadata("/etc/hostname"))
        #expect(kept.mode == 0o640 && kept.group == 4)
        #expect(labelled, "the test folder's file system must take extended attributes")
        #expect(kept.attributes["user.imprint-test"] == label)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.file("root/etc")) == ["hostname"])
    }

    /// Metadata given by the step wins; missing folders are created inside the root.
    @Test func setsMetadataAndFolders() throws {
        let folder = try TemporaryDirectory()
        let target = try root(folder)
        try target.write("/var/lib/dbus/machine-id", Data("abc\n".utf8), metadata: FileMetadata(mode: 0o444))
        let written = try #require(try target.metadata("/var/lib/dbus/machine-id"))
        #expect(written.mode == 0o444)
        #expect(FileManager.default.fileExists(atPath: folder.file("root/var/lib/dbus/machine-id")))
    }

    /// A write through a link that points outside the root lands inside the root; the outside file is untouched.
    @Test func hostileLinksWriteInside() throws {
        let folder = try TemporaryDirectory()
        let target = try root(folder)
        let outside = try folder.write("outside/hostname", "host\n")
        try FileManager.default.createSymbolicLink(atPath: folder.file("root/etc/hostname"), withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: folder.file("root/etc/hosts"), withDestinationPath: "../../../../outside/hosts")
        try FileManager.default.createSymbolicLink(atPath: folder.file("root/var"), withDestinationPath: folder.file("outside"))
        try target.write("/etc/hostname", Data("unit\n".utf8))
        try target.write("/etc/hosts", Data("127.0.0.1 localhost\n".utf8))
        try target.write("/var/log/imprint/identity.jsonl", Data("{}\n".utf8))
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "host\n")
        #expect(!FileManager.default.fileExists(atPath: folder.file("outside/hosts")))
        #expect(!FileManager.default.fileExists(atPath: folder.file("outside/log")))
        #expect(FileManager.default.fileExists(atPath: folder.file("root") + outside))
        #expect(FileManager.default.fileExists(atPath: folder.file("root/outside/hosts")))
    }

    /// Removing a link removes the link, not the file it points to.
    @Test func removeLink() throws {
        let folder = try TemporaryDirectory()
        let target = try root(folder)
        try folder.write("root/etc/machine-id", "id\n")
        try target.symlink("/etc/link", to: "/etc/machine-id")
        #expect(try target.linkTarget("/etc/link") == "/etc/machine-id")
        try target.remove("/etc/link")
        #expect(try target.linkTarget("/etc/link") == nil)
        #expect(try target.readTrimmedText("/etc/machine-id") == "id")
    }
}

import Foundation
@testable import ImprintCommands
import ImprintCore
import ImprintTestSupport
import Testing

@Suite struct GeneralizeCommandTests {
    /// A master with an admin's authorized key, a user's cache, a log and a host key.
    func master(_ folder: TemporaryDirectory) throws -> String {
        try folder.write("master/etc/machine-id", "0123456789abcdef0123456789abcdef\n")
        try folder.write("master/etc/ssh/ssh_host_ed25519_key", "private\n")
        try folder.write("master/root/.ssh/authorized_keys", "ssh-ed25519 AAAA admin\n")
        try folder.write("master/home/u/.cache/thumbnails/x.png", "png\n")
        try folder.write("master/var/log/syslog", "boot\n")
        return folder.file("master")
    }

    /// The entries GNU tar lists in a gzip image, without the leading "./".
    func listed(_ image: String) throws -> Set<String> {
        let result = try runProcess("/bin/tar", ["-tzf", image])
        return Set(result.output.split(separator: "\n").map { String($0.dropFirst(2)) })
    }

    /// --list-operations prints one line per operation, its name first and a '*' on the defaults; --json lists them
    /// with their paths.
    @Test func listOperations() throws {
        let folder = try TemporaryDirectory()
        let result = imprint(["capture", "--list-operations"], in: folder)
        #expect(result.status == 0, "\(result.err)")
        let lines = result.out.split(separator: "\n")
        #expect(lines.count == GeneralizeOperation.all.count)
        for (line, operation) in zip(lines, GeneralizeOperation.all) {
            let words = line.split(separator: " ")
            #expect(words.first.map(String.init) == operation.name)
            #expect((words.dropFirst().first == "*") == operation.isDefault, "\(line)")
        }
        let json = imprint(["capture", "--list-operations", "--json"], in: folder)
        let objects = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [[String: Any]]
        #expect(objects?.compactMap { $0["name"] as? String } == GeneralizeOperation.all.map(\.name))
        #expect((objects?.first?["paths"] as? [String])?.first == "/etc/machine-id")
    }

    /// --operations adds and removes operations by name: without ssh-userdir the admin's key stays, with
    /// user-caches the cache goes; the manifest names what ran, and inspect shows it.
    @Test func chooseOperations() throws {
        let folder = try TemporaryDirectory()
        let root = try master(folder)
        let image = folder.file("chosen.imprint")
        let captured = imprint(
            ["capture", "--root", root, "-o", image, "--model", "OptiPlex 7090", "--operations", "defaults,-ssh-userdir", "--operations", "+user-caches"],
            in: folder)
        #expect(captured.status == 0, "\(captured.err)")
        let entries = try listed(image)
        #expect(entries.contains("root/.ssh/authorized_keys"))
        #expect(!entries.contains("home/u/.cache/thumbnails/x.png") && entries.contains("home/u/.cache/thumbnails/"))
        #expect(!entries.contains("var/log/syslog") && !entries.contains("etc/ssh/ssh_host_ed25519_key"))
        #expect(captured.out.contains("user-caches: 1"))

        let names = GeneralizeOperation.defaults.map(\.name).filter { $0 != "ssh-userdir" } + ["user-caches"]
        let inspected = imprint(["inspect", image], in: folder)
        #expect(inspected.out.contains("operations    " + names.joined(separator: ", ")), "\(inspected.out)")
        let json = imprint(["inspect", image, "--json"], in: folder)
        let manifest = (try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])?["manifest"] as? [String: Any]
        #expect(manifest?["generalized"] as? [String] == names)

        let plain = folder.file("plain.imprint")
        #expect(imprint(["capture", "--root", root, "-o", plain, "--model", "OptiPlex 7090", "--generalize"], in: folder).status == 0)
        let defaults = try listed(plain)
        #expect(!defaults.contains("root/.ssh/authorized_keys") && !defaults.contains("root/.ssh/"))
        #expect(defaults.contains("home/u/.cache/thumbnails/x.png"))
    }

    /// An unknown operation, or a list that leaves none, is refused before anything is written, naming the value
    /// and where the names are listed.
    @Test func unknownOperationRefused() throws {
        let folder = try TemporaryDirectory()
        let root = try master(folder)
        let image = folder.file("refused.imprint")
        let unknown = imprint(["capture", "--root", root, "-o", image, "--model", "m", "--operations", "defaults,-ssh-keys"], in: folder)
        #expect(unknown.status == ExitStatus.usage.rawValue)
        #expect(unknown.err.contains("'ssh-keys'") && unknown.err.contains("--list-operations"), "\(unknown.err)")
        let none = imprint(["capture", "--root", root, "-o", image, "--model", "m", "--operations", "-all"], in: folder)
        #expect(none.status == ExitStatus.usage.rawValue)
        #expect(none.err.contains("leaves no operation"), "\(none.err)")
        #expect(!FileManager.default.fileExists(atPath: image) && !FileManager.default.fileExists(atPath: image + ".partial"))
    }
}

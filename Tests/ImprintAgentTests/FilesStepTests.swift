import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintTestSupport
import Testing

@Suite struct FilesStepTests {
    /// The owner is looked up in the image's own /etc/passwd and /etc/group (never the host's), and the file gets
    /// the ids the image gives those names.
    @Test func ownerByNameFromTheImage() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        try root.write("/etc/passwd", Data("root:x:0:0:root:/root:/bin/sh\nveyon:x:1234:1300::/nonexistent:/usr/sbin/nologin\n".utf8))
        try root.write("/etc/group", Data("root:x:0:\nveyon:x:1300:\n".utf8))
        var profile = try demoProfile()
        profile.files = [try UnitFile(path: "/etc/veyon/seat.conf", content: .template("{{hostname}}\n"), mode: 0o640, owner: "veyon", group: "veyon")]
        _ = try Agent.run(request(profile, steps: [.files, .identity]), root: root)
        let metadata = try #require(try root.metadata("/etc/veyon/seat.conf"))
        #expect(metadata.owner == 1234 && metadata.group == 1300 && metadata.mode == 0o640)
    }

    /// A file whose contents are right but whose mode is not (the record now says 0600) is written again, and the
    /// diff says what changes.
    @Test func aModeChangeAloneIsAChange() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        var profile = try demoProfile()
        profile.files = [try UnitFile(path: "/etc/seat", content: .template("{{seat}}\n"))]
        profile.seat = 7
        _ = try Agent.run(request(profile, steps: [.files, .identity]), root: root)
        #expect(try root.metadata("/etc/seat")?.mode == 0o644)
        profile.files[0].mode = 0o600
        profile.revision = 2
        let planned = try Agent.run(request(profile, steps: [.files, .identity], dryRun: true), root: root)
        let change = try #require(planned.plan.effective.first { $0.path == "/etc/seat" })
        #expect(change.diff.contains("@@ mode 0644 -> 0600, owner 0:0 -> 0:0 @@"), "\(change.diff)")
        _ = try Agent.run(request(profile, steps: [.files, .identity]), root: root)
        #expect(try root.metadata("/etc/seat")?.mode == 0o600)
        #expect(try root.readFile("/etc/seat") == Data("7\n".utf8))
    }

    /// A file at a path another step writes (the hostname step's /etc/hostname) is refused before anything is
    /// written, naming the path.
    @Test func aPathAnotherStepWritesIsRefused() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        let before = try snapshot(root.path)
        var profile = try demoProfile()
        profile.files = [try UnitFile(path: "/etc/hostname", content: .template("other\n"))]
        #expect { try Agent.run(request(profile), root: root) } throws: {
            "\($0)".contains("invalid file path '/etc/hostname': is written by another step of Imprint")
        }
        #expect(try snapshot(root.path, excluding: ["var/lib/imprint"]) == before)
    }

    /// A secret field makes the file that uses it secret even when the file itself is not marked: 0600, masked.
    @Test func aSecretFieldMakesTheFileSecret() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        var profile = try demoProfile()
        profile.fields = ["licence_key": CustomFieldValue(value: "K-1234-SECRET", secret: true)]
        profile.files = [try UnitFile(path: "/etc/cad.ini", content: .template("[cad]\nkey={{licence_key}}\n"))]
        let planned = try Agent.run(request(profile, steps: [.files, .identity], dryRun: true), root: root)
        let change = try #require(planned.plan.changes.first { $0.path == "/etc/cad.ini" })
        #expect(change.secret && !change.diff.contains("K-1234"))
        _ = try Agent.run(request(profile, steps: [.files, .identity]), root: root)
        #expect(try root.metadata("/etc/cad.ini")?.mode == 0o600)
        #expect(try root.readFile("/etc/cad.ini") == Data("[cad]\nkey=K-1234-SECRET\n".utf8))
    }

    /// An attached file may belong to an account the same run makes: its owner is read from the planned passwd.
    /// Two accounts logging in automatically are refused before anything is written.
    @Test func aFileOwnedByANewAccount() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        try root.write("/etc/passwd", Data("root:x:0:0:root:/root:/bin/sh\n".utf8))
        try root.write("/etc/shadow", Data("root:*:19000:0:99999:7:::\n".utf8))
        try root.write("/etc/group", Data("root:x:0:\n".utf8))
        try root.write("/bin/sh", Data())
        try root.write("/etc/lightdm/lightdm.conf", Data())
        var profile = try demoProfile()
        profile.accounts = [try LocalAccount(name: "kiosk", shell: "/bin/sh", autologin: true)]
        profile.files = [try UnitFile(path: "/home/kiosk/.config/kiosk.url", content: .template("https://exam.example.org/{{hostname}}\n"), owner: "kiosk", group: "kiosk")]
        _ = try Agent.run(request(profile, steps: [.accounts, .files, .identity]), root: root)
        let metadata = try #require(try root.metadata("/home/kiosk/.config/kiosk.url"))
        #expect(metadata.owner == 1000 && metadata.group == 1000)

        profile.accounts.append(try LocalAccount(name: "exam", shell: "/bin/sh", autologin: true))
        profile.revision = 2
        let before = try snapshot(root.path, excluding: ["var/lib/imprint/lock"])
        #expect { try Agent.run(request(profile, steps: [.accounts, .identity]), root: root) } throws: {
            "\($0)".contains("would log in more than one account automatically")
        }
        #expect(try snapshot(root.path, excluding: ["var/lib/imprint/lock"]) == before)
    }
}

import Foundation
import Glibc
import ImprintRemote
import ImprintTestSupport
import ImprintWire
import Testing

/// `imprint restore --server` and `imprint restore URL` against a real imprint-server with a captured image in its
/// library, through a proxy that breaks the download when the test says.
@Suite(.serialized) struct ServerRestoreTests {
    static let demo: [[String]] = ["printers", "groups", "units"].map { ["inventory", "import", fixturePath("demo/\($0).csv")] }
    static let facts = fixturePath("demo/facts/RM204-12.json")
    static let unit = "RM204-12"
    static let imageID = "optiplex.imprint"

    /// A server over the demo inventory with one image of a small master in its library (3 MB of data that does not
    /// compress, so a download is long enough to break three times).
    struct Site {
        let folder: TemporaryDirectory
        let server: RunningServer
        let master: String
        /// The image as captured, outside the library.
        let image: String
        var libraryImage: String { (server.library as NSString).appendingPathComponent(ServerRestoreTests.imageID) }

        init() throws {
            folder = try TemporaryDirectory("imprint-server-restore")
            server = try RunningServer(setup: ServerRestoreTests.demo)
            master = try Self.master(in: folder, name: "master", seed: "master")
            image = folder.file(ServerRestoreTests.imageID)
            try Self.capture(master, to: image)
            let added = try runProcess(RunningServer.imprint, ["library", "add", image, "--library", server.library])
            guard added.status == 0 else { throw TestSupportError("library add failed: \(added.error)") }
        }

        /// A master tree: a hostname, a document, a link, and two files of random bytes.
        static func master(in folder: TemporaryDirectory, name: String, seed: String) throws -> String {
            try folder.write("\(name)/etc/hostname", "\(seed)\n")
            try folder.write("\(name)/usr/share/doc/readme", String(repeating: "imprint \(seed) ", count: 4000))
            try folder.write("\(name)/usr/lib/tool", "#!/bin/sh\necho \(seed)\n")
            try FileManager.default.createDirectory(atPath: folder.file("\(name)/usr/bin"), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: folder.file("\(name)/usr/bin/tool"), withDestinationPath: "../lib/tool")
            for blob in ["one", "two"] {
                let random = FileHandle(forReadingAtPath: "/dev/urandom")
                let bytes = try random?.read(upToCount: 1_500_000) ?? Data()
                try FileManager.default.createDirectory(atPath: folder.file("\(name)/srv/data"), withIntermediateDirectories: true)
                try bytes.write(to: URL(fileURLWithPath: folder.file("\(name)/srv/data/\(blob)")))
            }
            return folder.file(name)
        }

        static func capture(_ root: String, to image: String) throws {
            let captured = try runProcess(RunningServer.imprint, ["capture", "--root", root, "-o", image, "--model", "OptiPlex 7090"])
            guard captured.status == 0 else { throw TestSupportError("capture failed: \(captured.error)") }
        }

        /// Opens a restore window for the demo room.
        func openWindow() throws {
            let opened = try server.admin("POST", ServerAPI.windowsPath, json: #"{"group":"RM204","actions":["restore"],"minutes":30}"#)
            guard opened.status == 201 else { throw TestSupportError("the window did not open: \(opened.status) \(opened.text)") }
        }

        /// An empty folder to restore into.
        func target(_ name: String) throws -> String {
            try FileManager.default.createDirectory(atPath: folder.file(name), withIntermediateDirectories: false)
            return folder.file(name)
        }

        /// `imprint restore --server URL --root TARGET` with the demo unit's facts.
        func restoreFromServer(_ url: String, into target: String, environment: [String: String]? = nil) throws -> ProcessResult {
            try runProcess(
                RunningServer.imprint, ["restore", "--server", url, "--root", target, "--facts", ServerRestoreTests.facts],
                environment: environment)
        }

        /// The same image restored from its file, with no server.
        func localRestore() throws -> String {
            let local = try target("local")
            let restored = try runProcess(RunningServer.imprint, ["restore", image, "--root", local, "--facts", ServerRestoreTests.facts])
            guard restored.status == 0 else { throw TestSupportError("the local restore failed: \(restored.error)") }
            return local
        }

        func fleetRow(_ unit: String) throws -> FleetRow? {
            let answer = try server.admin("GET", ServerAPI.fleetPath)
            return try JSONDecoder.server.decode([FleetRow].self, from: answer.body).first { $0.unit == unit }
        }
    }

    /// What rsync finds different between two trees (contents by checksum, modes, owners, links, times), both ways;
    /// empty when they are the same.
    func differences(_ one: String, _ other: String, excluding: [String] = []) throws -> String {
        let excludes = excluding.map { "--exclude=\($0)" }
        let there = try runProcess("/usr/bin/rsync", ["-aHAXn", "--checksum", "--delete", "--itemize-changes"] + excludes + [one + "/", other + "/"])
        let back = try runProcess("/usr/bin/rsync", ["-aHAXn", "--checksum", "--delete", "--itemize-changes"] + excludes + [other + "/", one + "/"])
        return there.output + there.error + back.output + back.error
    }

    func isEmptyFolder(_ path: String) throws -> Bool {
        try FileManager.default.contentsOfDirectory(atPath: path).isEmpty
    }

    /// Inside a window, `restore --server` restores the image, keeps the unit's token (0600) and the server's address
    /// in the root, personalizes it, and the server's history and fleet show the applied run.
    @Test func restoresPersonalizesAndReports() throws {
        let site = try Site()
        try site.openWindow()
        let target = try site.target("unit")
        let restored = try site.restoreFromServer(site.server.url, into: target)
        #expect(restored.status == 0, "\(restored.error)")
        #expect(restored.output.contains("restored image 'optiplex.imprint' from \(site.server.url)"))
        #expect(restored.output.contains("RM204-12 (revision 1): applied run"))
        #expect(try String(contentsOfFile: target + "/etc/hostname", encoding: .utf8) == "RM204-12\n")

        var info = stat()
        #expect(stat(target + ServerLink.credentialPath, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        let credential = try ServerLink.parseCredential(Data(contentsOf: URL(fileURLWithPath: target + ServerLink.credentialPath)))
        #expect(credential.unit == Self.unit && !credential.token.isEmpty)
        #expect(try String(contentsOfFile: target + ServerLink.addressPath, encoding: .utf8) == site.server.url + "\n")

        let history = try runProcess(RunningServer.imprint, ["inventory", "history", Self.unit, "--inventory", site.server.inventory])
        #expect(history.status == 0, "\(history.error)")
        #expect(history.output.contains("server 127.0.0.1  applied"), "\(history.output)")
        let row = try site.fleetRow(Self.unit)
        #expect(row?.state == .personalized)
        #expect(row?.lastResult == "applied")
    }

    /// `restore --server --json` prints the fields README documents, the run as `run --json` shows it, and the
    /// folder as the restore resolved it (not as typed).
    @Test func jsonHasTheDocumentedFields() throws {
        let site = try Site()
        try site.openWindow()
        let target = try site.target("unit")
        let restored = try runProcess(
            RunningServer.imprint, ["restore", "--server", site.server.url, "--root", target + "/./", "--facts", Self.facts, "--json"])
        #expect(restored.status == 0, "\(restored.error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(restored.output.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["server", "root", "disk", "unit", "work", "image", "restored", "run", "reportProblems"])
        #expect(object["root"] as? String == target && object["disk"] is NSNull)
        #expect(object["work"] as? String == "restored" && object["unit"] as? String == Self.unit)
        #expect((object["image"] as? [String: Any])?["id"] as? String == Self.imageID)
        #expect((object["run"] as? [String: Any])?["result"] as? String == "applied")
        #expect((object["reportProblems"] as? [Any])?.isEmpty == true)
    }

    /// In a window that personalizes, the root is personalized as it is, with no image; asked again in the same
    /// window, the unit signs with the token it kept and the server finds nothing new to apply.
    @Test func personalizesWithoutAnImage() throws {
        let site = try Site()
        let opened = try site.server.admin("POST", ServerAPI.windowsPath, json: #"{"group":"RM204","actions":["personalize"],"minutes":30}"#)
        #expect(opened.status == 201)
        let root = try site.localRestore()
        let first = try site.restoreFromServer(site.server.url, into: root)
        #expect(first.status == 0, "\(first.error)")
        #expect(!first.output.contains("restored image"))
        #expect(first.output.contains("RM204-12 (revision 1): applied run"))
        #expect(try String(contentsOfFile: root + "/etc/hostname", encoding: .utf8) == "RM204-12\n")

        let again = try site.restoreFromServer(site.server.url, into: root)
        #expect(again.status == 0, "\(again.error)")
        #expect(again.output.contains("nothing to do"), "\(again.output)")
        #expect(try site.fleetRow(Self.unit)?.lastResult == "unchanged")
    }

    /// A restore over HTTP whose connection is broken three times mid-transfer resumes each time and ends with the
    /// same tree, byte for byte, as a restore of the image from its file.
    @Test func resumesAfterThreeCuts() throws {
        let site = try Site()
        try site.openWindow()
        let proxy = try CuttingProxy(to: site.server.port, cutAfter: 600_000, times: 3)
        let target = try site.target("unit")
        let restored = try site.restoreFromServer(proxy.url, into: target)
        #expect(restored.status == 0, "\(restored.error)")
        #expect(proxy.cuts == 3)
        // The agent then wrote under /etc and /var only (making /var changed the top folder's time); everything
        // else the image holds is compared.
        let found = try differences(try site.localRestore(), target, excluding: ["/etc", "/var"])
            .split(separator: "\n").filter { $0 != ".d..t...... ./" }
        #expect(found.isEmpty, "\(found)")
        #expect(try site.fleetRow(Self.unit)?.state == .personalized)
    }

    /// An admin restoring an image by its URL (admin token) through a connection broken three times gets exactly
    /// the tree a restore from the file gives.
    @Test func adminRestoreByURLResumes() throws {
        let site = try Site()
        let proxy = try CuttingProxy(to: site.server.port, cutAfter: 600_000, times: 3)
        let target = try site.target("by-url")
        let restored = try runProcess(RunningServer.imprint, [
            "restore", proxy.url + ServerAPI.imagePath(id: Self.imageID), "--root", target,
            "--admin-token-file", site.server.adminTokenFile, "--facts", Self.facts,
        ])
        #expect(restored.status == 0, "\(restored.error)")
        #expect(proxy.cuts == 3)
        #expect(try differences(try site.localRestore(), target) == "")
    }

    /// The client hands the sink every byte of the image once and in order across broken connections, and counts
    /// its resumes.
    @Test func downloadHandsEveryByteOnce() throws {
        let site = try Site()
        let proxy = try CuttingProxy(to: site.server.port, cutAfter: 500_000, times: 3)
        let client = try ServerClient(server: proxy.url, adminToken: site.server.adminToken)
        var received = Data()
        let summary = try client.download(image: Self.imageID, etag: nil) { received.append(contentsOf: $0) }
        #expect(received == (try Data(contentsOf: URL(fileURLWithPath: site.image))))
        #expect(summary.resumes == 3 && summary.bytes == UInt64(received.count))
    }

    /// An image replaced on the server between two cuts fails the restore clearly (the resumed request gets the new
    /// image whole), and the unit's failure shows in the fleet.
    @Test func imageReplacedBetweenCutsFails() throws {
        let site = try Site()
        try site.openWindow()
        let other = try Site.master(in: site.folder, name: "other", seed: "other")
        let replacement = site.folder.file("replacement.imprint")
        try Site.capture(other, to: replacement)
        let libraryImage = site.libraryImage
        let proxy = try CuttingProxy(to: site.server.port, cutAfter: 600_000, times: 3) { cut in
            // The admin puts a new image under the same name, as 'library add' does: a new file renamed over it.
            if cut == 1 { rename(replacement, libraryImage) }
        }
        let target = try site.target("unit")
        let restored = try site.restoreFromServer(proxy.url, into: target)
        #expect(restored.status == 1)
        #expect(restored.error.contains("image 'optiplex.imprint' changed on the server during the download"), "\(restored.error)")
        #expect(!FileManager.default.fileExists(atPath: target + ServerLink.credentialPath))
        let row = try site.fleetRow(Self.unit)
        #expect(row?.state == .failed)
        #expect(row?.error?.contains("changed on the server") == true)
    }

    /// Outside a window the server gives the unit nothing to do: the command exits 30 with the server's reason and
    /// writes nothing.
    @Test func outsideAWindowWritesNothing() throws {
        let site = try Site()
        let target = try site.target("unit")
        let refused = try site.restoreFromServer(site.server.url, into: target)
        #expect(refused.status == 30)
        #expect(refused.error.contains("the server gave this unit nothing to do: no window is open for this unit's group"), "\(refused.error)")
        #expect(try isEmptyFolder(target))
    }

    /// A unit the admin protected gets `needs-confirmation`: the command prints the server's question, exits 31 and
    /// writes nothing.
    @Test func protectedUnitNeedsConfirmation() throws {
        let site = try Site()
        try site.openWindow()
        #expect(try site.server.admin("POST", ServerAPI.unitActionPath(unit: Self.unit, action: .protect)).status == 204)
        let target = try site.target("unit")
        let asked = try site.restoreFromServer(site.server.url, into: target)
        #expect(asked.status == 31)
        #expect(asked.error.contains("do you need the data on this computer?"), "\(asked.error)")
        #expect(try isEmptyFolder(target))
    }

    /// A root whose identity log says another group's inventory personalized it (the office's, by the real agent)
    /// gets `needs-confirmation` even with `--force`: exit 31, not one file changed. The fleet shows the unit
    /// pending; once the admin approves it, the same command restores it.
    @Test func anotherGroupsUnitNeedsConfirmation() throws {
        let site = try Site()
        try site.openWindow()
        let target = try site.localRestore()
        let office = site.folder.file("office.db")
        for arguments in [
            ["inventory", "init"],
            ["inventory", "group", "add", "OFFICE", "--naming-pattern", "OFF-{##}"],
            ["inventory", "add", "OFF-12", "--group", "OFFICE", "--serial", "7XK12Q72"],
            ["run", "--root", target, "--facts", Self.facts],
        ] {
            let done = try runProcess(RunningServer.imprint, arguments + ["--inventory", office])
            #expect(done.status == 0, "\(arguments): \(done.error)")
        }
        let before = try runProcess("/usr/bin/find", [target, "-printf", "%p %s %T@\n"]).output

        let asked = try runProcess(
            RunningServer.imprint, ["restore", "--server", site.server.url, "--root", target, "--facts", Self.facts, "--force"])
        #expect(asked.status == 31, "\(asked.error)")
        #expect(asked.error.contains("its disk holds an Imprint identity of group 'OFFICE'"), "\(asked.error)")
        #expect(try runProcess("/usr/bin/find", [target, "-printf", "%p %s %T@\n"]).output == before)
        #expect(try site.fleetRow(Self.unit)?.state == .pending)

        #expect(try site.server.admin("POST", ServerAPI.unitActionPath(unit: Self.unit, action: .approve)).status == 204)
        let restored = try runProcess(
            RunningServer.imprint, ["restore", "--server", site.server.url, "--root", target, "--facts", Self.facts, "--force"])
        #expect(restored.status == 0, "\(restored.error)")
        #expect(try String(contentsOfFile: target + "/etc/hostname", encoding: .utf8) == "RM204-12\n")
    }

    /// Without libcurl (IMPRINT_LIBCURL naming a library the loader cannot find) the command says to install
    /// Debian's libcurl4, exits 69 and writes nothing.
    @Test func missingLibcurlIsAClearError() throws {
        let site = try Site()
        try site.openWindow()
        let target = try site.target("unit")
        var environment = ProcessInfo.processInfo.environment
        environment["IMPRINT_LIBCURL"] = "libcurl-imprint-test-missing.so.4"
        let failed = try site.restoreFromServer(site.server.url, into: target, environment: environment)
        #expect(failed.status == 69)
        #expect(failed.error.contains("libcurl cannot be loaded ('libcurl-imprint-test-missing.so.4'"), "\(failed.error)")
        #expect(failed.error.contains("install Debian's libcurl4"))
        #expect(try isEmptyFolder(target))
    }
}

import Foundation
import ImprintTestSupport
import Testing

@Suite struct KillTests {
    /// What carries the unit's fresh random identity or the run's name and time, so differs between two runs.
    static let randomIdentity = [
        "./etc/machine-id", "./var/lib/systemd/random-seed", "./var/log/imprint/identity.jsonl", "./var/lib/imprint/state.json",
        "./var/lib/imprint/runs",
    ]

    /// Every entry under `root` with its kind, mode, owner, size or link target, and the SHA-256 of a file's data,
    /// leaving out what carries random identity (host keys included).
    func fingerprint(_ root: String) throws -> [String] {
        let entries = try runProcess("/bin/sh", ["-c", #"cd "$1" && find . -printf '%p %y %m %U:%G %s %l\n'"#, "entries", root])
        let hashes = try runProcess("/bin/sh", ["-c", #"cd "$1" && find . -type f -exec sha256sum {} +"#, "hashes", root])
        #expect(entries.status == 0 && hashes.status == 0, "\(entries.error)\(hashes.error)")
        var hashOf: [String: String] = [:]
        for line in hashes.output.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { hashOf[String(parts[1].drop { $0 == " " || $0 == "*" })] = String(parts[0]) }
        }
        return entries.output.split(separator: "\n").map(String.init).filter { line in
            let path = String(line.prefix { $0 != " " })
            if path.hasPrefix("./etc/ssh/ssh_host_") { return false }
            return !Self.randomIdentity.contains { path == $0 || path.hasPrefix($0 + "/") }
        }.map { line in
            let path = String(line.prefix { $0 != " " })
            return line + (hashOf[path] ?? "")
        }.sorted()
    }

    /// What a finished run must leave, whatever happened before: the unit's files, one identity line, no temporary
    /// files, and every run folder with a journal that is done or rolled back.
    func checkFinished(_ root: String) throws {
        func text(_ path: String) throws -> String { try String(contentsOfFile: root + path, encoding: .utf8) }
        #expect(try text("/etc/hostname") == "RM204-07\n")
        #expect(try text("/etc/hosts").contains("127.0.1.1\tRM204-07.school.example.org RM204-07\n"))
        #expect(try !text("/etc/hosts").contains("master"))
        #expect(try text("/etc/mailname") == "RM204-07.school.example.org\n")
        let machineID = try text("/etc/machine-id")
        #expect(machineID.count == 33 && machineID != "5d2b8a1f0c7e4e3a9b6d1c2e3f4a5b6c\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/var/lib/dbus/machine-id") == "/etc/machine-id")
        #expect(!FileManager.default.fileExists(atPath: root + "/var/lib/systemd/credential.secret"))
        let masterKey = try String(contentsOfFile: fixturePath("roots/rm204-master/etc/ssh/ssh_host_ed25519_key.pub"), encoding: .utf8)
        #expect(try text("/etc/ssh/ssh_host_ed25519_key.pub").hasSuffix(" root@RM204-07\n"))
        #expect(try text("/etc/ssh/ssh_host_ed25519_key.pub") != masterKey)
        #expect(try text("/var/log/imprint/identity.jsonl").split(separator: "\n").count == 1)
        let leftovers = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String }
            .filter { ($0 as NSString).lastPathComponent.hasPrefix(".imprint-") } ?? []
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
        for run in try FileManager.default.contentsOfDirectory(atPath: root + "/var/lib/imprint/runs") {
            let journal = try text("/var/lib/imprint/runs/\(run)/journal.json")
            #expect(journal.contains("\"state\" : \"done\"") || journal.contains("\"state\" : \"rolled-back\""), "\(root): \(journal.split(separator: "\n").filter { $0.contains("\"state\"") })")
        }
    }

    /// A run killed with SIGKILL before each of its file operations is undone and redone by the next run, which
    /// ends where an uninterrupted run ends: every entry's kind, mode, owner and data hash the same, but for the
    /// fresh identity (machine-id, host keys, random seed, identity line, state and run folders).
    @Test func killedAtEveryOperation() throws {
        let binary = packageRoot.appendingPathComponent(".build/debug/imprint").path
        #expect(FileManager.default.isExecutableFile(atPath: binary), "build the package first: swift build")
        let folder = try TemporaryDirectory()
        let environment = ["IMPRINT_INVENTORY": folder.file("inventory.db"), "PATH": "/usr/bin:/bin"]
        #expect(try runProcess(binary, ["inventory", "init"], environment: environment).status == 0)
        for name in ["printers", "groups", "units"] {
            #expect(try runProcess(binary, ["inventory", "import", fixturePath("demo/\(name).csv")], environment: environment).status == 0)
        }
        let reference = try folder.copyFixture("roots/rm204-master")
        #expect(try runProcess(binary, ["run", "--root", reference], environment: environment).status == 0)
        try checkFinished(reference)
        let expected = try fingerprint(reference)
        #expect(expected.contains { $0.hasPrefix("./etc/hostname f 644 ") })

        let operations = try killAtEveryOperation(
            binary: binary, template: fixturePath("roots/rm204-master"), arguments: [], environment: environment, in: folder,
            expected: expected, check: checkFinished)
        #expect(operations > 10, "a run makes more than ten file operations; the loop stopped at \(operations)")
    }

    /// Runs `imprint run --root COPY ARGUMENTS` on a fresh copy of `template`, killed (SIGKILL) before its first,
    /// second, ... file operation, each followed by an undisturbed run that must end with `expected`; stops when a
    /// run is no longer killed, and returns at which operation that was.
    func killAtEveryOperation(
        binary: String, template: String, arguments: [String], environment: [String: String], in folder: TemporaryDirectory,
        expected: [String], check: (String) throws -> Void = { _ in }
    ) throws -> Int {
        var operation = 1
        while operation < 200 {
            let root = folder.file("killed-\(operation)")
            try FileManager.default.copyItem(atPath: template, toPath: root)
            var killing = environment
            killing["IMPRINT_TEST_KILL_AT_OPERATION"] = String(operation)
            let killed = try runProcess(binary, ["run", "--root", root] + arguments, environment: killing)
            let next = try runProcess(binary, ["run", "--root", root] + arguments, environment: environment)
            #expect(next.status == 0, "after a kill at operation \(operation): \(next.error)")
            try check(root)
            let found = try fingerprint(root)
            #expect(found == expected, "after a kill at operation \(operation): \(found.difference(from: expected).map { $0 })")
            try FileManager.default.removeItem(atPath: root)
            if killed.status == 0 { break }
            #expect(killed.status == 9, "operation \(operation): expected SIGKILL, got \(killed.status)")
            operation += 1
        }
        return operation
    }

    /// A run that adds accounts, killed before each of its file operations, is undone and redone by the next run:
    /// passwd, shadow, group, gshadow, the new home and the autologin drop-in end as after an uninterrupted run,
    /// never a user without its shadow line.
    @Test func killedWhileWritingAccounts() throws {
        let binary = packageRoot.appendingPathComponent(".build/debug/imprint").path
        let folder = try TemporaryDirectory()
        let environment = ["IMPRINT_INVENTORY": folder.file("inventory.db"), "PATH": "/usr/bin:/bin"]
        #expect(try runProcess(binary, ["inventory", "init"], environment: environment).status == 0)
        for name in ["printers", "groups", "units"] {
            #expect(try runProcess(binary, ["inventory", "import", fixturePath("demo/\(name).csv")], environment: environment).status == 0)
        }
        let add = ["inventory", "account", "add", "kiosk", "--group", "RM204", "--autologin", "--groups", "audio"]
        #expect(try runProcess(binary, add, environment: environment).status == 0)
        let template = try folder.copyFixture("roots/rm204-master", as: "template")
        for (path, text) in [("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"), ("etc/shadow", "root:*:19000:0:99999:7:::\n"),
                             ("etc/group", "root:x:0:\naudio:x:29:\n"), ("etc/gshadow", "root:*::\naudio:*::\n"),
                             ("etc/skel/.profile", "# profile\n"), ("bin/bash", ""), ("etc/lightdm/lightdm.conf", "[Seat:*]\n")] {
            _ = try folder.write("template/" + path, text)
        }
        let reference = folder.file("reference")
        try FileManager.default.copyItem(atPath: template, toPath: reference)
        let arguments = ["--facts", fixturePath("demo/facts/RM204-07.json"), "--only", "accounts"]
        #expect(try runProcess(binary, ["run", "--root", reference] + arguments, environment: environment).status == 0)
        let expected = try fingerprint(reference)
        #expect(expected.contains { $0.hasPrefix("./home/kiosk d 700 1000:1000") }, "\(expected)")
        let operation = try killAtEveryOperation(
            binary: binary, template: template, arguments: arguments, environment: environment, in: folder, expected: expected)
        #expect(operation > 8, "the run makes more than eight file operations; the loop stopped at \(operation)")
    }
}

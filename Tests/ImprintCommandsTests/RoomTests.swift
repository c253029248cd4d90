import Foundation
import ImprintTestSupport
import Testing

/// The whole promise, as a school uses it: one real Debian master (debootstrap, cached by `.ci/debian-root`),
/// captured once with `--generalize`, restored and personalized onto the 30 units of the demo inventory, each
/// checked by the real tools; then a machine the inventory does not know.
@Suite(.serialized) struct RoomTests {
    /// One unit as the real tools see it after its restore.
    struct Unit: Hashable {
        var hostname: String
        var machineID: String
        var fingerprints: [String]
    }

    /// 30 restores of the generalized master each give the unit its own hostname, hosts line, machine-id and host
    /// keys (accepted by sshd), netplan file (accepted by `netplan generate`) and printers (loaded by cupsd), one
    /// identity line and one history row; no two units share a hostname, machine-id or key; a 31st machine, not
    /// in the inventory, gets exit 10 and its root is left as restored, byte for byte.
    @Test func thirtyUnitsFromOneMaster() throws {
        let folder = try TemporaryDirectory()
        let binary = try staticImprintBinary()
        let environment = ["IMPRINT_INVENTORY": folder.file("inventory.db"), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        func imprint(_ arguments: [String]) throws -> ProcessResult {
            try runProcess(binary, arguments, environment: environment)
        }
        #expect(try imprint(["inventory", "init"]).status == 0)
        for name in ["printers", "groups", "units"] {
            let imported = try imprint(["inventory", "import", fixturePath("demo/\(name).csv")])
            #expect(imported.status == 0, "\(imported.error)")
        }
        // The room's admin wants netplan, whatever else the image has installed.
        #expect(try imprint(["inventory", "group", "set", "RM204", "--network-stack", "netplan"]).status == 0)

        // The master as debootstrap left it: its own hostname, machine-id and host keys, captured without them.
        let master = try debianRoot()
        let masterKeys = try FileManager.default.contentsOfDirectory(atPath: master + "/etc/ssh").filter { $0.hasSuffix("_key.pub") }
        #expect(!masterKeys.isEmpty, "the un-generalized master has host keys")
        let image = folder.file("rm204.img")
        let capture = try imprint(["capture", "--root", master, "-o", image, "--model", "OptiPlex 7090", "--generalize"])
        #expect(capture.status == 0, "\(capture.error)")
        let masterFingerprints = try Set(masterKeys.map { try fingerprint(master + "/etc/ssh/" + $0) })

        // The units' roots on tmpfs: 31 trees of 800 MB written and removed on the test machines' ext4 (mounted with
        // discard) cost minutes of the suite; restore onto ext4 is tested by the whole-disk tests.
        let roots = try TemporaryDirectory("room-units", in: "/dev/shm")
        var units: [Unit] = []
        for number in 1...30 {
            let hostname = String(format: "RM204-%02d", number)
            let root = roots.file("unit")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: false)
            let restore = try imprint([
                "restore", image, "--root", root, "--personalize", "--facts", fixturePath("demo/facts/\(hostname).json"),
            ])
            #expect(restore.status == 0, "\(hostname): \(restore.error)")
            if restore.status == 0 { units.append(try check(root, hostname: hostname, number: number, imprint: imprint)) }
            try FileManager.default.removeItem(atPath: root)
        }

        #expect(units.count == 30)
        #expect(Set(units.map(\.hostname)).count == 30)
        #expect(Set(units.map(\.machineID)).count == 30)
        let fingerprints = units.flatMap(\.fingerprints)
        #expect(fingerprints.count == 90 && Set(fingerprints).count == 90, "every unit has three keys of its own")
        #expect(masterFingerprints.isDisjoint(with: fingerprints), "no unit kept a key of the master")

        // A 31st machine on the bench: restored, but the inventory does not know it.
        let stranger = roots.file("stranger")
        try FileManager.default.createDirectory(atPath: stranger, withIntermediateDirectories: false)
        #expect(try imprint(["restore", image, "--root", stranger, "--facts", fixturePath("demo/facts/not-in-inventory.json")]).status == 0)
        let before = try treeSnapshot(stranger)
        let run = try imprint(["run", "--root", stranger, "--facts", fixturePath("demo/facts/not-in-inventory.json")])
        #expect(run.status == 10, "\(run.error)")
        #expect(run.error.contains("imprint inventory"), "the error says how to add the unit: \(run.error)")
        #expect(try treeSnapshot(stranger) == before)
    }

    /// Checks one restored unit with the real tools and returns what must differ between units.
    func check(_ root: String, hostname: String, number: Int, imprint: ([String]) throws -> ProcessResult) throws -> Unit {
        func text(_ path: String) throws -> String { try String(contentsOfFile: root + path, encoding: .utf8) }
        let fqdn = "\(hostname).school.example.org"
        #expect(try text("/etc/hostname") == hostname + "\n")
        let hosts = try text("/etc/hosts")
        #expect(hosts.contains("127.0.1.1\t\(fqdn) \(hostname)\n"), "\(hostname): \(hosts)")
        // The unit's own C library resolves its name from /etc/hosts, and systemd takes the name.
        let resolved = try runProcess("/usr/sbin/chroot", [root, "/usr/bin/getent", "-s", "files", "hosts", hostname])
        #expect(resolved.status == 0 && resolved.output.contains("127.0.1.1"), "\(hostname): \(resolved.output)\(resolved.error)")
        let scratch = try TemporaryDirectory("firstboot")
        let firstboot = try runProcess("/usr/bin/systemd-firstboot", ["--root=\(scratch.path)", "--hostname=\(hostname)"])
        #expect(firstboot.status == 0, "\(hostname): \(firstboot.error)")

        // systemd's and D-Bus's own readings of the machine-id (dbus-uuidgen --ensure would rewrite a bad one).
        let machineID = try runProcess("/usr/bin/systemd-machine-id-setup", ["--root=\(root)", "--print"]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let written = try text("/etc/machine-id")
        #expect(machineID.count == 32 && written == machineID + "\n")
        let dbus = try runProcess("/usr/bin/dbus-uuidgen", ["--ensure=\(root)/etc/machine-id"])
        let ensured = try text("/etc/machine-id")
        #expect(dbus.status == 0 && ensured == written, "\(hostname): \(dbus.error)")

        // sshd loads every host key.
        let keys = try FileManager.default.contentsOfDirectory(atPath: root + "/etc/ssh").filter { $0.hasSuffix("_key") }.sorted()
        #expect(keys == ["ssh_host_ecdsa_key", "ssh_host_ed25519_key", "ssh_host_rsa_key"], "\(hostname): \(keys)")
        let sshd = try sshdTest(hostKeys: keys.map { root + "/etc/ssh/" + $0 })
        #expect(sshd.status == 0, "\(hostname): \(sshd.error)")
        let fingerprints = try keys.map { try fingerprint(root + "/etc/ssh/\($0).pub") }
        #expect(try text("/etc/ssh/ssh_host_ed25519_key.pub").hasSuffix(" root@\(hostname)\n"))

        // netplan turns the unit's file into a configuration with its own address on its own card.
        let generate = try runProcess("/usr/sbin/netplan", ["generate", "--root-dir", root])
        #expect(generate.status == 0 && generate.error.isEmpty, "\(hostname): \(generate.error)")
        let generated = try text("/etc/netplan/90-imprint.yaml")
        #expect(generated.contains(String(format: "3c:52:82:20:04:%02x", number)))
        #expect(generated.contains("10.20.4.\(100 + number)/24"))

        // cupsd loads the unit's queues with the group's default.
        let cupsd = try ThrowawayCupsd(copying: root + "/etc/cups")
        try cupsd.start()
        #expect(try cupsd.queues() == ThrowawayCupsd.Queues(names: ["library-color", "rm204-laser"], defaultPrinter: "rm204-laser"),
                "\(hostname): \(cupsd.log())")
        cupsd.stop()

        // One identity line naming what the tools saw, and one history row in the inventory.
        let lines = try text("/var/log/imprint/identity.jsonl").split(separator: "\n")
        #expect(lines.count == 1)
        let identity = try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any]
        #expect(identity?["unit"] as? String == hostname)
        #expect((identity?["machineID"] as? [String: Any])?["new"] as? String == machineID, "\(lines.first ?? "")")
        let logged = (identity?["hostKeys"] as? [[String: Any]] ?? []).compactMap { $0["fingerprint"] as? String }
        #expect(Set(logged) == Set(fingerprints))
        let history = try imprint(["inventory", "history", hostname, "--json"])
        let rows = try JSONSerialization.jsonObject(with: Data(history.output.utf8)) as? [[String: Any]]
        #expect(rows?.count == 1, "\(hostname): \(history.output)")
        return Unit(hostname: hostname, machineID: machineID, fingerprints: fingerprints)
    }

    /// The SHA256 fingerprint `ssh-keygen -l` gives a public key.
    func fingerprint(_ path: String) throws -> String {
        let listed = try runProcess("/usr/bin/ssh-keygen", ["-l", "-f", path])
        guard listed.status == 0, let field = listed.output.split(separator: " ").dropFirst().first else {
            throw TestSupportError("ssh-keygen cannot read \(path): \(listed.error)")
        }
        return String(field)
    }
}

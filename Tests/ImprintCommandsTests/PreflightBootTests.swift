import Foundation
@testable import ImprintCommands
import ImprintInventory
@testable import ImprintPreflight
import ImprintTestSupport
import Testing

/// `preflight --boot` for real: the test master (the Debian root, captured for the OptiPlex 7090) booted in qemu as
/// the demo unit RM204-07, by the static imprint a technician runs.
@Suite(.serialized) struct PreflightBootTests {
    /// The master captured into `name` by the static imprint; `breakSSHD` first appends an option value sshd refuses.
    func captured(_ root: String, as name: String, in folder: TemporaryDirectory, breakSSHD: Bool = false) throws -> String {
        if breakSSHD {
            let config = try String(contentsOfFile: root + "/etc/ssh/sshd_config", encoding: .utf8)
            try (config + "\nPermitRootLogin sometimes\n").write(toFile: root + "/etc/ssh/sshd_config", atomically: true, encoding: .utf8)
        }
        let image = folder.file(name)
        let capture = try runProcess(try staticImprintBinary(), ["capture", "--root", root, "-o", image, "--model", "OptiPlex 7090"])
        try #require(capture.status == 0, "\(capture.error)")
        return image
    }

    /// `preflight IMAGE --group RM204 --unit RM204-07 --boot --json` by the static imprint: its exit status, the
    /// report, and the unit's `boot` object.
    func bootReport(_ image: String, environment: [String: String]) throws -> (status: Int32, report: [String: Any], boot: [String: Any]) {
        let result = try runProcess(
            try staticImprintBinary(), ["preflight", image, "--group", "RM204", "--unit", "RM204-07", "--boot", "--json"],
            environment: environment)
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], "\(result.output)\n\(result.error)")
        let unit = try #require((report["units"] as? [[String: Any]])?.first)
        let boot = try #require(unit["boot"] as? [String: Any], "\(unit)")
        return (result.status, report, boot)
    }

    /// What a passing boot of RM204-07 checked beside the agent: its name, one run, sshd's new key, its card's
    /// address from NetworkManager and its queues.
    func expectBootedAsRM20407(_ boot: [String: Any]) {
        #expect(boot["passed"] as? Bool == true, "\(boot)")
        let checked = boot["checked"] as? [String] ?? []
        for wanted in ["hostname RM204-07", "agent ran once", "sshd active with the unit's new key", "lpstat: library-color, rm204-laser, default rm204-laser"] {
            #expect(checked.contains(wanted), "\(checked)")
        }
        #expect(checked.contains { $0.hasPrefix("3c:52:82:20:04:07 on ") && $0.contains("10.20.4.107/24") && $0.contains("NetworkManager") }, "\(checked)")
    }

    /// The master, the agent installed on it as for deployment, passes: RM204-07 boots with the image's own agent,
    /// its SMBIOS identifiers and MAC, the agent runs once, sshd serves a new
    /// key, its card has 10.20.4.107/24 from NetworkManager, lpstat lists its two queues and default; the report
    /// says so in the JSON's `boot` and the table's BOOT column. With sshd's configuration broken on purpose, the
    /// boot fails naming sshd, in the table and the HTML page. Neither the inventory nor the images change, and
    /// the scratch folders are gone.
    @Test func bootPassesOnTheMasterAndNamesABrokenSSHD() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let tmp = folder.file("tmp")
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        let environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TMPDIR": tmp, "IMPRINT_INVENTORY": folder.file("inventory.db")]
        let root = try folder.copyDebianRoot()
        let install = try runProcess(try staticImprintBinary(), ["install", "--root", root, "--unit", "RM204-07"], environment: environment)
        try #require(install.status == 0, "\(install.error)")
        let master = try captured(root, as: "master.imprint", in: folder)
        let broken = try captured(root, as: "broken-sshd.imprint", in: folder, breakSSHD: true)
        try FileManager.default.removeItem(atPath: root)
        let before = try runProcess("/usr/bin/sha256sum", [folder.file("inventory.db"), master, broken]).output

        let passing = try bootReport(master, environment: environment)
        #expect(passing.status == 0, "\(passing.report)")
        let boot = passing.boot
        #expect(Set(boot.keys) == ["passed", "seconds", "checked", "failures"])
        #expect((boot["checked"] as? [String])?.first == "agent: the image's own /usr/local/sbin/imprint", "\(boot)")
        expectBootedAsRM20407(boot)
        print("preflight --boot of RM204-07: the boot took \(boot["seconds"] ?? "?") s")

        let page = folder.file("report.html")
        let failing = try runProcess(
            try staticImprintBinary(), ["preflight", broken, "--group", "RM204", "--unit", "RM204-07", "--boot", "--html", page],
            environment: environment)
        #expect(failing.status == ExitStatus.preflightFailed.rawValue, "\(failing.output)\n\(failing.error)")
        let row = try #require(failing.output.split(separator: "\n").first { $0.hasPrefix("RM204-07") }, "\(failing.output)")
        #expect(failing.output.hasPrefix("UNIT      RESULT  BOOT  FIRST REASON"), "\(failing.output)")
        #expect(row.hasPrefix("RM204-07  FAIL    FAIL  "), "\(row)")
        // The image's own check names sshd first (README's example), the boot after it.
        #expect(row.hasSuffix("sshd: sshd -t refused the image's configuration with the unit's new host keys: "
            + "/etc/ssh/sshd_config line 124: unsupported option \"sometimes\"."), "\(row)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("<td class=\"boot\" data-boot=\"fail\">"), "\(html)")
        #expect(html.contains("sshd (ssh.service) is "), "\(html)")
        #expect(!html.contains("sshd (ssh.service) is active"))

        #expect(try runProcess("/usr/bin/sha256sum", [folder.file("inventory.db"), master, broken]).output == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
    }

    /// An image with no kernel in /boot fails the unit --boot names, with what to do, before anything is installed;
    /// the other unit is not booted, and the HTML page's Boot column says so.
    @Test func imageWithoutAKernelIsNamed() throws {
        let room = try PreflightRoom()
        let image = try room.image("lab.img", withPPD: true)
        let page = room.folder.file("report.html")
        let result = room.preflight([
            image, "--unit", "LAB-02", "--unit", "LAB-01", "--boot", "--agent-binary", "/bin/true", "--json", "--html", page,
        ])
        #expect(result.status == ExitStatus.preflightFailed.rawValue, "\(result.out) \(result.err)")
        let units = try PreflightRoom.units(result)
        let boot = try #require(units["LAB-02"]?["boot"] as? [String: Any], "\(units)")
        #expect(boot["passed"] as? Bool == false)
        let failure = try #require((boot["failures"] as? [[String: Any]])?.first)
        #expect(failure["message"] as? String == "the image has no kernel to boot: its /boot holds no vmlinuz-VERSION with an initrd.img-VERSION")
        #expect((failure["fix"] as? String)?.contains("apt-get install linux-image-amd64") == true)
        #expect(PreflightRoom.failures(units["LAB-02"]).map(\.check) == ["boot"])
        #expect(units["LAB-01"]?["boot"] is NSNull)
        #expect(units["LAB-01"]?["passed"] as? Bool == true)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("<th scope=\"col\">Result</th><th scope=\"col\">Boot</th>"))
        let cells = html.matches(of: #/data-unit="([^"]+)".*?<td class="boot" data-boot="([^"]+)">/#).map { "\($0.1)=\($0.2)" }
        #expect(cells == ["LAB-02=fail", "LAB-01=not booted"], "\(html)")

        let text = room.preflight([image, "--unit", "LAB-02", "--unit", "LAB-01", "--boot", "--agent-binary", "/bin/true"])
        #expect(text.out.contains("UNIT    RESULT  BOOT  FIRST REASON\nLAB-01  pass    -     ok (netplan generate, cupsd + lpstat)\n"
            + "LAB-02  FAIL    FAIL  boot: the image has no kernel to boot"), "\(text.out)")
    }

    /// A boot that ends before the check reports fails the unit with how qemu ended and the console's last lines:
    /// here the image's initramfs is not one, so the kernel cannot mount the root, panics and the machine stops.
    @Test func bootEndingEarlyIsNamed() throws {
        let room = try PreflightRoom()
        // The image's libc, for the agent given (/bin/true) to pass the install's checks.
        let image = try room.image("lab.img", withPPD: true, nsswitch: "passwd: files\nhosts: files\n", kernel: true)
        let result = room.preflight([image, "--unit", "LAB-01", "--boot", "--agent-binary", "/bin/true", "--json"])
        #expect(result.status == ExitStatus.preflightFailed.rawValue, "\(result.out) \(result.err)")
        let boot = try #require(try PreflightRoom.units(result)["LAB-01"]?["boot"] as? [String: Any])
        let failure = try #require((boot["failures"] as? [[String: Any]])?.first, "\(boot)")
        let message = try #require(failure["message"] as? String)
        #expect(message.hasPrefix("qemu ended (status 0) before the check reported; the kernel panicked: "), "\(message)")
        #expect(message.contains("Kernel panic - not syncing: VFS: Unable to mount root fs"), "\(message)")
        #expect(message.contains("; the console's last lines: "), "\(message)")
        #expect(failure["fix"] as? String == "read the console lines: the kernel or systemd says why")
        #expect((boot["checked"] as? [String]) == ["agent: /bin/true"])
    }

    /// The image of a whole disk boots as a unit restored from it does: the test master disk captured, restored by
    /// preflight onto a scratch disk file and booted with OVMF firmware (no `-kernel`) as RM204-07, passes with the
    /// agent this imprint installs (the master carries none) run once, sshd serving a new key, its card with
    /// 10.20.4.107/24 from NetworkManager and lpstat listing its queues. The same disk captured again with sshd's
    /// configuration broken fails, the boot naming sshd. Neither the inventory nor the images change, and the scratch
    /// disk and folders are gone.
    @Test func wholeDiskBootPassesAndNamesABrokenSSHD() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let tmp = folder.file("tmp")
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        let environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TMPDIR": tmp, "IMPRINT_INVENTORY": folder.file("inventory.db")]
        let master = try folder.copyMasterDisk(.plain, as: "master.img")
        func capture(_ name: String) throws -> String {
            let image = folder.file(name)
            let capture = try runProcess(
                try staticImprintBinary(), ["capture", "--disk", master, "-o", image, "--model", "OptiPlex 7090"], environment: environment)
            try #require(capture.status == 0, "\(capture.error)")
            return image
        }
        let image = try capture("disk.imprint")
        let root = try diskPartitions(master)[1]
        let config = try runProcess("/sbin/debugfs", ["-R", "cat /etc/ssh/sshd_config", "\(master)?offset=\(root.start)"])
        try #require(config.status == 0 && config.output.contains("Include"), "\(config.error)")
        try writeExt4(master, root, files: ["/etc/ssh/sshd_config": config.output + "\nPermitRootLogin sometimes\n"])
        let broken = try capture("broken-sshd.imprint")
        try FileManager.default.removeItem(atPath: master)
        let before = try runProcess("/usr/bin/sha256sum", [folder.file("inventory.db"), image, broken]).output

        let passing = try bootReport(image, environment: environment)
        #expect(passing.status == 0, "\(passing.report)")
        let boot = passing.boot
        #expect((boot["checked"] as? [String])?.first == "agent: this imprint", "\(boot)")
        expectBootedAsRM20407(boot)
        print("preflight --boot of RM204-07 from a whole disk's image: the boot took \(boot["seconds"] ?? "?") s")

        let failing = try bootReport(broken, environment: environment)
        #expect(failing.status == ExitStatus.preflightFailed.rawValue, "\(failing.report)")
        let failed = failing.report
        let failedBoot = failing.boot
        let messages = ((failedBoot["failures"] as? [[String: Any]]) ?? []).compactMap { $0["message"] as? String }
        #expect(messages.contains { $0.hasPrefix("sshd (ssh.service) is ") && !$0.hasPrefix("sshd (ssh.service) is active") }, "\(failedBoot)")
        #expect((failed["imageFailures"] as? [[String: Any]])?.first?["check"] as? String == "sshd", "\(failed)")

        #expect(try runProcess("/usr/bin/sha256sum", [folder.file("inventory.db"), image, broken]).output == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
    }

    /// Without --boot, the image of a whole disk is restored as one tree into a folder and its system checked like a
    /// folder image's.
    @Test func wholeDiskImageIsCheckedAsOneTree() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let environment = try DiskCaptureTests().environment(folder)
        let disk = try SmallMasterDisk(in: folder)
        let image = folder.file("disk.imprint")
        let capture = try runProcess(DiskCaptureTests.binary, ["capture", "--disk", disk.path, "-o", image, "--model", "OptiPlex 7090"],
                                     environment: environment)
        try #require(capture.status == 0, "\(capture.error)")
        let checked = try runProcess(DiskCaptureTests.binary, ["preflight", image, "--group", "RM204", "--unit", "RM204-07", "--json"],
                                     environment: environment)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(checked.output.utf8)) as? [String: Any], "\(checked.error)")
        #expect((report["units"] as? [[String: Any]])?.map { $0["unit"] as? String } == ["RM204-07"], "\(report)")
        #expect((report["imageCheckedBy"] as? [String])?.first == "restore (every block and file checked, as verify)", "\(report)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.file("tmp")).isEmpty)
    }

    /// The console's CHECK lines, as the guest script prints them (a real boot's, with the serial port's CRLF), are
    /// read against RM204-07's record: all as they should be, nothing is wrong; a card with slirp's DHCP address
    /// instead of its own, sshd serving the image's key, and a queue missing are each named with the values.
    @Test func consoleIsJudgedAgainstTheRecord() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let profile = try Inventory(path: folder.file("inventory.db"), readOnly: true).unit("RM204-07").profile
        let queues = ScratchCupsd.Queues(names: ["library-color", "rm204-laser"], defaultPrinter: "rm204-laser")
        let console = [
            "[  OK  ] Started ssh.service", "CHECK hostname=RM204-07", "CHECK agent=active", "CHECK agent-applied=1",
            "CHECK ssh=ssh.service active", "CHECK key-file=SHA256:unit", "CHECK key-served=SHA256:unit",
            "CHECK net 3c:52:82:20:04:07 dev=enp0s2", "CHECK net 3c:52:82:20:04:07 address=10.20.4.107/24",
            "CHECK net 3c:52:82:20:04:07 stack=NetworkManager: 100 (connected) imprint-0 ",
            "CHECK lpstat: printer library-color is idle.  enabled since Wed Dec  2 01:50:23 2026",
            "CHECK lpstat: printer rm204-laser is idle.  enabled since Wed Dec  2 01:50:23 2026",
            "CHECK lpstat: system default destination: rm204-laser", "CHECK done",
        ].joined(separator: "\r\n")
        let good = Preflight.judgeBoot(console, profile: profile, expectedQueues: queues, imageKeys: ["SHA256:master"])
        #expect(good.failures.isEmpty, "\(good.failures)")
        #expect(good.checked == [
            "hostname RM204-07", "agent ran once", "sshd active with the unit's new key",
            "3c:52:82:20:04:07 on enp0s2: 10.20.4.107/24 (NetworkManager: 100 (connected) imprint-0)",
            "lpstat: library-color, rm204-laser, default rm204-laser",
        ])

        let wrong = console.replacingOccurrences(of: "address=10.20.4.107/24", with: "address=10.0.2.15/24")
            .replacingOccurrences(of: "key-served=SHA256:unit", with: "key-served=SHA256:master")
            .replacingOccurrences(of: "CHECK lpstat: printer library-color is idle.  enabled since Wed Dec  2 01:50:23 2026\r\n", with: "")
        let bad = Preflight.judgeBoot(wrong, profile: profile, expectedQueues: queues, imageKeys: ["SHA256:master"])
        #expect(bad.failures.map(\.message) == [
            "sshd serves SHA256:master, not the unit's new keys (SHA256:unit)",
            "the card 3c:52:82:20:04:07 (enp0s2) has 10.0.2.15/24, not 10.20.4.107/24 (NetworkManager: 100 (connected) imprint-0)",
            "lpstat lists rm204-laser (default rm204-laser), not library-color, rm204-laser (default rm204-laser)",
        ], "\(bad.failures)")
        #expect(bad.failures.allSatisfy { $0.check == "boot" })
    }

    /// A whole disk boots as a UEFI PC boots it: OVMF's code read-only and the boot's own variables, the disk on
    /// virtio, no `-kernel`, the unit's cards and SMBIOS identifiers; the variables are made from the blank ones.
    @Test func uefiBootCommandStartsTheDiskWithFirmware() {
        let machine = UEFIBoot(
            disks: ["/tmp/unit.img"], console: "/tmp/console.log", variables: "/tmp/variables.fd",
            nics: ["user,model=virtio-net-pci,mac=3c:52:82:20:04:07"], smbios: ["type=1,serial=7XK07QF9"], timeout: .seconds(900))
        let arguments = machine.command.arguments
        #expect(machine.command.executable == "/usr/bin/qemu-system-x86_64")
        #expect(arguments.joined(separator: " ").contains(
            "-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd -drive if=pflash,format=raw,file=/tmp/variables.fd "
                + "-drive file=/tmp/unit.img,format=raw,if=virtio -nic user,model=virtio-net-pci,mac=3c:52:82:20:04:07 "
                + "-smbios type=1,serial=7XK07QF9 -serial file:/tmp/console.log"), "\(arguments)")
        #expect(!arguments.contains("-kernel"))
        #expect(machine.blank == "/usr/share/OVMF/OVMF_VARS_4M.fd")

        var secure = machine
        secure.secureBoot = true
        #expect(secure.command.arguments.contains("if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.ms.fd"))
        var noNetwork = machine
        noNetwork.nics = []
        #expect(noNetwork.command.arguments.joined(separator: " ").contains("-nic none"))
    }

    /// `--boot-timeout` and `--agent-binary` go with `--boot`, and the timeout is a positive number of seconds.
    @Test func bootOptionsAreChecked() throws {
        let folder = try TemporaryDirectory()
        for (arguments, message) in [
            (["--boot-timeout", "60"], "'--boot-timeout' goes with '--boot'"),
            (["--agent-binary", "/usr/local/sbin/imprint"], "'--agent-binary' goes with '--boot'"),
            (["--boot", "--boot-timeout", "0"], "'--boot-timeout' must be 1 or more seconds, not 0"),
        ] {
            let result = imprint(["preflight", "image.imprint", "--group", "LAB"] + arguments, in: folder)
            #expect(result.status == ExitStatus.usage.rawValue, "\(arguments)")
            #expect(result.err.contains(message), "\(result.err)")
        }
    }
}

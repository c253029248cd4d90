import Foundation
@testable import ImprintCommands
import ImprintTestSupport
import Testing

/// A small room for preflight: group LAB (static, netplan from the image) with a driverless printer and one whose
/// PPD the image must carry, three OptiPlex units and one ThinkCentre.
struct PreflightRoom {
    let folder: TemporaryDirectory
    static let ppd = "/usr/share/ppd/imprint/office-laser.ppd"

    init() throws {
        folder = try TemporaryDirectory("imprint-preflight-test")
        let setup: [[String]] = [
            ["inventory", "init"],
            ["inventory", "printer", "add", "lab-color", "--uri", "ipp://10.20.9.5/ipp/print"],
            ["inventory", "printer", "add", "office-laser", "--uri", "socket://10.20.9.6:9100", "--driver", Self.ppd],
            ["inventory", "group", "add", "LAB", "--network-mode", "static", "--dns", "10.20.0.53",
             "--printer", "lab-color", "--printer", "office-laser", "--default-printer", "office-laser"],
        ] + (1...4).map { number in
            ["inventory", "add", "LAB-0\(number)", "--group", "LAB", "--model", number == 4 ? "ThinkCentre M70q" : "OptiPlex 7090",
             "--serial", "LABSERIAL\(number)", "--mac", "52:54:00:00:09:0\(number)", "--ipv4", "10.20.9.10\(number)/24",
             "--gateway4", "10.20.9.1"]
        }
        for arguments in setup {
            let result = imprint(arguments, in: folder)
            #expect(result.status == 0, "\(arguments): \(result.err)")
        }
    }

    var inventory: String { folder.file("inventory.db") }

    /// A master root for the room's model, captured into `name`: netplan, sshd, an ed25519 host key, and the
    /// office laser's PPD when `withPPD`.
    /// - Parameters:
    ///   - firstBootWithoutAgent: the first-boot service enabled (as 'imprint install' leaves it) but the agent gone.
    ///   - nsswitch: the image's /etc/nsswitch.conf, with this machine's getent and the C library it needs.
    ///   - withHosts: whether the image has an /etc/hosts (a debootstrap has none).
    ///   - netplan: the image's own /etc/netplan/01-netcfg.yaml.
    ///   - kernel: the Debian root's kernel in /boot, beside a file named as its initramfs that is not one.
    func image(
        _ name: String, withPPD: Bool, sshdConfig: String = "PermitRootLogin no\nPasswordAuthentication no\n",
        firstBootWithoutAgent: Bool = false, nsswitch: String? = nil, withHosts: Bool = true,
        netplan: String = "network:\n  version: 2\n  renderer: networkd\n", kernel: Bool = false
    ) throws -> String {
        let root = folder.file("master-\(name)")
        for (path, text) in [
            ("etc/hostname", "master\n"), ("etc/hosts", "127.0.0.1 localhost\n127.0.1.1 master\n"),
            ("etc/netplan/01-netcfg.yaml", netplan),
            ("etc/ssh/sshd_config", sshdConfig),
        ] {
            try FileManager.default.createDirectory(atPath: root + "/" + (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: root + "/" + path, atomically: true, encoding: .utf8)
        }
        chmod(root + "/etc/netplan/01-netcfg.yaml", 0o600)
        if !withHosts { try FileManager.default.removeItem(atPath: root + "/etc/hosts") }
        for key in ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"] {
            #expect(try runProcess("/bin/cp", ["-p", fixturePath("roots/rm204-master/etc/ssh/\(key)"), root + "/etc/ssh/"]).status == 0)
        }
        if withPPD {
            try FileManager.default.createDirectory(atPath: root + "/usr/share/ppd/imprint", withIntermediateDirectories: true)
            #expect(try runProcess("/bin/cp", [fixturePath("cups/office-laser.ppd"), root + Self.ppd]).status == 0)
        }
        if let nsswitch {
            try nsswitch.write(toFile: root + "/etc/nsswitch.conf", atomically: true, encoding: .utf8)
            for file in ["/usr/bin/getent", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"] {
                try FileManager.default.createDirectory(atPath: root + (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                #expect(try runProcess("/bin/cp", ["-L", file, root + file]).status == 0)
            }
        }
        if kernel {
            let boot = try debianRoot() + "/boot"
            let version = try #require(try FileManager.default.contentsOfDirectory(atPath: boot).first { $0.hasPrefix("vmlinuz-") })
                .dropFirst("vmlinuz-".count)
            try FileManager.default.createDirectory(atPath: root + "/boot", withIntermediateDirectories: true)
            #expect(try runProcess("/bin/cp", [boot + "/vmlinuz-" + version, root + "/boot/"]).status == 0)
            try "not an initramfs\n".write(toFile: root + "/boot/initrd.img-" + version, atomically: true, encoding: .utf8)
        }
        if firstBootWithoutAgent {
            let wants = root + "/etc/systemd/system/sysinit.target.wants"
            try FileManager.default.createDirectory(atPath: wants, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: wants + "/imprint-agent.service", withDestinationPath: "../imprint-agent.service")
        }
        let image = folder.file(name)
        let captured = imprint(["capture", "--root", root, "-o", image, "--model", "OptiPlex 7090"], in: folder)
        #expect(captured.status == 0, "\(captured.err)")
        return image
    }

    func preflight(_ arguments: [String]) -> CommandResult {
        imprint(["preflight"] + arguments + ["--group", "LAB"], in: folder)
    }

    /// The `--json` report's units by name.
    static func units(_ result: CommandResult) throws -> [String: [String: Any]] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any], "\(result.out) \(result.err)")
        let units = try #require(object["units"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: units.map { ($0["unit"] as? String ?? "", $0) })
    }

    static func failures(_ unit: [String: Any]?) -> [(check: String, message: String, fix: String)] {
        ((unit?["failures"] as? [[String: Any]]) ?? []).map { ($0["check"] as? String ?? "", $0["message"] as? String ?? "", $0["fix"] as? String ?? "") }
    }

    /// Runs SQL on the room's inventory, as an inventory from before a check (or edited by hand) would hold it.
    func sql(_ statement: String) throws {
        let result = try runProcess("/usr/bin/sqlite3", [inventory, statement])
        #expect(result.status == 0, "\(result.error)")
    }
}

@Suite(.serialized) struct PreflightTests {
    /// The seed's example: the group's printer needs a PPD the image lacks, so preflight names every OptiPlex unit
    /// with the PPD and what to do, and the ThinkCentre for its model, exit 3; the fixed image passes them all, with
    /// netplan, cupsd and sshd having read what each unit gets; neither the inventory nor the images change.
    @Test func missingPPDNamesEveryUnitAndTheFixedImagePasses() throws {
        let room = try PreflightRoom()
        let broken = try room.image("lab-broken.img", withPPD: false)
        let fixed = try room.image("lab-fixed.img", withPPD: true)
        let before = try runProcess("/usr/bin/sha256sum", [room.inventory, broken, fixed]).output

        let failing = room.preflight([broken, "--json"])
        #expect(failing.status == ExitStatus.preflightFailed.rawValue, "\(failing.err)")
        let units = try PreflightRoom.units(failing)
        #expect(units.keys.sorted() == ["LAB-01", "LAB-02", "LAB-03", "LAB-04"])
        for name in ["LAB-01", "LAB-02", "LAB-03"] {
            let first = PreflightRoom.failures(units[name]).first
            #expect(units[name]?["passed"] as? Bool == false)
            #expect(first?.check == "printer-driver", "\(name): \(String(describing: first))")
            #expect(first?.message.contains(PreflightRoom.ppd) == true && first?.message.contains("office-laser") == true)
            #expect(first?.fix.contains("driver") == true)
            // Named once, and the unit's network is still checked.
            #expect(PreflightRoom.failures(units[name]).map(\.check) == ["printer-driver"])
            #expect(units[name]?["checkedBy"] as? [String] == ["netplan generate"])
        }
        let other = PreflightRoom.failures(units["LAB-04"]).first
        #expect(other?.check == "model" && other?.message.contains("ThinkCentre M70q") == true, "\(String(describing: other))")

        let text = room.preflight([broken])
        #expect(text.status == ExitStatus.preflightFailed.rawValue)
        #expect(text.out.contains("LAB-02  FAIL    printer-driver: printer office-laser uses the PPD \(PreflightRoom.ppd)"), "\(text.out)")
        #expect(text.out.contains("0 of 4 units of LAB pass, 4 fail"), "\(text.out)")

        let passing = room.preflight([fixed, "--unit", "LAB-01", "--unit", "LAB-02", "--unit", "LAB-03", "--json"])
        #expect(passing.status == 0, "\(passing.out) \(passing.err)")
        let fixedUnits = try PreflightRoom.units(passing)
        for name in ["LAB-01", "LAB-02", "LAB-03"] {
            #expect(fixedUnits[name]?["passed"] as? Bool == true, "\(name): \(PreflightRoom.failures(fixedUnits[name]))")
            #expect(fixedUnits[name]?["checkedBy"] as? [String] == ["netplan generate", "cupsd + lpstat"])
        }
        let report = try #require(try JSONSerialization.jsonObject(with: Data(passing.out.utf8)) as? [String: Any])
        #expect((report["imageCheckedBy"] as? [String])?.contains("sshd -t") == true, "\(report)")
        #expect(report["passed"] as? Int == 3 && report["failed"] as? Int == 0)
        #expect(try JSONFieldTests().keys(passing.out) == JSONFieldTests().documentedFields()["preflight"], "README's JSON table")

        #expect(try runProcess("/usr/bin/sha256sum", [room.inventory, broken, fixed]).output == before)
    }

    /// The unit's name is looked up with the image's own getent and nsswitch.conf in a chroot of the restored copy,
    /// over the /etc/hosts the unit would get (also when the image has none): with 'hosts: files' it resolves; with 'hosts: dns' alone (and no
    /// network in the namespace) it does not, and the unit is named with what to fix.
    @Test func hostnameResolvesThroughTheImagesNsswitch() throws {
        let room = try PreflightRoom()
        // No /etc/hosts in the image, as in a debootstrap: the one the unit would get is the one looked in.
        let files = try room.image("lab-files.img", withPPD: true, nsswitch: "passwd: files\nhosts: files\n", withHosts: false)
        let passing = room.preflight([files, "--unit", "LAB-01", "--json"])
        #expect(passing.status == 0, "\(passing.out) \(passing.err)")
        #expect(try PreflightRoom.units(passing)["LAB-01"]?["checkedBy"] as? [String] == ["getent hosts", "netplan generate", "cupsd + lpstat"])

        let dnsOnly = try room.image("lab-dns.img", withPPD: true, nsswitch: "passwd: files\nhosts: dns\n")
        let failing = room.preflight([dnsOnly, "--unit", "LAB-01", "--json"])
        #expect(failing.status == ExitStatus.preflightFailed.rawValue)
        let first = PreflightRoom.failures(try PreflightRoom.units(failing)["LAB-01"]).first
        #expect(first?.check == "hostname" && first?.message.hasPrefix("LAB-01 does not resolve in the image") == true, "\(String(describing: first))")
        #expect(first?.fix.contains("nsswitch.conf") == true)
    }

    /// An image whose own netplan file (one the agent keeps: it binds no card) netplan refuses fails every unit it
    /// would go to, with netplan's own words.
    @Test func imageNetplanFileRefusedByNetplan() throws {
        let room = try PreflightRoom()
        let image = try room.image(
            "lab.img", withPPD: true, netplan: "network:\n  version: 2\n  renderer: nosuchrenderer\n")
        let result = room.preflight([image, "--unit", "LAB-01", "--unit", "LAB-02", "--json"])
        #expect(result.status == ExitStatus.preflightFailed.rawValue)
        let units = try PreflightRoom.units(result)
        for name in ["LAB-01", "LAB-02"] {
            let first = PreflightRoom.failures(units[name]).first
            #expect(first?.check == "network", "\(name): \(String(describing: first))")
            #expect(first?.message.contains("nosuchrenderer") == true, "\(String(describing: first))")
        }
    }

    /// The master's own static configuration left in the image (a netplan bridge, which binds no card, so the agent
    /// keeps it) holds LAB-02's address: LAB-02 is named for its own address and LAB-01 with LAB-02's name, each
    /// with the file and what to fix; the bridge's DNS server is no address a unit claims.
    @Test func imageKeepsAUnitsAddress() throws {
        let room = try PreflightRoom()
        let image = try room.image(
            "lab.img", withPPD: true,
            netplan: "network:\n  version: 2\n  renderer: networkd\n  bridges:\n    br0:\n      addresses:\n        - 10.20.9.102/24\n"
                + "      nameservers:\n        addresses: [10.20.9.101]\n")
        let result = room.preflight([image, "--unit", "LAB-01", "--unit", "LAB-02", "--json"])
        #expect(result.status == ExitStatus.preflightFailed.rawValue, "\(result.out) \(result.err)")
        let units = try PreflightRoom.units(result)
        let first = PreflightRoom.failures(units["LAB-01"]).first
        #expect(first?.check == "address", "\(String(describing: first))")
        #expect(first?.message == "the image's /etc/netplan/01-netcfg.yaml configures 10.20.9.102, the address of LAB-02, and the unit keeps "
            + "that file: every unit of the image would claim it", "\(String(describing: first))")
        #expect(first?.fix.contains("remove the static address from /etc/netplan/01-netcfg.yaml on the master") == true)
        let second = PreflightRoom.failures(units["LAB-02"]).first
        #expect(second?.message.contains("configures 10.20.9.102, the unit's own address") == true, "\(String(describing: second))")
    }

    /// `--reach` asks the group's driverless printer for its attributes over IPP with ipptool: CUPS's own
    /// ippeveprinter on loopback answers, and the unit passes, checked by ipptool; with the queue pointed at a
    /// loopback port where nothing listens, every unit with it is named with the printer, its URI and what to do.
    /// Without `--reach` no printer is asked.
    @Test func reachAsksEachDriverlessPrinterOverIPP() throws {
        let room = try PreflightRoom()
        let image = try room.image("lab.img", withPPD: true)
        let printer = try AnsweringPrinter()
        defer { printer.stop() }
        func point(at uri: String) {
            let done = imprint(["inventory", "printer", "set", "lab-color", "--uri", uri], in: room.folder)
            #expect(done.status == 0, "\(done.err)")
        }
        point(at: printer.uri)
        let passing = room.preflight([image, "--unit", "LAB-01", "--reach", "--json"])
        #expect(passing.status == 0, "\(passing.out) \(passing.err)")
        #expect(try PreflightRoom.units(passing)["LAB-01"]?["checkedBy"] as? [String] == ["netplan generate", "cupsd + lpstat", "ipptool"])

        point(at: "ipp://127.0.0.1:1/ipp/print")
        let failing = room.preflight([image, "--unit", "LAB-01", "--unit", "LAB-02", "--reach", "--json"])
        #expect(failing.status == ExitStatus.preflightFailed.rawValue, "\(failing.out) \(failing.err)")
        let units = try PreflightRoom.units(failing)
        for name in ["LAB-01", "LAB-02"] {
            let first = PreflightRoom.failures(units[name]).first
            #expect(first?.check == "printer-reach", "\(name): \(String(describing: first))")
            #expect(first?.message.hasPrefix("printer lab-color at ipp://127.0.0.1:1/ipp/print does not answer IPP from here: ") == true)
            #expect(first?.fix.contains("switch the printer on") == true)
        }
        let unasked = room.preflight([image, "--unit", "LAB-01", "--json"])
        #expect(unasked.status == 0, "\(unasked.out) \(unasked.err)")
    }

    /// With the stack forced to NetworkManager, ifupdown or systemd-networkd, each planned unit's files are read by
    /// that stack's own program, and the result lands on the right unit when a unit before it was not planned
    /// (LAB-01, another model).
    @Test(arguments: [("networkmanager", "nmcli --offline"), ("ifupdown", "ifquery"), ("networkd", "systemd-networkd")])
    func eachStackIsReadByItsOwnProgram(stack: String, program: String) throws {
        let room = try PreflightRoom()
        let image = try room.image("lab.img", withPPD: true)
        for arguments in [["inventory", "group", "set", "LAB", "--network-stack", stack], ["inventory", "set", "LAB-01", "--model", "ThinkCentre M70q"]] {
            let done = imprint(arguments, in: room.folder)
            #expect(done.status == 0, "\(done.err)")
        }
        let result = room.preflight([image, "--json"])
        let units = try PreflightRoom.units(result)
        #expect(PreflightRoom.failures(units["LAB-01"]).map(\.check) == ["model"])
        #expect(units["LAB-01"]?["checkedBy"] as? [String] == [])
        for name in ["LAB-02", "LAB-03"] {
            #expect(units[name]?["passed"] as? Bool == true, "\(name): \(PreflightRoom.failures(units[name]))")
            #expect((units[name]?["checkedBy"] as? [String])?.contains(program) == true, "\(name): \(String(describing: units[name]))")
        }
    }

    /// Two units given one static address (an inventory from before the check) are both named, with the other's
    /// name; a pasted netplan document (stored before the inventory checked it) whose gateway lies outside its subnet is named; and an image whose
    /// sshd configuration sshd refuses, and whose first-boot service is enabled without the agent, fails every unit,
    /// saying both.
    @Test func sharedAddressOutsideGatewayAndBrokenSSHD() throws {
        let room = try PreflightRoom()
        let fixed = try room.image("lab.img", withPPD: true)
        try room.sql("""
            UPDATE interface SET addresses = (SELECT i.addresses FROM interface i JOIN unit u ON u.id = i.unitId WHERE u.hostname = 'LAB-01')
            WHERE unitId = (SELECT id FROM unit WHERE hostname = 'LAB-02');
            """)
        // A pasted netplan document stored before the inventory checked gateways (it refuses this one now).
        try room.sql("""
            UPDATE unit SET netplan = 'network:
              version: 2
              ethernets:
                lan:
                  match: {macaddress: "52:54:00:00:09:03"}
                  addresses: [10.20.9.103/24]
                  gateway4: 10.20.99.1
            ' WHERE hostname = 'LAB-03';
            """)
        let result = room.preflight([fixed, "--json"])
        #expect(result.status == ExitStatus.preflightFailed.rawValue, "\(result.err)")
        let units = try PreflightRoom.units(result)
        let first = PreflightRoom.failures(units["LAB-01"]).first
        #expect(first?.check == "address" && first?.message == "10.20.9.101 is also given to LAB-02", "\(String(describing: first))")
        let second = PreflightRoom.failures(units["LAB-02"]).first
        #expect(second?.check == "address" && second?.message == "10.20.9.101 is also given to LAB-01", "\(String(describing: second))")
        let third = PreflightRoom.failures(units["LAB-03"]).first
        #expect(third?.check == "record", "\(String(describing: third))")
        #expect(third?.message.contains("IPv4 gateway '10.20.99.1': is outside the subnet of 10.20.9.103/24") == true, "\(String(describing: third))")
        #expect(PreflightRoom.failures(units["LAB-04"]).first?.check == "model")

        let brokenSSHD = try room.image(
            "lab-sshd.img", withPPD: true, sshdConfig: "PermitRootLogin sometimes\n", firstBootWithoutAgent: true)
        let refused = room.preflight([brokenSSHD, "--unit", "LAB-01", "--json"])
        #expect(refused.status == ExitStatus.preflightFailed.rawValue)
        let imageFailures = PreflightRoom.failures(try PreflightRoom.units(refused)["LAB-01"])
        // The unit's own failure first (its address, still shared), then the image's.
        #expect(imageFailures.map(\.check) == ["address", "agent", "sshd"], "\(imageFailures)")
        #expect(imageFailures.dropFirst().first?.message.contains("/usr/local/sbin/imprint is missing") == true)
        #expect(imageFailures.last?.message.contains("sshd_config line 1: unsupported option \"sometimes\"") == true, "\(imageFailures)")
    }
}

@Suite(.serialized) struct PreflightPageTests {
    static let chromium = "/usr/bin/chromium"

    /// `--html` writes one self-contained page (no script, nothing fetched) that Debian's headless Chromium renders
    /// with the failing units first (LAB-02 for a driverless queue's socket:// URI, LAB-04 for its model), each with what to fix, then the
    /// passing ones; the folder holds the page alone (written atomically); a screenshot is taken to look at.
    @Test func pageListsFailuresFirstInChromium() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.chromium), "Debian's chromium is needed: .ci/setup test")
        let room = try PreflightRoom()
        let image = try room.image("lab.img", withPPD: true)
        // LAB-02 gets a driverless queue whose URI IPP Everywhere cannot use.
        for arguments in [["inventory", "printer", "add", "desk", "--uri", "socket://10.20.9.7:9100"], ["inventory", "set", "LAB-02", "--printer", "desk"]] {
            let done = imprint(arguments, in: room.folder)
            #expect(done.status == 0, "\(done.err)")
        }
        let pages = room.folder.file("pages")
        try FileManager.default.createDirectory(atPath: pages, withIntermediateDirectories: true)
        let page = pages + "/preflight.html"
        let result = room.preflight([image, "--html", page])
        #expect(result.status == ExitStatus.preflightFailed.rawValue, "\(result.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: pages) == ["preflight.html"])
        let source = try String(contentsOfFile: page, encoding: .utf8)
        #expect(!source.contains("<script") && !source.contains("src=") && !source.contains("href="))

        let profile = room.folder.file("chromium-profile")
        let browser = [Self.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                       "--disable-background-networking", "--disable-sync", "--hide-scrollbars", "--user-data-dir=\(profile)"]
        let dom = try runProcess(browser[0], Array(browser.dropFirst()) + ["--dump-dom", "file://\(page)"], timeout: .seconds(120))
        #expect(dom.status == 0, "\(dom.error)")
        let rows = dom.output.matches(of: #/<tr class="unit (pass|fail)" data-unit="([^"]+)" data-result="(pass|fail)">/#)
            .map { "\($0.2)=\($0.3)" }
        #expect(rows == ["LAB-02=fail", "LAB-04=fail", "LAB-01=pass", "LAB-03=pass"], "\(dom.output.prefix(2000))")
        #expect(dom.output.contains("printer desk: the URI socket://10.20.9.7:9100 has the scheme socket; a driverless (everywhere) queue needs ipp://, ipps:// or dnssd://"))
        #expect(dom.output.contains("To fix: give the printer's IPP address: 'imprint inventory printer set desk --uri ipp://HOST/ipp/print'"))
        #expect(dom.output.contains("the unit is a ThinkCentre M70q and the image is for OptiPlex 7090"))
        #expect(dom.output.contains("2 of 4 units pass, 2 fail"))

        let screenshot = room.folder.file("preflight.png")
        let shot = try runProcess(
            browser[0], Array(browser.dropFirst()) + ["--window-size=1280,720", "--screenshot=\(screenshot)", "file://\(page)"],
            timeout: .seconds(120))
        #expect(shot.status == 0, "\(shot.error)")
        let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        // For a person to look at after the run; the test's own copy stays in its temporary folder.
        try? FileManager.default.removeItem(atPath: "/tmp/preflight-page.png")
        try? FileManager.default.copyItem(atPath: screenshot, toPath: "/tmp/preflight-page.png")
    }
}

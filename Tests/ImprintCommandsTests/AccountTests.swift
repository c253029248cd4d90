import Foundation
@testable import ImprintCommands
import ImprintTestSupport
import Testing

@Suite struct AccountTests {
    /// A kiosk account with autologin and a technician's account with a password hash, written into a copy of the
    /// real Debian root: getent in a chroot finds them, pwck -r and grpck -r pass, LightDM's drop-in holds the
    /// documented keys, the hash never shows in a dry run, a second run has nothing to do, and rollback puts the four
    /// account files back byte for byte.
    @Test func accountsInTheDebianRoot() throws {
        let folder = try TemporaryDirectory()
        let root = try folder.copyDebianRoot()
        // The image's own complaints (system users whose homes debootstrap did not make) are made good first, so
        // that pwck judges what Imprint writes.
        let pristine = try runProcess("/usr/sbin/chroot", [root, "pwck", "-r"])
        for match in pristine.output.matches(of: #/directory '([^']+)' does not exist/#) {
            try FileManager.default.createDirectory(atPath: root + match.1, withIntermediateDirectories: true)
        }
        #expect(try runProcess("/usr/sbin/chroot", [root, "pwck", "-r"]).status == 0)
        // LightDM is not in the root: its configuration folder stands for it, and its documented keys are checked.
        try FileManager.default.createDirectory(atPath: root + "/etc/lightdm", withIntermediateDirectories: true)
        let accountFiles = ["/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow"]
        let before = try accountFiles.map { try Data(contentsOf: URL(fileURLWithPath: root + $0)) }

        demo(folder)
        let hash = try runProcess("/usr/bin/openssl", ["passwd", "-6", "-salt", "imprint1", "technician-secret"]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let hashFile = try folder.write("tech.hash", hash + "\n")
        let kiosk = imprint(["inventory", "account", "add", "kiosk", "--group", "RM204", "--autologin", "--groups", "audio,video"], in: folder)
        #expect(kiosk.status == 0, "\(kiosk.err)")
        let tech = imprint(["inventory", "account", "add", "tech", "--unit", "RM204-07", "--password-hash-file", hashFile, "--groups", "sudo"], in: folder)
        #expect(tech.status == 0, "\(tech.err)")
        let listed = imprint(["inventory", "account", "list", "--json"], in: folder).out
        #expect(listed.contains("\"password\" : \"locked\"") && listed.contains("\"password\" : \"********\"") && !listed.contains(hash))

        let facts = fixturePath("demo/facts/RM204-07.json")
        let planned = imprint(["run", "--root", root, "--facts", facts, "--only", "accounts", "--dry-run"], in: folder)
        #expect(planned.status == 0, "\(planned.err)")
        #expect(planned.out.contains("+kiosk:x:1000:1000::/home/kiosk:/bin/bash") && planned.out.contains("+++ b/etc/shadow\n@@ secret:"), "\(planned.out)")
        let json = imprint(["run", "--root", root, "--facts", facts, "--only", "accounts", "--dry-run", "--json"], in: folder)
        #expect(!planned.out.contains(hash) && !json.out.contains(hash) && !json.out.contains("$6$"))

        let applied = imprint(["run", "--root", root, "--facts", facts, "--only", "accounts"], in: folder)
        #expect(applied.status == 0, "\(applied.err)")
        let kioskLine = try runProcess("/usr/sbin/chroot", [root, "getent", "passwd", "kiosk"])
        #expect(kioskLine.status == 0 && kioskLine.output == "kiosk:x:1000:1000::/home/kiosk:/bin/bash\n", "\(kioskLine.output)")
        let groups = try runProcess("/usr/sbin/chroot", [root, "id", "-nG", "kiosk"])
        #expect(groups.output == "kiosk audio video\n", "\(groups.output)")
        #expect(try runProcess("/usr/sbin/chroot", [root, "id", "-nG", "tech"]).output == "tech sudo\n")
        let shadow = try runProcess("/usr/sbin/chroot", [root, "getent", "shadow", "tech", "kiosk"]).output
        #expect(shadow.contains("tech:\(hash):") && shadow.contains("kiosk:!:"), "\(shadow)")
        for check in ["pwck", "grpck"] {
            let result = try runProcess("/usr/sbin/chroot", [root, check, "-r"])
            #expect(result.status == 0, "\(check): \(result.output) \(result.error)")
        }
        let home = try FileManager.default.attributesOfItem(atPath: root + "/home/kiosk")
        #expect((home[.ownerAccountID] as? NSNumber)?.intValue == 1000 && (home[.posixPermissions] as? NSNumber)?.intValue == 0o700)
        #expect(FileManager.default.contents(atPath: root + "/home/kiosk/.bashrc") == FileManager.default.contents(atPath: root + "/etc/skel/.bashrc"))
        #expect(try mode(root + "/etc/shadow") == 0o640, "the shadow file keeps its mode")
        let lightdm = try runProcess("/usr/bin/python3", ["-c", """
            import configparser, glob, sys
            c = configparser.ConfigParser(strict=False)
            c.read(sorted(glob.glob(sys.argv[1] + "/etc/lightdm/lightdm.conf.d/*.conf")))
            print(c["Seat:*"]["autologin-user"], c["Seat:*"]["autologin-user-timeout"])
            """, root])
        #expect(lightdm.output == "kiosk 0\n", "\(lightdm.output) \(lightdm.error)")

        let again = imprint(["run", "--root", root, "--facts", facts, "--only", "accounts"], in: folder)
        #expect(again.out.contains("nothing to do for accounts"), "\(again.out)")
        #expect(imprint(["rollback", "--root", root], in: folder).status == 0)
        #expect(try accountFiles.map { try Data(contentsOf: URL(fileURLWithPath: root + $0)) } == before)
        #expect(!FileManager.default.fileExists(atPath: root + "/home/kiosk"), "the home the run made is gone")
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/lightdm/lightdm.conf.d/50-imprint-autologin.conf"))
    }

    /// GDM's own file keeps its other lines and gets the documented [daemon] keys; a group the image lacks, a shell
    /// it lacks, a bad hash and an autologin with no display manager are refused naming them, nothing written.
    @Test func gdmAndBadInput() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let root = try folder.copyFixture("roots/rm204-master", as: "unit")
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: root + "/bin/bash"))
        _ = try folder.write("unit/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
        _ = try folder.write("unit/etc/shadow", "root:*:19000:0:99999:7:::\n")
        _ = try folder.write("unit/etc/group", "root:x:0:\naudio:x:29:\n")
        let facts = fixturePath("demo/facts/RM204-07.json")
        #expect(imprint(["inventory", "account", "add", "kiosk", "--group", "RM204", "--autologin"], in: folder).status == 0)
        let before = try treeState(root)
        let noDisplay = imprint(["run", "--root", root, "--facts", facts, "--only", "accounts"], in: folder)
        #expect(noDisplay.status == 65 && noDisplay.err.contains("the image has neither LightDM (/etc/lightdm) nor GDM"), "\(noDisplay.err)")
        #expect(try treeState(root) == before)

        _ = try folder.write("unit/etc/gdm3/daemon.conf", "# GDM configuration storage\n[daemon]\n#AutomaticLoginEnable = true\nWaylandEnable=false\n\n[security]\n")
        #expect(imprint(["run", "--root", root, "--facts", facts, "--only", "accounts"], in: folder).status == 0)
        let gdm = try runProcess("/usr/bin/python3", ["-c", """
            import configparser, sys
            c = configparser.ConfigParser(strict=False); c.optionxform = str
            c.read(sys.argv[1])
            print(c["daemon"]["AutomaticLoginEnable"], c["daemon"]["AutomaticLogin"], c["daemon"]["WaylandEnable"], "security" in c)
            """, root + "/etc/gdm3/daemon.conf"])
        #expect(gdm.output == "true kiosk false True\n", "\(gdm.output) \(gdm.error)")

        for (arguments, message) in [
            (["exam", "--unit", "RM204-07", "--groups", "nosuchgroup"], "invalid group of account exam 'nosuchgroup': is not a group of the image"),
            (["exam", "--unit", "RM204-07", "--shell", "/bin/zsh"], "invalid shell of account exam '/bin/zsh': is not in the image"),
        ] {
            #expect(imprint(["inventory", "account", "add"] + arguments, in: folder).status == 0)
            let state = try treeState(root)
            let run = imprint(["run", "--root", root, "--facts", facts, "--only", "accounts"], in: folder)
            #expect(run.status == 65 && run.err.contains(message), "\(run.err)")
            #expect(try treeState(root) == state, "nothing written")
        }
        let bad = try folder.write("bad.hash", "plain-password\n")
        let refused = imprint(["inventory", "account", "add", "exam", "--unit", "RM204-07", "--password-hash-file", bad], in: folder)
        #expect(refused.status == 65 && refused.err.contains("invalid password hash '********'") && !refused.err.contains("plain-password"), "\(refused.err)")
        let second = imprint(["inventory", "account", "add", "other", "--group", "RM204", "--autologin"], in: folder)
        #expect(second.status == 65 && second.err.contains("group RM204 already logs kiosk in automatically"), "\(second.err)")
    }
}

import Foundation
import ImprintTestSupport
import Testing

/// The whole-disk proof: the cached bootable master disk captured with --generalize, restored onto a blank disk
/// smaller than the master and onto a larger one with the agent installed, and each booted by UEFI firmware with no
/// boot entry and no `-kernel`: firmware -> fallback loader -> GRUB -> kernel -> fstab mounts by the new UUIDs -> the
/// agent's first boot gives the unit its identity -> sshd serves the unit's new key.
@Suite(.serialized) struct DiskRestoreBootTests {
    static let binary = packageRoot.appendingPathComponent(".build/debug/imprint").path

    /// Reports the unit's state on the serial console once it is up, then powers it off.
    static let checkService = serialCheckService(
        "Boot check for the test: report and power off", after: "ssh.service imprint-agent.service multi-user.target", script: """
        echo "CHECK hostname=$(hostname)"; echo "CHECK root=$(findmnt -n -r -o UUID /)"; \
        echo "CHECK esp=$(findmnt -n -r -o UUID /boot/efi)"; echo "CHECK agent=$(systemctl is-active imprint-agent.service)"; \
        echo "CHECK ssh=$(systemctl is-active ssh.service)"; \
        timeout -s KILL 90 ssh-keyscan -T 30 -t ed25519 127.0.0.1 > /tmp/scan; ssh-keygen -lf /tmp/scan | sed "s/^/CHECK key=/"; \
        systemctl --failed --no-legend --plain | sed "s/^/CHECK failed: /"; echo "CHECK done"
        """)

    /// The unit RM204-07's DMI identity, as BootTests gives it.
    static let smbios = demoUnitSMBIOS

    /// The demo inventory, and a copy of the cached master disk `variant` captured with --generalize.
    func capturedMaster(_ variant: MasterDisk, in folder: TemporaryDirectory) throws -> (master: String, image: String, environment: [String: String]) {
        demo(folder)
        try FileManager.default.createDirectory(atPath: folder.file("tmp"), withIntermediateDirectories: true)
        let environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TMPDIR": folder.file("tmp"), "IMPRINT_INVENTORY": folder.file("inventory.db")]
        let master = try folder.copyMasterDisk(variant, as: "master.img")
        let image = folder.file("master.imprint")
        let capture = try runProcess(Self.binary, ["capture", "--disk", master, "-o", image, "--model", "OptiPlex 7090", "--generalize"],
                                     environment: environment)
        #expect(capture.status == 0, "\(capture.error)")
        return (master, image, environment)
    }

    /// What a technician's live system does, run at boot on a copy of the master disk: restores the image from the
    /// third disk onto the second (/dev/vdb) with the imprint beside it, then prints the firmware's boot entries.
    static let liveRestoreService = serialCheckService(
        "Restore onto /dev/vdb as a live system does", after: "local-fs.target systemd-udev-settle.service", timeoutSeconds: 1500, script: """
        mkdir -p /run/media && mount -o ro /dev/vdc /run/media && \
        /run/media/imprint restore /run/media/master.imprint --disk /dev/vdb; echo "CHECK restore=$?"; \
        efibootmgr -v | sed "s/^/CHECK efi /"; echo "CHECK done"
        """)

    /// The firmware's boot entry, for real: a copy of the master disk boots in OVMF as a technician's live system and
    /// restores the image onto a blank second disk, which gets a firmware entry (`efibootmgr` in the guest, against
    /// OVMF's NVRAM) first in the boot order, naming its new ESP's PARTUUID and the vendor's shim. Then the unit's
    /// disk boots alone with those variables, and the firmware started it through that entry (`BootCurrent`), not the
    /// fallback path.
    @Test func liveRestoreMakesTheBootEntryTheFirmwareStarts() throws {
        let folder = try TemporaryDirectory()
        let (live, image, _) = try capturedMaster(.plain, in: folder)
        let media = folder.file("media")
        try FileManager.default.createDirectory(atPath: media, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: try staticImprintBinary(), toPath: media + "/imprint")
        try FileManager.default.moveItem(atPath: image, toPath: media + "/master.imprint")
        let mediaDisk = folder.file("media.img")
        let made = try runProcess("/sbin/mkfs.ext4", ["-q", "-d", media, mediaDisk, "2G"])
        #expect(made.status == 0, "\(made.error)")
        let unit = folder.file("unit.img")
        #expect(try runProcess("/usr/bin/truncate", ["-s", "4G", unit]).status == 0)
        try addBootCheck(Self.liveRestoreService, toDisk: live, root: try diskPartitions(live)[1])

        let restoring = try bootUEFI(
            disk: live, in: folder, name: "live", smbios: Self.smbios, timeout: 1500, moreDisks: [unit, mediaDisk])
        let console = restoring.console
        #expect(restoring.status == 0, "qemu: \(restoring.error)\n\(console.suffix(3000))")
        #expect(console.contains("CHECK restore=0"), "\(console.suffix(5000))")
        #expect(console.contains("boot entry    debian: \\EFI\\debian\\shimx64.efi on partition 1, first in the firmware's boot order"),
                "\(console.suffix(5000))")
        let esp = try #require(try diskPartitions(unit).first)
        let entry = try #require(console.firstMatch(of: #/CHECK efi Boot([0-9A-F]{4})\* debian\s+(\S+)/#), "\(console.suffix(5000))")
        #expect(entry.2.lowercased().contains(esp.uuid.lowercased()) && entry.2.contains("shimx64.efi"), "\(entry.2)")
        #expect(console.contains("CHECK efi BootOrder: \(entry.1)"), "\(console.suffix(5000))")

        let rootUUID = try #require(try partitionProbe(unit, try diskPartitions(unit)[1])["UUID"])
        try addBootCheck(Self.checkService.replacingOccurrences(
            of: "echo \"CHECK done\"", with: "efibootmgr | sed \"s/^/CHECK efi /\"; echo \"CHECK done\""), toDisk: unit, root: try diskPartitions(unit)[1])
        let booted = try bootUEFI(disk: unit, in: folder, name: "unit", smbios: Self.smbios, timeout: 600, variables: folder.file("live.vars"))
        #expect(booted.status == 0, "qemu: \(booted.error)\n\(booted.console.suffix(3000))")
        #expect(booted.console.contains("CHECK root=\(rootUUID)"), "\(booted.console.suffix(3000))")
        #expect(booted.console.contains("CHECK efi BootCurrent: \(entry.1)"), "\(booted.console.suffix(3000))")
        #expect(booted.console.contains("CHECK done"))
        print("live restore in the guest and the unit's boot: \(Int(restoring.seconds)) s and \(Int(booted.seconds)) s")
    }

    @Test func restoredDisksBootAsTheUnit() throws {
        let folder = try TemporaryDirectory()
        let (master, image, environment) = try capturedMaster(.plain, in: folder)
        let masterIDs = try Set(diskPartitions(master).map { try partitionProbe(master, $0)["UUID"] ?? "" })

        // Smaller: the master's 3 GiB less what the root does not use, with room for its margin; larger: 5 GiB.
        let inspected = try runProcess(Self.binary, ["inspect", image, "--json"], environment: environment)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(inspected.output.utf8)) as? [String: Any])
        let partitions = try #require(((json["manifest"] as? [String: Any])?["disk"] as? [String: Any])?["partitions"] as? [[String: Any]])
        let used = try #require((partitions[1]["fileSystem"] as? [String: Any])?["usedBytes"] as? Int)
        let smaller = (used + used / 10 + (128 + 128 + 256) << 20) >> 20
        #expect(smaller < 3072, "the smaller disk must be smaller than the master")

        for (name, megabytes) in [("smaller", smaller), ("larger", 5120)] {
            let disk = folder.file("\(name).img")
            #expect(try runProcess("/usr/bin/truncate", ["-s", "\(megabytes)M", disk]).status == 0)
            let restore = try runProcess(Self.binary, [
                "restore", image, "--disk", disk, "--facts", fixturePath("demo/facts/RM204-07.json"), "--install-agent",
                "--agent-binary", try staticImprintBinary(),
            ], environment: environment)
            #expect(restore.status == 0, "\(restore.error)")
            let laid = try diskPartitions(disk)
            let esp = try partitionProbe(disk, laid[0])
            let root = try partitionProbe(disk, laid[1])
            let rootUUID = try #require(root["UUID"]), espUUID = try #require(esp["UUID"])
            #expect(masterIDs.isDisjoint(with: [rootUUID, espUUID]))
            try addBootCheck(Self.checkService, toDisk: disk, root: laid[1])

            let first = try bootUEFI(disk: disk, in: folder, name: "\(name)-first", smbios: Self.smbios, timeout: 600)
            let console = first.console
            #expect(first.status == 0, "qemu: \(first.error)\n\(console.suffix(3000))")
            #expect(console.contains("root=UUID=\(rootUUID)"), "GRUB must boot the new root: \(console.suffix(3000))")
            #expect(console.contains("CHECK hostname=RM204-07"), "\(console.suffix(3000))")
            #expect(console.contains("CHECK root=\(rootUUID)"))
            #expect(console.contains("CHECK esp=\(espUUID)"))
            #expect(console.contains("CHECK agent=active"))
            #expect(console.contains("CHECK ssh=active"))
            #expect(!console.contains("CHECK failed:"), "\(console.suffix(3000))")
            #expect(console.contains("CHECK done"))
            #expect(console.components(separatedBy: "  hostname    /etc/hostname").count == 2, "the agent must run once")
            let agentKey = try #require(console.firstMatch(of: #/host key +ed25519 +(SHA256:[A-Za-z0-9+\/]+)/#)?.1)
            #expect(console.contains("CHECK key=256 \(agentKey) "))
            // A second boot's agent doing nothing is BootTests' and ServerBootTests' (the boot path does not change
            // it): one OVMF boot less keeps the suite inside its time.
            print("\(name) disk (\(megabytes) MiB): UEFI first boot to power-off in \(Int(first.seconds)) s")
        }
    }

    /// The master with /home and swap, restored and personalized at once (`--personalize`) onto a disk of its own
    /// size, boots with Secure Boot on (shim, signed GRUB, signed kernel) as the unit: /, /boot/efi, /home and swap
    /// on their new UUIDs, the resume setting naming the new swap (in the initramfs too, made again), the pupil's file
    /// in /home, nothing failed.
    @Test func homeAndSwapPersonalizedBootsSecurely() throws {
        let folder = try TemporaryDirectory()
        let (_, image, environment) = try capturedMaster(.home, in: folder)
        let disk = folder.file("unit.img")
        #expect(try runProcess("/usr/bin/truncate", ["-s", "4G", disk]).status == 0)
        let restore = try runProcess(Self.binary, [
            "restore", image, "--disk", disk, "--facts", fixturePath("demo/facts/RM204-07.json"), "--personalize",
        ], environment: environment)
        #expect(restore.status == 0, "\(restore.error)")
        #expect(restore.output.contains("RM204-07 (revision 1): applied run"), "\(restore.output)")
        #expect(restore.output.contains("/etc/initramfs-tools/conf.d/resume: 1 rewritten"), "\(restore.output)")
        #expect(restore.output.contains("initramfs     made again"), "\(restore.output)")
        let laid = try diskPartitions(disk)
        let ids = try laid.map { try #require(try partitionProbe(disk, $0)["UUID"]) }
        let check = Self.checkService.replacingOccurrences(
            of: "echo \"CHECK esp=", with: "echo \"CHECK home=$(findmnt -n -r -o UUID /home)\"; echo \"CHECK swap=$(swapon --show=UUID --noheadings)\"; "
                + "echo \"CHECK notes=$(cat /home/pupil/notes.txt)\"; "
                + "unmkinitramfs /boot/initrd.img-$(uname -r) /tmp/initrd >/dev/null 2>&1; "
                + "echo \"CHECK initrd-$(cat /tmp/initrd/main/conf/conf.d/resume /tmp/initrd/conf/conf.d/resume 2>/dev/null)\"; echo \"CHECK esp=")
        try addBootCheck(check, toDisk: disk, root: laid[1])
        let boot = try bootUEFI(disk: disk, in: folder, secureBoot: true, smbios: Self.smbios, timeout: 600)
        let console = boot.console
        #expect(boot.status == 0, "qemu: \(boot.error)\n\(console.suffix(3000))")
        #expect(console.contains("Secure boot enabled"), "\(console.prefix(4000))")
        #expect(console.contains("CHECK hostname=RM204-07"), "\(console.suffix(3000))")
        #expect(console.contains("CHECK root=\(ids[1])"))
        #expect(console.contains("CHECK esp=\(ids[0])"))
        #expect(console.contains("CHECK swap=\(ids[2])"))
        // The initramfs was made again on the restored system: it resumes from the new swap, not the master's.
        #expect(console.contains("CHECK initrd-RESUME=UUID=\(ids[2])"), "\(console.suffix(3000))")
        #expect(console.contains("CHECK home=\(ids[3])"))
        #expect(console.contains("CHECK notes=Notes of a pupil"))
        // Personalized before its first boot: sshd serves the key the restore's agent run made.
        let madeKey = try #require(restore.output.firstMatch(of: #/host key +ed25519 +(SHA256:[A-Za-z0-9+\/]+)/#)?.1)
        #expect(console.contains("CHECK key=256 \(madeKey) "), "\(console.suffix(3000))")
        #expect(!console.contains("CHECK failed:"), "\(console.suffix(3000))")
        #expect(console.contains("CHECK done"))
    }
}

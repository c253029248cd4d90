import Foundation
import ImprintTestSupport
import Testing

/// The master disks the whole-disk tests start from (`.ci/debian-disk`) boot as a UEFI PC boots them: firmware with
/// no boot entry -> the fallback loader (shim) -> signed GRUB -> its config on the ESP -> /boot/grub/grub.cfg on the
/// root found by UUID -> kernel -> fstab mounts by UUID. Each test boots its own sparse copy; the cache is never
/// written.
@Suite(.serialized) struct DiskBootTests {
    /// A test-only service that reports the mounts to the serial console once the system is up, then powers off.
    static let checkService = """
        [Unit]
        Description=Boot check for the test: report the mounts and power off
        After=multi-user.target

        [Service]
        Type=oneshot
        StandardOutput=tty
        StandardError=tty
        TTYPath=/dev/ttyS0
        ExecStart=/bin/sh -c 'echo "CHECK hostname=$(hostname)"; echo "CHECK root=$(findmnt -n -r -o SOURCE,UUID,FSTYPE /)"; \
        echo "CHECK esp=$(findmnt -n -r -o SOURCE,UUID,FSTYPE /boot/efi)"; echo "CHECK home=$(findmnt -n -r -o SOURCE,UUID,FSTYPE /home)"; \
        echo "CHECK swap=$(swapon --show=NAME,UUID --noheadings --raw)"; echo "CHECK loader=$(ls /boot/efi/EFI/BOOT | tr "\\n" " ")"; \
        systemctl --failed --no-legend --plain | sed "s/^/CHECK failed: /"; echo "CHECK done"'
        # Power off whatever happens, so a hung check fails the test instead of holding it.
        TimeoutStartSec=120
        ExecStopPost=/bin/systemctl poweroff --no-block

        [Install]
        WantedBy=multi-user.target

        """

    /// Copies the cached `variant`, adds the check service to its root (the serial console stays the test's, no
    /// login on it) and boots it once; returns the copy's partitions and the boot.
    func bootCopy(_ variant: MasterDisk, _ folder: TemporaryDirectory, secureBoot: Bool) throws -> (partitions: [DiskPartition], boot: UEFIBoot) {
        let disk = try folder.copyMasterDisk(variant)
        let partitions = try diskPartitions(disk)
        let root = try #require(partitions.first { $0.type == "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709" })
        let units = "/etc/systemd/system"
        try writeExt4(
            disk, root, files: ["\(units)/imprint-boot-check.service": Self.checkService],
            symlinks: [
                "\(units)/multi-user.target.wants/imprint-boot-check.service": "\(units)/imprint-boot-check.service",
                "\(units)/serial-getty@ttyS0.service": "/dev/null",
            ])
        return (partitions, try bootUEFI(disk: disk, in: folder, secureBoot: secureBoot, timeout: 420))
    }

    /// The plain master (ESP + root) boots through the fallback path with Secure Boot on: shim, the signed GRUB
    /// reading \EFI\debian\grub.cfg, the signed kernel, and the root and the ESP mounted by the UUIDs on the disk.
    @Test func plainMasterBootsThroughTheFallbackLoader() throws {
        let folder = try TemporaryDirectory()
        let (partitions, boot) = try bootCopy(.plain, folder, secureBoot: true)
        #expect(partitions.map(\.type) == ["C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"])
        let esp = try partitionProbe(folder.file("disk.img"), partitions[0])
        let root = try partitionProbe(folder.file("disk.img"), partitions[1])
        #expect(esp["TYPE"] == "vfat" && root["TYPE"] == "ext4")
        let espUUID = try #require(esp["UUID"]), rootUUID = try #require(root["UUID"])

        let console = boot.console
        #expect(boot.status == 0, "qemu: \(boot.error)\n\(console.suffix(3000))")
        // The firmware found no boot entry and started the removable-media path; GRUB then loaded the kernel.
        #expect(console.contains("BdsDxe: starting Boot0002 \"UEFI Misc Device\""), "\(console.prefix(3000))")
        #expect(console.contains("Welcome to GRUB!"))
        // GRUB found its prefix \EFI\debian and read grub.cfg there: had it not, its built-in config would have
        // searched for a CD's /.disk/info before trying the folder it was started from.
        #expect(!console.contains("/.disk/info"))
        #expect(console.contains("Loading Linux "))
        #expect(console.contains("secureboot: Secure boot enabled"))
        #expect(console.contains("root=UUID=\(rootUUID)"))
        #expect(console.contains("CHECK hostname=master"))
        #expect(console.contains("CHECK root=/dev/vda2 \(rootUUID) ext4"), "\(console.suffix(3000))")
        #expect(console.contains("CHECK esp=/dev/vda1 \(espUUID) vfat"))
        #expect(console.contains("CHECK loader=BOOTX64.EFI grub.cfg grubx64.efi mmx64.efi "))
        #expect(!console.contains("CHECK failed:"))
        #expect(console.contains("CHECK done"))
        print("plain master disk: UEFI boot to power-off in \(Int(boot.seconds)) s")
    }

    /// The master with a separate /home and swap boots the same way (Secure Boot off, as many school PCs are set)
    /// and mounts /home and turns swap on by UUID.
    @Test func masterWithHomeAndSwapBoots() throws {
        let folder = try TemporaryDirectory()
        let (partitions, boot) = try bootCopy(.home, folder, secureBoot: false)
        #expect(partitions.map(\.type) == [
            "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709",
            "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
        ])
        let probes = try partitions.map { try partitionProbe(folder.file("disk.img"), $0) }
        #expect(probes.map { $0["TYPE"] } == ["vfat", "ext4", "swap", "ext4"])
        let uuids = try probes.map { try #require($0["UUID"]) }

        let console = boot.console
        #expect(boot.status == 0, "qemu: \(boot.error)\n\(console.suffix(3000))")
        #expect(console.contains("root=UUID=\(uuids[1])"))
        #expect(console.contains("secureboot: Secure boot disabled"))
        #expect(console.contains("CHECK hostname=master"))
        #expect(console.contains("CHECK root=/dev/vda2 \(uuids[1]) ext4"), "\(console.suffix(3000))")
        #expect(console.contains("CHECK esp=/dev/vda1 \(uuids[0]) vfat"))
        #expect(console.contains("CHECK home=/dev/vda4 \(uuids[3]) ext4"))
        #expect(console.contains("CHECK swap=/dev/vda3 \(uuids[2])"))
        #expect(!console.contains("CHECK failed:"))
        #expect(console.contains("CHECK done"))
        print("master disk with /home and swap: UEFI boot to power-off in \(Int(boot.seconds)) s")
    }
}

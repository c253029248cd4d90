import Foundation
import ImprintPreflight

/// A bootable UEFI master disk of the Debian root (`.ci/debian-disk`, cached outside the repository; the first call
/// builds it, which takes a minute or two after the root). Read it, never write or boot it: copy it with
/// `copyMasterDisk` first.
/// - Parameters:
///   - variant: `.plain` (ESP + root) or `.home` (ESP + root + swap + a separate /home).
public func masterDisk(_ variant: MasterDisk = .plain) throws -> String {
    let result = try runProcess("/bin/bash", [packageRoot.appendingPathComponent(".ci/debian-disk").path, variant.rawValue])
    guard result.status == 0, let path = result.output.split(separator: "\n").last.map(String.init) else {
        throw TestSupportError("'.ci/debian-disk \(variant.rawValue)' failed: \(result.error)")
    }
    return path
}

/// The layouts `.ci/debian-disk` builds.
public enum MasterDisk: String, Sendable, CaseIterable {
    /// 3 GiB: 1 ESP (vfat, 128 MiB), 2 root (ext4, type "Linux root x86-64", the rest).
    case plain
    /// 4 GiB: 1 ESP (vfat, 128 MiB), 2 root (ext4, 2 GiB), 3 swap (256 MiB), 4 /home (ext4, generic Linux type, the rest).
    case home
}

extension TemporaryDirectory {
    /// A private, sparse copy of a cached master disk (`masterDisk`) under this folder, at `name`.
    public func copyMasterDisk(_ variant: MasterDisk = .plain, as name: String = "disk.img") throws -> String {
        let target = file(name)
        let copy = try runProcess("/bin/cp", ["--sparse=always", "--reflink=auto", try masterDisk(variant), target])
        guard copy.status == 0 else { throw TestSupportError("cannot copy the master disk: \(copy.error)") }
        return target
    }
}

/// One partition of a GPT disk image, as `sfdisk --json` reads it.
public struct DiskPartition: Sendable, Equatable {
    public var number: Int
    /// Offset from the start of the disk, in bytes.
    public var start: Int
    /// In bytes.
    public var size: Int
    /// The GPT type GUID, upper case.
    public var type: String
    /// The partition's own GUID (PARTUUID), upper case.
    public var uuid: String
    public var name: String
}

/// The partitions of the GPT disk image `disk`, read by `sfdisk --json`.
public func diskPartitions(_ disk: String) throws -> [DiskPartition] {
    let dump = try runProcess("/usr/sbin/sfdisk", ["--json", disk])
    guard dump.status == 0 else { throw TestSupportError("sfdisk --json \(disk): \(dump.error)") }
    struct Dump: Decodable {
        struct Table: Decodable {
            struct Entry: Decodable {
                var node: String, start: Int, size: Int, type: String, uuid: String, name: String?
            }
            var sectorsize: Int
            var partitions: [Entry]
        }
        var partitiontable: Table
    }
    let table = try JSONDecoder().decode(Dump.self, from: Data(dump.output.utf8)).partitiontable
    return table.partitions.enumerated().map { index, entry in
        DiskPartition(
            number: index + 1, start: entry.start * table.sectorsize, size: entry.size * table.sectorsize,
            type: entry.type.uppercased(), uuid: entry.uuid.uppercased(), name: entry.name ?? "")
    }
}

/// What `blkid` finds in `partition` of `disk` (TYPE, UUID, LABEL, ...), probed at the partition's offset.
public func partitionProbe(_ disk: String, _ partition: DiskPartition) throws -> [String: String] {
    let probe = try runProcess("/usr/sbin/blkid", ["-p", "-o", "export", "-O", String(partition.start), disk])
    guard probe.status == 0 else { throw TestSupportError("blkid at offset \(partition.start) of \(disk): \(probe.error)") }
    var fields: [String: String] = [:]
    for line in probe.output.split(separator: "\n") {
        let pair = line.split(separator: "=", maxSplits: 1).map(String.init)
        if pair.count == 2 { fields[pair[0]] = pair[1] }
    }
    return fields
}

/// Writes files and symbolic links into the ext4 file system of `partition` of `disk`, with debugfs at the
/// partition's offset: no mount, no loop device. Parent folders must exist; an existing file is replaced.
/// - Parameters:
///   - files: path in the file system -> text (written mode 0644, owned by root).
///   - symlinks: path in the file system -> link target.
/// - Important: writes into `disk`: only ever a test's own copy.
public func writeExt4(_ disk: String, _ partition: DiskPartition, files: [String: String] = [:], symlinks: [String: String] = [:]) throws {
    let scratch = try TemporaryDirectory("imprint-debugfs")
    var commands: [String] = []
    for (index, (path, text)) in files.sorted(by: { $0.key < $1.key }).enumerated() {
        let source = try scratch.write("file\(index)", text)
        guard chmod(source, 0o644) == 0 else { throw TestSupportError("chmod \(source)") }
        commands += ["rm \(path)", "write \(source) \(path)"]
    }
    for (path, target) in symlinks.sorted(by: { $0.key < $1.key }) {
        commands += ["rm \(path)", "symlink \(path) \(target)"]
    }
    let script = try scratch.write("commands", commands.joined(separator: "\n") + "\n")
    let run = try runProcess("/sbin/debugfs", ["-w", "-f", script, "\(disk)?offset=\(partition.start)"])
    // debugfs exits 0 whatever a command did: its complaints are on stderr. "rm" of a path not there yet is expected.
    let complaints = run.error.split(separator: "\n").filter {
        !$0.hasPrefix("debugfs ") && !$0.contains("File not found by ext2_lookup")
    }
    guard run.status == 0, complaints.isEmpty else {
        throw TestSupportError("debugfs on \(disk) at \(partition.start): \(run.error)")
    }
}

/// Boots `disk` in qemu as a UEFI PC would, as preflight --boot boots a whole disk (`UEFIBoot`): OVMF firmware
/// (read-only code; a fresh copy of its variables unless `variables` says, so there is no boot entry and only the
/// fallback loader `\EFI\BOOT\BOOTX64.EFI` can start), the disk on virtio, no `-kernel`.
/// With `secureBoot`, the firmware has Microsoft's keys enrolled and Secure Boot on, as a PC from a shop: only a
/// signed chain boots (shim signed by Microsoft, then GRUB and the kernel signed by Debian).
/// The machine is killed after `timeout` seconds, so a hung boot fails the test instead of holding it; a guest that
/// powers off ends it early.
/// - Parameters:
///   - folder: where the variables copy and the console log go (`<name>.vars`, `<name>.log`).
///   - smbios: `-smbios` values (`type=1,serial=...`), for the facts a unit is matched by.
///   - nic: the `-nic` value; `none` by default (no network).
///   - moreDisks: disks after `disk`, on virtio too (the guest's /dev/vdb, /dev/vdc, ...).
///   - variables: the firmware's variables to boot with, and keep as the guest leaves them (an earlier boot's
///     `<name>.vars`, holding the boot entries that guest made), instead of a fresh copy.
public func bootUEFI(
    disk: String, in folder: TemporaryDirectory, name: String = "boot", secureBoot: Bool = false, memory: Int = 1024,
    cpus: Int = 2, smbios: [String] = [], nic: String = "none", timeout: Int = 600, moreDisks: [String] = [], variables: String? = nil
) throws -> BootOutcome {
    var machine = UEFIBoot(
        disks: [disk] + moreDisks, console: folder.file("\(name).log"), variables: variables ?? folder.file("\(name).vars"),
        nics: nic == "none" ? [] : [nic], smbios: smbios, timeout: .seconds(timeout))
    machine.blankVariables = variables == nil
    machine.secureBoot = secureBoot
    machine.memoryMiB = memory
    machine.cpus = cpus
    guard FileManager.default.fileExists(atPath: machine.code) else { throw TestSupportError("\(machine.code) is missing; run 'bash .ci/setup test'") }
    return try machine.run()
}

/// The demo unit RM204-07's firmware identifiers, as qemu's `-smbios` values give them to a guest.
public let demoUnitSMBIOS = [
    "type=1,manufacturer=Dell Inc.,product=OptiPlex 7090,serial=7XK07QF9,uuid=4c4c4544-0007-4b10-805b-b7c04f513f34",
    "type=3,asset=SCH-4007",
]

/// Boots `disk` (an ext4 file system made from `root`, the whole disk) as preflight --boot does
/// (`DirectKernelBoot`), on the root's own kernel and initramfs, as the demo unit RM204-07 (its DMI identifiers and
/// MAC), until it powers off; the serial console goes to `console`, which it returns.
/// - Parameters:
///   - network: qemu's `-nic` value; the default is a user-mode network with the unit's MAC.
public func bootDirectKernel(
    root: String, disk: String, console: String, network: String = "user,model=virtio-net-pci,mac=3c:52:82:20:04:07"
) throws -> (status: Int32, error: String, console: String) {
    guard let found = DirectKernelBoot.kernel(inRoot: root) else {
        throw TestSupportError("\(root)/boot has no vmlinuz-* and initrd.img-*")
    }
    let booted = try DirectKernelBoot(
        kernel: root + found.kernel, initrd: root + found.initrd, disk: disk, console: console, nics: [network], smbios: demoUnitSMBIOS,
        timeout: .seconds(900)
    ).run()
    return (booted.status ?? 9, booted.timedOut ? "killed after 900 s" : booted.error, booted.console)
}

/// A oneshot systemd service a test adds to a guest (`BootCheckService`): runs `script` (shell, given to `sh -c` in
/// single quotes) once the units in `after` are done, with its output on the first serial port, then powers the
/// machine off whatever happened, so a hung check fails the test instead of holding it.
public func serialCheckService(_ description: String, after: String, timeoutSeconds: Int = 240, script: String) -> String {
    BootCheckService(description, after: after, timeoutSeconds: timeoutSeconds, script: script).unitFile
}

/// Adds the check service `unitFile` to the root folder `root` as preflight --boot adds its own
/// (`BootCheckService.enable(inFolder:)`): enabled, the serial console free of a login prompt, networkd's
/// wait-online masked.
public func addBootCheck(_ unitFile: String, toRoot root: String) throws {
    try BootCheckService(unitFile: unitFile).enable(inFolder: root)
}

/// Adds the check service `unitFile` to the ext4 root file system (`partition`) of `disk`, with debugfs: the same
/// files and links as `addBootCheck(_:toRoot:)`.
/// - Important: writes into `disk`: only ever a test's own copy.
public func addBootCheck(_ unitFile: String, toDisk disk: String, root partition: DiskPartition) throws {
    try writeExt4(disk, partition, files: BootCheckService(unitFile: unitFile).files, symlinks: BootCheckService.links)
}

import Foundation
import ImprintCore

/// A root file system image booted by qemu under software emulation (`-accel tcg`: a nested KVM cannot run these
/// guests) on a kernel and initramfs given to qemu (`-kernel`, `-initrd`), with the first serial port written to a
/// file, until the guest powers off or `timeout` has passed (qemu is killed then).
public struct DirectKernelBoot: Sendable, Equatable {
    public static let qemu = "/usr/bin/qemu-system-x86_64"

    public var kernel: String
    public var initrd: String
    /// The raw disk image holding the root file system, the guest's /dev/vda.
    public var disk: String
    /// Where the serial console goes.
    public var console: String
    /// `-nic` values, one per card (`user,model=virtio-net-pci,mac=...`); none gives the guest no network.
    public var nics: [String]
    /// `-smbios` values (`type=1,serial=...`), the firmware identifiers the guest reads from /sys/class/dmi/id.
    public var smbios: [String]
    public var memoryMiB = 1024
    public var cpus = 2
    public var timeout: Duration

    public init(kernel: String, initrd: String, disk: String, console: String, nics: [String], smbios: [String], timeout: Duration) {
        self.kernel = kernel
        self.initrd = initrd
        self.disk = disk
        self.console = console
        self.nics = nics
        self.smbios = smbios
        self.timeout = timeout
    }

    /// The qemu command line.
    public var command: ChildProcess {
        var arguments = [
            "-accel", "tcg", "-machine", "q35", "-m", String(memoryMiB), "-smp", String(cpus), "-nographic", "-no-reboot",
            "-kernel", kernel, "-initrd", initrd, "-append", "root=/dev/vda rw console=ttyS0 panic=-1",
            "-drive", "file=\(disk),if=virtio,format=raw",
        ]
        arguments += nics.isEmpty ? ["-nic", "none"] : nics.flatMap { ["-nic", $0] }
        arguments += smbios.flatMap { ["-smbios", $0] }
        arguments += ["-serial", "file:\(console)", "-display", "none", "-monitor", "none"]
        return ChildProcess(Self.qemu, arguments, timeout: timeout)
    }

    /// Boots the guest and waits until it powers off or the timeout kills it.
    /// - Throws: `CoreError.io` when qemu cannot be started.
    public func run() throws -> BootOutcome {
        try BootOutcome.run(command, console: console)
    }

    /// The newest kernel in `root`'s /boot with its initramfs beside it (`vmlinuz-V` and `initrd.img-V`, Debian's
    /// names), as paths in `root`; nil when there is none.
    public static func kernel(inRoot root: String) -> (kernel: String, initrd: String)? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/boot")) ?? []
        let versions = names.filter { $0.hasPrefix("vmlinuz-") }.map { String($0.dropFirst("vmlinuz-".count)) }
            .filter { names.contains("initrd.img-" + $0) }
            .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
        guard let version = versions.last else { return nil }
        return ("/boot/vmlinuz-" + version, "/boot/initrd.img-" + version)
    }
}

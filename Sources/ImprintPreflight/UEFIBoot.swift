import Foundation
import ImprintCore

/// A disk image booted as a UEFI PC boots it: qemu with OVMF firmware (its code read-only, its variables in a file of
/// this boot's) and the disks on virtio, no `-kernel`, under software emulation (`-accel tcg`: a nested KVM cannot
/// run these guests), with the first serial port written to a file, until the guest powers off or `timeout` has
/// passed (qemu is killed then).
///
/// With blank variables the firmware has no boot entry, so it starts the disk's fallback loader
/// `\EFI\BOOT\BOOTX64.EFI`, as a unit fresh from a restore onto a disk image does.
public struct UEFIBoot: Sendable, Equatable {
    /// Where Debian's ovmf package puts the firmware.
    public static let firmwareFolder = "/usr/share/OVMF"

    /// The raw disk images, on virtio in this order (the guest's /dev/vda, /dev/vdb...): the firmware boots the first.
    public var disks: [String]
    /// Where the serial console goes.
    public var console: String
    /// The firmware's variables (its NVRAM, where the guest's boot entries are kept).
    public var variables: String
    /// Whether `variables` is made anew from the firmware's blank ones before the boot; false boots with it as an
    /// earlier boot left it.
    public var blankVariables = true
    /// Microsoft's keys enrolled and Secure Boot on, as on a PC from a shop: only a signed chain boots (shim signed by
    /// Microsoft, then GRUB and the kernel signed by the vendor).
    public var secureBoot = false
    /// `-nic` values, one per card (`user,model=virtio-net-pci,mac=...`); none gives the guest no network.
    public var nics: [String]
    /// `-smbios` values (`type=1,serial=...`), the firmware identifiers the guest reads from /sys/class/dmi/id.
    public var smbios: [String]
    public var memoryMiB = 1024
    public var cpus = 2
    public var timeout: Duration

    public init(disks: [String], console: String, variables: String, nics: [String], smbios: [String], timeout: Duration) {
        self.disks = disks
        self.console = console
        self.variables = variables
        self.nics = nics
        self.smbios = smbios
        self.timeout = timeout
    }

    /// The 4M builds, code and variables of one pair: the 2M ones do not mix with them.
    var build: String { secureBoot ? "_4M.ms" : "_4M" }
    /// The firmware's code, read-only.
    public var code: String { "\(Self.firmwareFolder)/OVMF_CODE\(build).fd" }
    /// The blank variables that go with `code`.
    public var blank: String { "\(Self.firmwareFolder)/OVMF_VARS\(build).fd" }

    /// The qemu command line.
    public var command: ChildProcess {
        var arguments = [
            "-accel", "tcg", "-machine", "q35", "-m", String(memoryMiB), "-smp", String(cpus), "-no-reboot",
            "-drive", "if=pflash,format=raw,readonly=on,file=\(code)",
            "-drive", "if=pflash,format=raw,file=\(variables)",
        ]
        arguments += disks.flatMap { ["-drive", "file=\($0),format=raw,if=virtio"] }
        arguments += nics.isEmpty ? ["-nic", "none"] : nics.flatMap { ["-nic", $0] }
        arguments += smbios.flatMap { ["-smbios", $0] }
        arguments += ["-serial", "file:\(console)", "-display", "none", "-monitor", "none"]
        return ChildProcess(DirectKernelBoot.qemu, arguments, timeout: timeout)
    }

    /// Boots the first disk (after copying the blank variables, unless told not to) and waits until the guest powers
    /// off or the timeout kills it.
    /// - Throws: when the variables cannot be copied; `CoreError.io` when qemu cannot be started.
    public func run() throws -> BootOutcome {
        if blankVariables {
            try? FileManager.default.removeItem(atPath: variables)
            try FileManager.default.copyItem(atPath: blank, toPath: variables)
        }
        return try BootOutcome.run(command, console: console)
    }
}

import Foundation
import ImprintCore

/// A oneshot systemd service added to a scratch copy of a root before it boots in qemu: once the units it waits for
/// are done it runs a shell script with its output on the first serial port (the only view the host has), then
/// powers the machine off whatever happened, so a hung check ends the boot instead of holding it.
///
/// One definition of what enabling it takes, applied to a folder (`enable(inFolder:)`, before `mkfs.ext4 -d`) or,
/// by the tests, written into an ext4 file system with debugfs from `files` and `links`.
public struct BootCheckService: Sendable, Equatable {
    public static let name = "imprint-boot-check.service"
    public static let path = "/etc/systemd/system/" + name

    /// The service's unit file.
    public var unitFile: String
    /// Files the service reads besides its unit (the script it runs), by path in the root.
    public var extraFiles: [String: String]

    /// A service running `script` with `sh -c` (in single quotes: the script has none; systemd expands `$NAME` in
    /// it, so a shell variable is written `$$NAME`).
    /// - Parameters:
    ///   - after: the units it waits for, space-separated.
    ///   - timeoutSeconds: how long the script may run before systemd stops it (and the machine powers off).
    public init(_ description: String, after: String, timeoutSeconds: Int = 240, script: String) {
        self.init(description, after: after, timeoutSeconds: timeoutSeconds, execStart: "/bin/sh -c '\(script)'")
    }

    /// A service running the script `script`, written at `scriptPath` in the root (no quoting rules of systemd's
    /// to mind).
    public init(_ description: String, after: String, timeoutSeconds: Int = 240, scriptPath: String, script: String) {
        self.init(description, after: after, timeoutSeconds: timeoutSeconds, execStart: "/bin/sh \(scriptPath)")
        extraFiles[scriptPath] = script
    }

    /// A service whose unit file is `unitFile` as given.
    public init(unitFile: String) {
        self.unitFile = unitFile
        extraFiles = [:]
    }

    private init(_ description: String, after: String, timeoutSeconds: Int, execStart: String) {
        unitFile = """
            [Unit]
            Description=\(description)
            After=\(after)

            [Service]
            Type=oneshot
            StandardOutput=tty
            StandardError=tty
            TTYPath=/dev/ttyS0
            ExecStart=\(execStart)
            TimeoutStartSec=\(timeoutSeconds)
            ExecStopPost=/bin/systemctl poweroff --no-block

            [Install]
            WantedBy=multi-user.target

            """
        extraFiles = [:]
    }

    /// Every file to write, by path in the root: the unit and what it reads.
    public var files: [String: String] { extraFiles.merging([Self.path: unitFile]) { $1 } }

    /// The links to make, by path in the root: the service enabled; the serial console kept free of a login prompt
    /// (its vhangup would cut the report off); systemd-networkd's wait-online masked, which would hold
    /// network-online.target two minutes for cards networkd does not manage in a root that enables both it and
    /// NetworkManager (as a debootstrap with both does).
    public static let links: [String: String] = [
        "/etc/systemd/system/multi-user.target.wants/" + name: path,
        "/etc/systemd/system/serial-getty@ttyS0.service": "/dev/null",
        "/etc/systemd/system/systemd-networkd-wait-online.service": "/dev/null",
    ]

    /// Writes the service into the root folder `root` and enables it (replacing what is at those paths).
    /// - Important: writes into `root`: only ever a scratch copy that boots for a check.
    public func enable(inFolder root: String) throws {
        let manager = FileManager.default
        for (path, text) in files.sorted(by: { $0.key < $1.key }) {
            let target = root + path
            try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: target))
            chmod(target, 0o644)
        }
        for (path, destination) in Self.links.sorted(by: { $0.key < $1.key }) {
            let target = root + path
            try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if (try? manager.destinationOfSymbolicLink(atPath: target)) != nil || manager.fileExists(atPath: target) {
                try manager.removeItem(atPath: target)
            }
            try manager.createSymbolicLink(atPath: target, withDestinationPath: destination)
        }
    }
}

import Crypto
import Foundation
import ImprintAgent
import ImprintCore
import ImprintDisk

/// What `preflight --boot` needs besides the checks: which unit boots, and the agent to install for it.
public struct PreflightBootRequest: Sendable {
    /// The hostname of the unit to boot (one of the request's units).
    public var unit: String
    /// The agent and the unit's copy of the inventory, installed into the scratch copy as `imprint install` does.
    public var install: InstallRequest
    /// Where the agent comes from, for the report (`the image's own /usr/local/sbin/imprint`, a path...).
    public var agentSource: String
    /// How long the boot may take, from qemu's start to the guest powering off.
    public var timeout: Duration
    /// The scratch disk the image of a whole disk was restored onto (as onto a unit's disk), its file systems mounted
    /// at the request's root: the boot writes its ESP, unmounts it and starts it with UEFI firmware. Nil boots the
    /// root folder on its own kernel.
    public var disk: DiskTarget?

    public init(unit: String, agentSource: String, install: InstallRequest, timeout: Duration, disk: DiskTarget? = nil) {
        self.unit = unit
        self.agentSource = agentSource
        self.install = install
        self.timeout = timeout
        self.disk = disk
    }
}

/// What one unit's boot showed on its serial console.
public struct PreflightBootResult: Codable, Equatable, Sendable {
    public var passed: Bool
    /// From qemu's start to the guest powering off (or being killed).
    public var seconds: Int
    /// What the console showed as it should be: the agent's one run, sshd with the new key, each card's addresses,
    /// the queues.
    public var checked: [String]
    /// What was wrong (each with check `boot`), also among the unit's failures.
    public var failures: [PreflightFinding]

    public init(seconds: Int, checked: [String], failures: [PreflightFinding]) {
        passed = failures.isEmpty
        self.seconds = seconds
        self.checked = checked
        self.failures = failures
    }
}

extension Preflight {
    /// Where the check's script goes in the scratch copy.
    static let bootScriptPath = "/var/lib/imprint/preflight-boot-check.sh"

    /// Boots `profile`'s unit from the restored copy, after every other check (it writes into the copy, which is
    /// preflight's own and removed afterwards): installs the agent with the unit's record and adds a check service
    /// that reports on the serial console and powers off. The image of a whole disk, restored onto a scratch disk
    /// (`boot.disk`), then boots from that disk with UEFI firmware, as a unit does; a folder's image becomes an ext4
    /// disk (`mkfs.ext4 -d`) that boots on the image's own kernel and initramfs. Either with the unit's SMBIOS
    /// identifiers and MACs.
    static func bootUnit(_ profile: UnitProfile, request: PreflightRequest, boot: PreflightBootRequest, scratch: String) -> PreflightBootResult {
        let root = request.root.path
        func refused(_ message: String, fix: String) -> PreflightBootResult {
            PreflightBootResult(seconds: 0, checked: [], failures: [PreflightFinding("boot", message, fix: fix)])
        }
        guard FileManager.default.isExecutableFile(atPath: DirectKernelBoot.qemu) else {
            return refused(
                "\(DirectKernelBoot.qemu) is not installed on this machine, so the unit was not booted",
                fix: "install it: apt-get install qemu-system-x86")
        }
        let folder = scratch + "/boot"
        let console = folder + "/console.log"
        let nics = profile.interfaces.compactMap(\.mac).map { "user,model=virtio-net-pci,mac=\($0.value)" }
        let firmware = boot.disk.map {
            UEFIBoot(disks: [$0.disk], console: console, variables: folder + "/variables.fd", nics: nics, smbios: smbios(profile), timeout: boot.timeout)
        }
        if let firmware, !FileManager.default.fileExists(atPath: firmware.code) {
            return refused(
                "the UEFI firmware \(firmware.code) is not installed on this machine, so the unit was not booted",
                fix: "install it: apt-get install ovmf")
        }
        guard let kernel = DirectKernelBoot.kernel(inRoot: root) else {
            return refused(
                "the image has no kernel to boot: its /boot holds no vmlinuz-VERSION with an initrd.img-VERSION",
                fix: "install a kernel on the master (Debian: apt-get install linux-image-amd64) and capture it again")
        }
        let imageKeys = sshFingerprints(root: request.root)
        let expectedQueues = ToolRunner.expectedQueues(
            profile, imageQueues: ToolRunner.queueNames(try? request.root.readFile("/etc/cups/printers.conf")))
        let machine: () throws -> BootOutcome
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Installer.apply(try Installer.plan(boot.install, root: request.root), root: request.root)
            try BootCheckService(
                "imprint preflight: report this unit's state on the serial console and power off",
                after: "imprint-agent.service imprint-printers.service ssh.service sshd.service cups.service network-online.target",
                timeoutSeconds: 420, scriptPath: bootScriptPath, script: guestScript(profile)
            ).enable(inFolder: root)
            if let disk = boot.disk, let firmware {
                // The ESP written and the file systems unmounted: the disk is as a unit's after its restore.
                try disk.finish()
                machine = firmware.run
            } else {
                let disk = folder + "/disk.img"
                // Sparse: the file takes what the copy takes, with room for what the first boot writes.
                let used = try ChildProcess("/usr/bin/du", ["-s", "-x", "-B1M", root]).run().outputText
                let size = (Int(used.split(separator: "\t").first ?? "") ?? 2048) * 3 / 2 + 1024
                let made = try ChildProcess("/sbin/mkfs.ext4", ["-q", "-F", "-d", root, disk, "\(size)M"], timeout: .seconds(900)).run()
                guard made.status == 0 else {
                    return refused("mkfs.ext4 -d could not make the boot disk: \(made.errorText)", fix: "check the free space of the temporary folder")
                }
                machine = DirectKernelBoot(
                    kernel: root + kernel.kernel, initrd: root + kernel.initrd, disk: disk, console: console, nics: nics,
                    smbios: smbios(profile), timeout: boot.timeout
                ).run
            }
        } catch {
            return refused("the scratch copy could not be prepared for the boot: \(error)", fix: "correct what the message names and run preflight again")
        }
        let outcome: BootOutcome
        do {
            outcome = try machine()
        } catch {
            return refused("qemu could not be started: \(error)", fix: "check that qemu-system-x86_64 runs on this machine")
        }
        var judged = judgeBoot(outcome.console, profile: profile, expectedQueues: expectedQueues, imageKeys: imageKeys)
        if !outcome.console.contains("CHECK done") {
            // The serial port ends lines with CRLF and colours systemd's status words: plain text for the report.
            let lines = outcome.console.replacing(#/\x1B\[[0-9;]*[A-Za-z]/#, with: "").split(whereSeparator: \.isNewline)
            let tail = lines.suffix(8).joined(separator: " | ")
            // A panic's last lines are its stack: its reason is on the line that announces it.
            let panic = lines.last { $0.contains("Kernel panic") }.map { "; the kernel panicked: \($0.trimmingCharacters(in: .whitespaces))" } ?? ""
            let why = outcome.timedOut
                ? "the unit did not finish booting in \(boot.timeout.components.seconds) s (qemu was stopped)"
                : "qemu ended (status \(outcome.status ?? 0)\(outcome.error.isEmpty ? "" : ": \(outcome.error.trimmingCharacters(in: .whitespacesAndNewlines))")) before the check reported"
            judged.failures.insert(PreflightFinding(
                "boot", "\(why)\(panic); the console's last lines: \(tail.isEmpty ? "none" : tail)",
                fix: outcome.timedOut ? "read the console lines; on a slow machine give more time: '--boot-timeout SECONDS'"
                    : "read the console lines: the kernel or systemd says why"), at: 0)
        }
        return PreflightBootResult(
            seconds: Int(outcome.seconds.rounded()), checked: ["agent: \(boot.agentSource)"] + judged.checked, failures: judged.failures)
    }

    /// The unit's firmware identifiers as qemu's `-smbios` values: model, serial and UUID (type 1), asset tag (type 3).
    static func smbios(_ profile: UnitProfile) -> [String] {
        func value(_ text: String) -> String { text.replacingOccurrences(of: ",", with: ",,") }
        var system: [String] = []
        if let model = profile.model { system.append("product=" + value(model)) }
        for identifier in profile.identifiers {
            switch identifier.kind {
            case .serial: system.append("serial=" + value(identifier.value))
            case .uuid: system.append("uuid=" + identifier.value)
            case .assetTag, .mac: break
            }
        }
        var values = system.isEmpty ? [] : ["type=1," + system.joined(separator: ",")]
        if let asset = profile.identifiers.first(where: { $0.kind == .assetTag }) { values.append("type=3,asset=" + value(asset.value)) }
        return values
    }

    /// The shell script the check service runs in the guest: `CHECK` lines on the serial console for the host to
    /// read. Each card waits (up to 90 s) for the addresses the unit's record gives it, or for any IPv4 address
    /// when it has none (DHCP), before its state is reported.
    static func guestScript(_ profile: UnitProfile) -> String {
        let cards = profile.interfaces.compactMap { interface -> String? in
            guard let mac = interface.mac else { return nil }
            return (["card", mac.value] + interface.addresses.map(\.description)).joined(separator: " ")
        }
        return """
            # Written by 'imprint preflight --boot' into a scratch copy of the image: reports this unit's state on the
            # serial console; the service powers the machine off afterwards.
            exec 2>&1
            echo "CHECK hostname=$(hostname)"
            echo "CHECK agent=$(systemctl is-active imprint-agent.service)"
            echo "CHECK agent-applied=$(journalctl -b -o cat -u imprint-agent.service 2>/dev/null | grep -c 'applied run')"
            for service in ssh sshd; do
              if systemctl cat "$service.service" >/dev/null 2>&1; then
                echo "CHECK ssh=$service.service $(systemctl is-active "$service.service")"
                break
              fi
            done
            for key in /etc/ssh/ssh_host_*_key.pub; do
              [ -f "$key" ] && echo "CHECK key-file=$(ssh-keygen -lf "$key" | cut -d' ' -f2)"
            done
            if command -v ssh-keyscan >/dev/null; then
              timeout -s KILL 90 ssh-keyscan -T 30 127.0.0.1 > /run/imprint-preflight-scan 2>/dev/null
              ssh-keygen -lf /run/imprint-preflight-scan 2>/dev/null | cut -d' ' -f2 | sed 's/^/CHECK key-served=/'
            fi
            card() {
              mac=$1
              shift
              dev=""
              for link in /sys/class/net/*; do
                [ "$(cat "$link/address" 2>/dev/null)" = "$mac" ] && dev=${link##*/}
              done
              if [ -z "$dev" ]; then echo "CHECK net $mac dev="; return; fi
              tries=0
              while [ $tries -lt 90 ]; do
                addresses=$(ip -o addr show dev "$dev" scope global | while read -r n name family address rest; do echo "$address"; done)
                ok=yes
                if [ $# -eq 0 ]; then
                  ip -o -4 addr show dev "$dev" scope global | grep -q inet || ok=no
                else
                  for wanted in "$@"; do echo "$addresses" | grep -qx "$wanted" || ok=no; done
                fi
                [ $ok = yes ] && break
                sleep 1
                tries=$((tries + 1))
              done
              echo "CHECK net $mac dev=$dev"
              for address in $addresses; do echo "CHECK net $mac address=$address"; done
              if command -v nmcli >/dev/null && systemctl -q is-active NetworkManager.service; then
                echo "CHECK net $mac stack=NetworkManager: $(nmcli -g GENERAL.STATE,GENERAL.CONNECTION device show "$dev" | tr '\\n' ' ')"
              elif command -v networkctl >/dev/null && systemctl -q is-active systemd-networkd.service; then
                echo "CHECK net $mac stack=systemd-networkd: $(networkctl status "$dev" --no-pager 2>/dev/null | sed -n 's/^ *State: //p')"
              fi
            }
            \(cards.joined(separator: "\n"))
            if command -v lpstat >/dev/null; then lpstat -p -d 2>&1 | sed 's/^/CHECK lpstat: /'; fi
            echo "CHECK done"

            """
    }

    /// What the console says of the unit: each `CHECK` line against what the unit's record says it should be.
    static func judgeBoot(
        _ console: String, profile: UnitProfile, expectedQueues: ScratchCupsd.Queues, imageKeys: Set<String>
    ) -> (checked: [String], failures: [PreflightFinding]) {
        var values: [String: [String]] = [:]
        for line in console.split(whereSeparator: \.isNewline) {
            guard let start = line.range(of: "CHECK ") else { continue }
            let body = line[start.upperBound...]
            if body.hasPrefix("lpstat: ") {
                values["lpstat", default: []].append(String(body.dropFirst("lpstat: ".count)))
            } else if let equals = body.firstIndex(of: "=") {
                values[String(body[..<equals]), default: []].append(String(body[body.index(after: equals)...]))
            }
        }
        guard values["done"] != nil || values["hostname"] != nil else { return ([], []) }
        var checked: [String] = []
        var failures: [PreflightFinding] = []
        let name = profile.hostname.value
        func fail(_ message: String, _ fix: String) { failures.append(PreflightFinding("boot", message, fix: fix)) }

        let hostname = values["hostname"]?.first ?? ""
        if hostname.lowercased() == name.lowercased() { checked.append("hostname \(hostname)") } else {
            fail("the unit booted as \(hostname.isEmpty ? "no name" : hostname), not \(name)",
                 "read the agent's lines on the console: it names what it could not match or write")
        }
        let agent = values["agent"]?.first ?? "not installed"
        let applied = values["agent-applied"]?.first ?? "0"
        if agent == "active" && applied == "1" { checked.append("agent ran once") } else {
            fail("the agent (imprint-agent.service) is \(agent) and applied \(applied) runs at the first boot, not one",
                 "read the agent's lines on the console ('imprint run' says why it did not apply)")
        }
        if let ssh = values["ssh"]?.first {
            let parts = ssh.split(separator: " ", maxSplits: 1).map(String.init)
            let state = parts.count > 1 ? parts[1] : "unknown"
            let served = Set(values["key-served"] ?? []), files = Set(values["key-file"] ?? [])
            if state != "active" {
                fail("sshd (\(parts[0])) is \(state) after the first boot, so the unit cannot be reached over SSH",
                     "correct /etc/ssh/sshd_config on the master ('sshd -t' says what it refuses) and capture it again")
            } else if !served.isEmpty && (!served.isSubset(of: files) || !served.isDisjoint(with: imageKeys)) {
                fail("sshd serves \(served.sorted().joined(separator: ", ")), not the unit's new keys (\(files.sorted().joined(separator: ", ")))",
                     "check the agent's host keys step on the console")
            } else {
                checked.append(served.isEmpty ? "sshd active" : "sshd active with the unit's new key")
            }
        } else {
            checked.append("no sshd in the image")
        }
        for interface in profile.interfaces {
            guard let mac = interface.mac?.value else { continue }
            let dev = values["net \(mac) dev"]?.first ?? ""
            let addresses = values["net \(mac) address"] ?? []
            let stack = values["net \(mac) stack"]?.first.map { " (\($0.trimmingCharacters(in: .whitespaces)))" } ?? ""
            let wanted = interface.addresses.map(\.description)
            if dev.isEmpty {
                fail("no card with the MAC \(mac) came up", "check the unit's MAC addresses in the inventory")
            } else if wanted.isEmpty ? !addresses.contains(where: { !$0.contains(":") }) : !Set(wanted).isSubset(of: addresses) {
                fail("the card \(mac) (\(dev)) has \(addresses.isEmpty ? "no address" : addresses.joined(separator: ", ")), not "
                        + (wanted.isEmpty ? "an IPv4 address from DHCP" : wanted.joined(separator: ", ")) + stack,
                     "read the network stack's lines on the console; check the unit's network settings and the image's network configuration")
            } else {
                checked.append("\(mac) on \(dev): \(addresses.joined(separator: ", "))\(stack)")
            }
        }
        if let listed = values["lpstat"] {
            let queues = ScratchCupsd.Queues(lpstat: listed.joined(separator: "\n"))
            if queues == expectedQueues {
                checked.append("lpstat: \(queues.names.joined(separator: ", ")), default \(queues.defaultPrinter ?? "none")")
            } else {
                fail("lpstat lists \(queues.names.isEmpty ? "no queue" : queues.names.joined(separator: ", ")) (default \(queues.defaultPrinter ?? "none")), "
                        + "not \(expectedQueues.names.joined(separator: ", ")) (default \(expectedQueues.defaultPrinter ?? "none"))",
                     "read the printers step's lines on the console; check the printers' drivers and the image's /etc/cups")
            }
        } else if !expectedQueues.names.isEmpty {
            fail("the image has no lpstat, so the unit's queues cannot be listed", "install CUPS on the master (Debian: cups-daemon, cups-client)")
        }
        return (checked, failures)
    }

    /// The fingerprints (`SHA256:...`, as ssh-keygen -l prints them) of the host keys in `root`'s /etc/ssh.
    static func sshFingerprints(root: TargetRoot) -> Set<String> {
        var fingerprints: Set<String> = []
        for name in (try? root.listFolder("/etc/ssh")) ?? [] where name.hasPrefix("ssh_host_") && name.hasSuffix(".pub") {
            guard let data = try? root.readFile("/etc/ssh/" + name) else { continue }
            let fields = String(decoding: data, as: UTF8.self).split(separator: " ")
            guard fields.count > 1, let blob = Data(base64Encoded: String(fields[1])) else { continue }
            let digest = Data(SHA256.hash(data: blob)).base64EncodedString()
            fingerprints.insert("SHA256:" + digest.replacingOccurrences(of: "=", with: ""))
        }
        return fingerprints
    }
}

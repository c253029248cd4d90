import Foundation
import ImprintCore

/// Plans the hostname files: /etc/hostname, the 127.0.1.1 line of /etc/hosts, PRETTY_HOSTNAME in
/// /etc/machine-info, and the older files (/etc/sysconfig/network, /etc/HOSTNAME, /etc/mailname) where the image has
/// them.
enum HostnameStep {
    static func plan(_ profile: UnitProfile, root: TargetRoot) throws(CoreError) -> [FileChange] {
        let hostname = profile.hostname.value
        let fqdn = profile.fqdn
        var changes: [FileChange] = []
        func change(_ path: String, _ text: String, _ reason: String, before: Data?) {
            changes.append(FileChange(
                step: .hostname, path: path, reason: reason, action: .write(contents: Data(text.utf8), metadata: nil),
                before: before))
        }
        change(IdentityFile.hostname.path, hostname + "\n", "the unit's hostname", before: try root.readFile(IdentityFile.hostname.path))

        let hosts = try root.readFile(IdentityFile.hosts.path)
        change(IdentityFile.hosts.path, renderHosts(hosts.flatMap { String(data: $0, encoding: .utf8) }, hostname: hostname, fqdn: fqdn),
               "127.0.1.1 names this unit (other lines kept)", before: hosts)

        let machineInfo = try root.readFile(IdentityFile.machineInfo.path)
        change(IdentityFile.machineInfo.path,
               setAssignment("PRETTY_HOSTNAME", to: hostname, in: machineInfo.flatMap { String(data: $0, encoding: .utf8) } ?? ""),
               "the pretty hostname hostnamectl shows", before: machineInfo)

        if let network = try root.readFile(IdentityFile.sysconfigNetwork.path), let text = String(data: network, encoding: .utf8) {
            change(IdentityFile.sysconfigNetwork.path, setAssignment("HOSTNAME", to: fqdn, in: text), "RHEL-style hostname", before: network)
        }
        if let suse = try root.readFile(IdentityFile.suseHostname.path) {
            change(IdentityFile.suseHostname.path, fqdn + "\n", "SUSE-style hostname", before: suse)
        }
        if let mailname = try root.readFile(IdentityFile.mailname.path) {
            change(IdentityFile.mailname.path, fqdn + "\n", "the name mail from this unit carries", before: mailname)
        }
        return changes
    }

    /// `/etc/hosts` with its 127.0.1.1 line naming this unit (FQDN first, as Debian writes it), every other line
    /// kept. Without such a line, one is added after the 127.0.0.1 line; without a file, a minimal one is made.
    static func renderHosts(_ existing: String?, hostname: String, fqdn: String) -> String {
        let entry = fqdn == hostname ? "127.0.1.1\t\(hostname)" : "127.0.1.1\t\(fqdn) \(hostname)"
        guard let existing, !existing.isEmpty else {
            return "127.0.0.1\tlocalhost\n\(entry)\n\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
        }
        var lines = existing.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        let address = { (line: String) in line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) }
        if let index = lines.firstIndex(where: { address($0) == "127.0.1.1" }) {
            lines[index] = entry
            lines = lines.enumerated().filter { $0.offset == index || address($0.element) != "127.0.1.1" }.map(\.element)
        } else if let loopback = lines.firstIndex(where: { address($0) == "127.0.0.1" }) {
            lines.insert(entry, at: loopback + 1)
        } else {
            lines.insert(entry, at: 0)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// An environment-style file (`KEY=value` lines) with `key` set to `value`, other lines kept. Values here are
    /// hostnames (letters, digits, '-' and '.'), so they need no quoting.
    static func setAssignment(_ key: String, to value: String, in text: String) -> String {
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        let assignment = "\(key)=\(value)"
        if let index = lines.firstIndex(where: { $0.trimmingSpaces().hasPrefix("\(key)=") }) {
            lines[index] = assignment
        } else {
            lines.append(assignment)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

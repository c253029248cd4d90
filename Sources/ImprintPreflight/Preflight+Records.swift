import Foundation
import ImprintCore

extension Preflight {
    /// What the unit's record says that cannot work with this image or beside the other units: no tool needed.
    static func recordFindings(_ profile: UnitProfile, request: PreflightRequest) -> [PreflightFinding] {
        let name = profile.hostname.value
        var findings: [PreflightFinding] = []
        if !request.manifest.fits(model: profile.model) {
            let models = request.manifest.models.isEmpty ? "no model" : request.manifest.models.joined(separator: ", ")
            findings.append(PreflightFinding(
                "model", "the unit is a \(profile.model ?? "unit with no model") and the image is for \(models)",
                fix: profile.model == nil
                    ? "give the unit its model: 'imprint inventory set \(name) --model MODEL'"
                    : "use an image captured for \(profile.model ?? ""), or correct the unit's model in the inventory"))
            return findings
        }
        findings += hostnameFindings(profile, request: request)
        findings += addressFindings(profile, request: request)
        findings += printerFindings(profile, root: request.root)
        return findings
    }

    static func hostnameFindings(_ profile: UnitProfile, request: PreflightRequest) -> [PreflightFinding] {
        let name = profile.hostname.value
        do {
            _ = try Hostname(name)
            _ = try profile.hostname.qualified(in: profile.domain)
        } catch {
            return [PreflightFinding("hostname", "\(error)", fix: "rename the unit: 'imprint inventory set \(name) --hostname NEW'")]
        }
        let others = request.groupUnits.filter { $0.hostname.value.lowercased() == name.lowercased() }
        if others.count > 1 {
            return [PreflightFinding(
                "hostname", "\(others.count) units of \(request.group) are named \(name) (names are not case-sensitive)",
                fix: "rename all but one: 'imprint inventory set \(name) --hostname NEW'")]
        }
        return []
    }

    /// Static addresses: host addresses of their subnets, each held by this unit alone in the inventory (which an
    /// inventory from before that check may not have). A gateway outside its subnet is refused by the inventory as
    /// the record is read, and named by preflight as an unreadable record.
    static func addressFindings(_ profile: UnitProfile, request: PreflightRequest) -> [PreflightFinding] {
        let name = profile.hostname.value
        var findings: [PreflightFinding] = []
        for interface in profile.interfaces {
            for prefix in interface.addresses {
                if let why = prefix.notAHostAddress {
                    findings.append(PreflightFinding("address", "\(prefix) on \(interface.card) \(why)", fix: "give \(name) a host address"))
                }
                let owners = Set(request.addressOwners[prefix.address.value] ?? []).subtracting([name]).sorted()
                if !owners.isEmpty {
                    findings.append(PreflightFinding(
                        "address", "\(prefix.address) is also given to \(owners.joined(separator: ", "))",
                        fix: "give each unit its own address: 'imprint inventory set \(name) --interface \(interface.card) --ipv4 ADDRESS/PREFIX'"))
                }
            }
        }
        return findings
    }

    /// Every `ppd:` driver's file in the image, every driverless queue's URI one that IPP Everywhere can reach.
    static func printerFindings(_ profile: UnitProfile, root: TargetRoot) -> [PreflightFinding] {
        var findings: [PreflightFinding] = []
        for queue in profile.printers {
            let printer = queue.name.value
            switch queue.driver {
            case .ppd(let path):
                if (try? root.readFile(path)) == nil {
                    findings.append(PreflightFinding(
                        "printer-driver", "printer \(printer) uses the PPD \(path), which the image does not have",
                        fix: "install the printer's driver package on the master and capture it again, or change the driver: "
                            + "'imprint inventory printer set \(printer) --driver ...'"))
                }
            case .everywhere:
                if let why = everywhereURIProblem(queue.deviceURI.value) {
                    findings.append(PreflightFinding(
                        "printer-uri", "printer \(printer): the URI \(queue.deviceURI.value) \(why)",
                        fix: "give the printer's IPP address: 'imprint inventory printer set \(printer) --uri ipp://HOST/ipp/print'"))
                }
            case .raw:
                break
            }
        }
        return findings
    }

    /// Why IPP Everywhere could not reach a printer at `uri`, or nil: it needs ipp or ipps (or a DNS-SD name) and
    /// a host.
    static func everywhereURIProblem(_ uri: String) -> String? {
        guard let components = URLComponents(string: uri), let scheme = components.scheme?.lowercased() else {
            return "is not a well-formed URI"
        }
        guard ["ipp", "ipps", "dnssd"].contains(scheme) else {
            return "has the scheme \(scheme); a driverless (everywhere) queue needs ipp://, ipps:// or dnssd://"
        }
        guard let host = components.host, !host.isEmpty else { return "names no host" }
        return nil
    }
}

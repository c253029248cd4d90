import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintTestSupport
import Testing

/// The demo unit RM204-07 as the inventory gives it, without opening an inventory.
func demoProfile(revision: Int = 1, domain: String? = "school.example.org") throws -> UnitProfile {
    UnitProfile(
        hostname: try Hostname("RM204-07"), domain: try domain.map { try DomainName($0) }, group: "RM204",
        model: "OptiPlex 7090", revision: revision, identifiers: [try Identifier(.serial, "7XK07QF9")],
        interfaces: [try InterfaceConfig(mac: MACAddress("3c:52:82:20:04:07"), addresses: [IPPrefix("10.20.4.107/24")])],
        networkMode: .static, networkStack: nil, printers: [], defaultPrinter: nil)
}

/// A request with fixed randomness, so two runs plan the same bytes.
func request(_ profile: UnitProfile, steps: Set<AgentStep> = Set(AgentStep.allCases), force: Bool = false, dryRun: Bool = false) -> RunRequest {
    RunRequest(
        profile: profile, matched: [], steps: steps, force: force, dryRun: dryRun, source: "test",
        time: Date(timeIntervalSince1970: 1_795_000_000),
        random: RandomSource { count in (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) } },
        newMachineID: { "0123456789abcdef0123456789abcdef" }, agentVersion: "test", lockWait: 1)
}

/// A copy of the master root fixture (hostname "master", its machine-id, keys, random seed).
func masterRoot(_ folder: TemporaryDirectory) throws -> TargetRoot {
    try TargetRoot(try folder.copyFixture("roots/rm204-master"))
}

/// Every file, link and folder under `path` with its contents' hash (links by target), for comparing trees.
func snapshot(_ path: String, excluding: [String] = []) throws -> [String: String] {
    var result: [String: String] = [:]
    let manager = FileManager.default
    guard let walker = manager.enumerator(atPath: path) else { return result }
    for case let relative as String in walker {
        if excluding.contains(where: { relative.hasPrefix($0) }) { continue }
        let full = path + "/" + relative
        if let target = try? manager.destinationOfSymbolicLink(atPath: full) {
            result[relative] = "link:" + target
        } else if let data = manager.contents(atPath: full) {
            result[relative] = "file:\(data.count):\(data.hashValue)"
        } else {
            result[relative] = "folder"
        }
    }
    return result
}

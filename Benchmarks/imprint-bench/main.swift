// In-process timing of inventory lookups, driven by Benchmarks/inventory.sh (not a test: timings never are).
// Usage: imprint-bench INVENTORY UNITS LOOKUPS
// The inventory must hold units made by Benchmarks/inventory.py: serial SN<n>, MAC 02:00:<n as 4 hex bytes>.
import Foundation
import ImprintCore
import ImprintInventory

let arguments = CommandLine.arguments
guard arguments.count == 4, let units = Int(arguments[2]), let lookups = Int(arguments[3]) else {
    FileHandle.standardError.write(Data("usage: imprint-bench INVENTORY UNITS LOOKUPS\n".utf8))
    exit(64)
}

func mac(_ number: Int) -> String {
    let bytes = [2, 0, (number >> 24) & 0xff, (number >> 16) & 0xff, (number >> 8) & 0xff, number & 0xff]
    return bytes.map { String(format: "%02x", $0) }.joined(separator: ":")
}

func measure(_ label: String, _ facts: (Int) -> HardwareFacts) throws {
    let inventory = try Inventory(path: arguments[1], readOnly: true)
    var generator = SystemRandomNumberGenerator()
    var samples: [Double] = []
    for _ in 0..<lookups {
        let number = Int.random(in: 1...units, using: &generator)
        let start = DispatchTime.now().uptimeNanoseconds
        let match = try inventory.match(facts(number))
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
        guard match.unit.draft.hostname.value == String(format: "u%06d", number) else {
            FileHandle.standardError.write(Data("wrong unit for \(number)\n".utf8))
            exit(1)
        }
        samples.append(elapsed)
    }
    samples.sort()
    let median = samples[samples.count / 2]
    let p99 = samples[min(samples.count - 1, samples.count * 99 / 100)]
    print(String(format: "%@ %.3f %.3f", label, median, p99))
}

try measure("serial") { HardwareFacts(serial: String(format: "SN%06d", $0)) }
try measure("mac") { HardwareFacts(interfaces: [NetworkInterfaceFact(name: "eno1", mac: mac($0))]) }

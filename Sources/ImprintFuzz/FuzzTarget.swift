import Foundation
import Glibc
import ImprintCore
import ImprintImage
import ImprintInventory
import ImprintWire

/// An input Imprint reads from outside, fed arbitrary bytes by libFuzzer (`.ci/fuzz`) and by the regression test.
///
/// Every input must end in success or in the module's own error; a trap (overflow, index out of range, force
/// unwrap), a hang or a huge allocation is a bug, and so is a `FuzzFinding` (a wrong result the harness checks for).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// An image file: `inspect`, `verify`, then `restore` into a scratch folder.
    case image
    /// The tar stream inside an image: wrapped into a well-formed image (`ImageBuilder`), then run as `image`, so
    /// the fuzzer reaches the tar scanner and the extractor past the CRCs and SHA-256s.
    case tar
    /// An image file whose block headers are sealed first (`ImageBuilder.sealingHeaders`: their CRCs made to match,
    /// gzip or zstd), then run as `image`, so the fuzzer reaches what the headers claim (sequence numbers, lengths, kinds,
    /// checksum lists, the index and tail payloads) instead of stopping at their checksums.
    case headers
    /// A units, groups, printers, files, accounts or hooks CSV: a dry-run import into a small inventory.
    case csv
    /// A facts file (JSON), then the identifiers matching would use.
    case facts
    /// What the deployment server reads from a client: its JSON bodies (identify, report, window) and a Range
    /// header over an image size.
    case api
}

/// A wrong result the harness caught without a crash: the fuzzer entry turns it into one, so libFuzzer keeps the input.
public struct FuzzFinding: Error, CustomStringConvertible {
    public var description: String
}

/// Runs inputs through one target, with the scratch folder (and for CSV the inventory) it needs made once.
public final class FuzzRunner {
    public let target: FuzzTarget
    /// A folder of its own under the system's temporary folder, removed by `close()`.
    public let workspace: String
    /// The passphrase an encrypted image is opened with: the seeds `FuzzSeeds` writes use it.
    public static let passphrase = "imprint-fuzz"
    private var inventory: Inventory?
    private var inventoryBaseline: [String] = []
    private var restores = 0

    public init(_ target: FuzzTarget) throws {
        self.target = target
        workspace = (NSTemporaryDirectory() as NSString).appendingPathComponent("imprint-fuzz-\(target.rawValue)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        if target == .csv { try openInventory() }
    }

    /// Removes the workspace.
    public func close() { try? FileManager.default.removeItem(atPath: workspace) }

    /// Runs one input.
    /// - Throws: the module's error when Imprint rejects the input (the expected outcome for most inputs), or a
    ///   `FuzzFinding`.
    public func run(_ bytes: [UInt8]) throws {
        switch target {
        case .image: try runImage(bytes)
        case .headers: try runImage(ImageBuilder.sealingHeaders(bytes))
        case .tar: try runImage(try ImageBuilder.image(tarStream: bytes))
        case .csv: try runCSV(bytes)
        case .facts: try runFacts(bytes)
        case .api: try runAPI(bytes)
        }
    }

    /// Whether `error` is a clean rejection: one of the modules' own errors, which name the bad value.
    public static func isClean(_ error: any Error) -> Bool {
        switch error {
        case is ImageError, is InventoryError, is CoreError, is DecodingError: return true
        default: return false
        }
    }

    // MARK: Image

    /// Inspects and verifies the image, then restores it into an empty folder; an image verify refuses must not restore.
    private func runImage(_ bytes: [UInt8]) throws {
        let imagePath = (workspace as NSString).appendingPathComponent("input.img")
        // Written in place: an atomic write would fsync for every input.
        try Data(bytes).write(to: URL(fileURLWithPath: imagePath))
        // inspect: the manifest, then the tail, index and summary from the end, trusting their offsets.
        do {
            _ = try Restore.describe(imagePath)
        } catch {
            if !Self.isClean(error) { throw error }
        }
        var verifyError: (any Error)?
        do {
            _ = try Restore.verify(try ImageInput(path: imagePath), threads: 1, passphrase: { Self.passphrase })
        } catch {
            verifyError = error
        }
        // A folder of its own per input: an image can leave modes that keep an unprivileged run from removing it.
        // Two folders deep, so a write that climbs one or two levels out of the root shows beside it.
        restores += 1
        let outside = (workspace as NSString).appendingPathComponent("outside")
        let target = (outside as NSString).appendingPathComponent("root-\(restores)")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: target) }
        var restoreError: (any Error)?
        do {
            _ = try Restore.run(try ImageInput(path: imagePath), root: target, threads: 1, passphrase: { Self.passphrase })
        } catch {
            restoreError = error
        }
        let beside = (try? FileManager.default.contentsOfDirectory(atPath: outside)) ?? []
        let above = (try? FileManager.default.contentsOfDirectory(atPath: workspace)) ?? []
        guard beside.allSatisfy({ $0.hasPrefix("root-") }), Set(above).isSubset(of: ["input.img", "outside"]) else {
            for name in beside where !name.hasPrefix("root-") { try? FileManager.default.removeItem(atPath: (outside as NSString).appendingPathComponent(name)) }
            for name in above where name != "input.img" && name != "outside" { try? FileManager.default.removeItem(atPath: (workspace as NSString).appendingPathComponent(name)) }
            throw FuzzFinding(description: "restore wrote outside its root: \(beside.filter { !$0.hasPrefix("root-") } + above)")
        }
        // A hard link out of the root would give the restored tree a second name for the image file.
        var info = stat()
        if stat(imagePath, &info) == 0 && info.st_nlink > 1 {
            throw FuzzFinding(description: "restore linked a file from outside its root")
        }
        if let restoreError {
            if verifyError == nil && !Self.isClean(restoreError) { throw restoreError }
            throw verifyError ?? restoreError
        }
        if let verifyError {
            throw FuzzFinding(description: "restore accepted an image that verify refuses (\(verifyError))")
        }
    }

    // MARK: CSV

    /// An inventory with one printer, one group and one unit, so rows can collide with records that exist.
    private static func makeInventory(_ path: String) throws -> Inventory {
        try? FileManager.default.removeItem(atPath: path)
        let inventory = try Inventory.create(path: path)
        _ = try inventory.importCSV(
            "name,uri,driver,location,description\nrm204-laser,ipp://10.20.4.5/ipp/print,everywhere,Room 204,Laser\n",
            file: "printers.csv")
        _ = try inventory.importCSV(
            "name,domain,dns,search,network_mode,naming_pattern,printers,default_printer\n"
                + "RM204,school.example.org,10.20.0.53,school.example.org,static,RM204-{##},rm204-laser,rm204-laser\n",
            file: "groups.csv")
        _ = try inventory.importCSV(
            "hostname,group,serial,uuid,asset_tag,macs,ipv4,gateway4\n"
                + "RM204-01,RM204,7XK01Q70,4c4c4544-0001-4b10-8078-b7c04f515ce3,SCH-4001,3c:52:82:20:04:01,10.20.4.101/24,10.20.4.1\n",
            file: "units.csv")
        return inventory
    }

    private func openInventory() throws {
        let inventory = try Self.makeInventory((workspace as NSString).appendingPathComponent("inventory.db"))
        self.inventory = inventory
        inventoryBaseline = try Self.contents(of: inventory)
    }

    private static func contents(of inventory: Inventory) throws -> [String] {
        try CSVKind.allCases.map { kind in try inventory.exportCSV(kind) }
    }

    /// A dry-run import that reports bad rows and keeps good ones: every check runs, nothing stays. A row that only
    /// SQLite's constraints stop (instead of the importer's checks), or a dry run that changes the inventory, is a
    /// finding.
    private func runCSV(_ bytes: [UInt8]) throws {
        guard let inventory else { throw FuzzFinding(description: "the harness has no inventory") }
        let text = String(decoding: bytes, as: UTF8.self)
        var importError: InventoryError?
        var report: ImportReport?
        do {
            report = try inventory.importCSV(text, file: "fuzz.csv", skipInvalid: true, update: true, dryRun: true)
        } catch {
            importError = error
        }
        let after = try Self.contents(of: inventory)
        guard after == inventoryBaseline else {
            inventoryBaseline = after
            throw FuzzFinding(description: "a dry-run import changed the inventory")
        }
        if case .database(_, let reason, _) = importError {
            throw FuzzFinding(description: "a row passed the importer's checks and failed in SQLite: \(reason)")
        }
        if let importError { throw importError }
        if let report, !report.added.isEmpty || !report.updated.isEmpty { try roundTrip(text, kind: report.kind) }
    }

    /// Imports `text` for real into a fresh inventory, exports it, and imports the export back: every record must come
    /// back unchanged (what `inventory export` writes, `inventory import` must read as the same inventory).
    private func roundTrip(_ text: String, kind: CSVKind) throws {
        let inventory = try Self.makeInventory((workspace as NSString).appendingPathComponent("round-trip.db"))
        _ = try inventory.importCSV(text, file: "fuzz.csv", skipInvalid: true, update: true)
        let exported = try inventory.exportCSV(kind)
        let again: ImportReport
        do {
            again = try inventory.importCSV(exported, file: "exported.csv", update: true, dryRun: true)
        } catch {
            throw FuzzFinding(description: "the exported \(kind.rawValue) do not import back: \(error)\n\(exported)")
        }
        guard again.added.isEmpty, again.updated.isEmpty, again.createdGroups.isEmpty else {
            throw FuzzFinding(
                description: "the exported \(kind.rawValue) import back changed: added \(again.added), updated \(again.updated)\n\(exported)")
        }
    }

    // MARK: Facts

    /// Parses a facts file and derives the identifiers; what parses must print (as `imprint facts --json` does) and
    /// parse back to the same facts.
    private func runFacts(_ bytes: [UInt8]) throws {
        let facts = try HardwareFacts.parse(json: Data(bytes), source: "fuzz.json")
        _ = facts.identifiers()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let printed = try encoder.encode(facts)
        let again: HardwareFacts
        do {
            again = try HardwareFacts.parse(json: printed, source: "printed facts")
        } catch {
            throw FuzzFinding(description: "printed facts do not parse back: \(error)")
        }
        guard again == facts else { throw FuzzFinding(description: "printed facts parse back to other facts") }
    }

    // MARK: API

    /// Decodes the bytes as each body the server reads, and as a Range header over a size taken from the first
    /// eight bytes; a range the parser accepts must lie inside the image. Accepted when any of them reads it.
    private func runAPI(_ bytes: [UInt8]) throws {
        let size = bytes.prefix(8).reduce(0) { ($0 << 8) | Int($1) } & 0xFF_FFFF_FFFF
        let header = String(decoding: bytes.dropFirst(8), as: UTF8.self)
        var accepted = false
        if let range = ByteRange.parse(header, size: size) {
            guard range.lowerBound >= 0, range.upperBound < size, !range.isEmpty else {
                throw FuzzFinding(description: "range \(range) of \(header) is outside \(size) bytes")
            }
            accepted = true
        }
        let body = Data(bytes)
        var rejected: (any Error)?
        do { _ = try JSONDecoder.server.decode(IdentifyRequest.self, from: body); accepted = true } catch { rejected = error }
        do { _ = try JSONDecoder.server.decode(UnitReport.self, from: body); accepted = true } catch { rejected = error }
        do { _ = try JSONDecoder.server.decode(WindowRequest.self, from: body); accepted = true } catch { rejected = error }
        if !accepted, let rejected { throw rejected }
    }
}

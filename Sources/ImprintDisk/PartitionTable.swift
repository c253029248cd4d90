import Foundation
import ImprintCore

/// The partition table as `sfdisk --json` prints it, read into a `DiskLayout`, and a layout written back as the
/// script `sfdisk` takes.
public enum PartitionTable {
    struct Dump: Decodable {
        struct Table: Decodable {
            var label: String
            var id: String?
            var unit: String?
            var sectorsize: Int?
            var partitions: [Entry]?
        }

        struct Entry: Decodable {
            var node: String
            var start: Int64
            var size: Int64
            var type: String
            var uuid: String?
            var name: String?
            var attrs: String?
        }

        var partitiontable: Table
    }

    /// Reads `sfdisk --json` output for `disk` of `size` bytes. Only a GPT is taken: an MBR's four slots, CHS
    /// geometry and extended partitions are not a layout Imprint lays again.
    public static func parse(sfdiskJSON data: Data, disk: String, size: Int64) throws(DiskError) -> DiskLayout {
        let dump: Dump
        do {
            dump = try JSONDecoder().decode(Dump.self, from: data)
        } catch {
            throw .unsupportedTable(disk: disk, reason: "sfdisk printed a table Imprint cannot read: \(error)")
        }
        let table = dump.partitiontable
        guard table.label == "gpt" else {
            throw .unsupportedTable(
                disk: disk,
                reason: "it has an MBR (\(table.label)) partition table; Imprint captures GPT disks only: convert it "
                    + "with 'sgdisk --mbrtogpt' on a copy, or capture its root folder with 'imprint capture --root'")
        }
        guard table.unit == nil || table.unit == "sectors" else {
            throw .unsupportedTable(disk: disk, reason: "sfdisk counted in \(table.unit ?? "?"), not sectors")
        }
        let sector = Int64(table.sectorsize ?? 512)
        let partitions = try (table.partitions ?? []).map { entry throws(DiskError) -> PartitionLayout in
            guard let number = Int(entry.node.reversed().prefix { $0.isNumber }.reversed().map(String.init).joined()) else {
                throw .unsupportedTable(disk: disk, reason: "partition \(quoted(entry.node)) has no number")
            }
            return PartitionLayout(
                number: number, start: entry.start * sector, size: entry.size * sector, type: entry.type,
                uuid: entry.uuid?.uppercased(), name: entry.name, attributes: entry.attrs)
        }
        return DiskLayout(label: "gpt", diskID: table.id?.uppercased() ?? "", sectorSize: Int(sector), size: size, partitions: partitions)
    }

    /// The script `sfdisk` reads to lay `layout` on a disk of `sectorSize`-byte sectors: the label, the disk's
    /// GUID and every partition at its start and size, with its type, GUID, name and attributes.
    public static func script(_ layout: DiskLayout, sectorSize: Int) -> String {
        let sector = Int64(sectorSize)
        var lines = ["label: gpt", "label-id: \(layout.diskID)", "unit: sectors", "sector-size: \(sectorSize)", ""]
        for partition in layout.partitions {
            var fields = ["start=\(partition.start / sector)", "size=\(partition.size / sector)", "type=\(partition.type)"]
            if let uuid = partition.uuid { fields.append("uuid=\(uuid)") }
            if let name = partition.name { fields.append("name=\"\(name.replacingOccurrences(of: "\"", with: ""))\"") }
            if let attributes = partition.attributes { fields.append("attrs=\"\(attributes)\"") }
            lines.append(fields.joined(separator: ", "))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

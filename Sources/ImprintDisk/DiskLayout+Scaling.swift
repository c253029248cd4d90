import ImprintCore

extension DiskLayout {
    static let mebibyte: Int64 = 1 << 20

    /// The room a file system with `used` bytes of files needs at least: its files, a tenth more, and 128 MiB for
    /// its journal, inode tables and the first days of use.
    static func minimumSize(used: Int64) -> Int64 {
        alignUp(used + used / 10 + 128 * mebibyte)
    }

    static func alignUp(_ bytes: Int64) -> Int64 { (bytes + mebibyte - 1) / mebibyte * mebibyte }
    static func alignDown(_ bytes: Int64) -> Int64 { bytes / mebibyte * mebibyte }

    /// This layout laid again on a disk of `size` bytes: partitions in the same order, each at a 1 MiB boundary;
    /// the EFI system, BIOS boot and swap partitions (and any whose contents Imprint does not capture) at their
    /// size; the file systems sharing the rest in proportion to their sizes on the master, none below its data plus
    /// a margin and none above its master size, except the growing one (`growing`), which takes what is left.
    /// Every GUID and file system UUID is new, from `newUUID` (upper-case, dashed), so no two units share one.
    /// - Throws: `DiskError.tooSmall` naming both sizes when the disk cannot hold the data with its margins.
    public func scaled(
        toDisk disk: String, size: Int64, sectorSize: Int, newUUID: () -> String
    ) throws(DiskError) -> DiskLayout {
        let sector = Int64(sectorSize)
        // The backup GPT at the disk's end: its header and 128 entries of 128 bytes.
        let backup = (1 + (128 * 128 + sector - 1) / sector) * sector
        let first = Self.mebibyte
        let end = Self.alignDown(size - backup)
        let sizes = try partitionSizes(available: end - first, disk: disk, size: size, overhead: first + backup)
        var laid = self
        laid.diskID = newUUID()
        laid.size = size
        laid.sectorSize = sectorSize
        var start = first
        laid.partitions = partitions.map { partition in
            var copy = partition
            copy.start = start
            copy.size = sizes[partition.number] ?? partition.size
            copy.uuid = newUUID()
            if let type = partition.fileSystem?.type { copy.fileSystem?.uuid = Self.newFileSystemID(type, uuid: newUUID()) }
            start += copy.size
            return copy
        }
        return laid
    }

    /// Each partition's size (by number) when `available` bytes are shared as `scaled` says.
    func partitionSizes(available: Int64, disk: String, size: Int64, overhead: Int64) throws(DiskError) -> [Int: Int64] {
        let growingNumber = growing?.number
        var sizes: [Int: Int64] = [:]
        var minimums: [Int: Int64] = [:]
        var flexible: [PartitionLayout] = []
        for partition in partitions {
            if partition.role.keepsSize || partition.fileSystem?.isCaptured != true {
                sizes[partition.number] = Self.alignUp(partition.size)
            } else {
                flexible.append(partition)
                minimums[partition.number] = Self.minimumSize(used: partition.fileSystem?.usedBytes ?? partition.size)
            }
        }
        let fixed = sizes.values.reduce(0, +)
        let needed = fixed + minimums.values.reduce(0, +)
        guard available >= needed else {
            throw .tooSmall(disk: disk, size: size, needed: needed + overhead)
        }
        let space = available - fixed
        let masterTotal = max(1, flexible.map(\.size).reduce(0, +))
        for partition in flexible where partition.number != growingNumber {
            let share = Self.alignDown(Int64(Double(space) * Double(partition.size) / Double(masterTotal)))
            sizes[partition.number] = max(minimums[partition.number] ?? 0, min(Self.alignUp(partition.size), share))
        }
        if let growingNumber, let need = minimums[growingNumber] {
            var rest = space - flexible.filter { $0.number != growingNumber }.map { sizes[$0.number] ?? 0 }.reduce(0, +)
            // Give back from the others, down to their minimums, until the growing one has its own.
            for partition in flexible where partition.number != growingNumber && rest < need {
                let current = sizes[partition.number] ?? 0
                let taken = min(current - (minimums[partition.number] ?? 0), need - rest)
                sizes[partition.number] = current - taken
                rest += taken
            }
            sizes[growingNumber] = Self.alignDown(rest)
        }
        return sizes
    }

    /// A new file system id of the kind `type` uses: a vfat volume id is 8 hex digits shown as `ABCD-1234`; the
    /// others take a UUID, in lower case as blkid prints it.
    static func newFileSystemID(_ type: String, uuid: String) -> String {
        if type == "vfat" {
            let hex = uuid.filter(\.isHexDigit).prefix(8).uppercased()
            return hex.prefix(4) + "-" + hex.suffix(4)
        }
        return uuid.lowercased()
    }
}

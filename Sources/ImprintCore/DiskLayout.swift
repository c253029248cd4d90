/// A disk as an image remembers it: its partition table and, on each partition, the file system and where the
/// system mounts it. Sizes are in bytes, so a disk of 512-byte sectors and one of 4096-byte sectors read alike.
public struct DiskLayout: Codable, Equatable, Sendable {
    /// `gpt` (the only label a whole-disk restore lays).
    public var label: String
    /// The disk's own GUID on the master (a restore makes a new one).
    public var diskID: String
    public var sectorSize: Int
    /// The whole disk's size on the master.
    public var size: Int64
    public var partitions: [PartitionLayout]
    /// How the master boots, as found on it: `grub-efi`, `shim+grub-efi`, `systemd-boot`, `grub-bios`, or empty.
    public var boot: [String]

    public init(label: String, diskID: String, sectorSize: Int, size: Int64, partitions: [PartitionLayout], boot: [String] = []) {
        self.label = label
        self.diskID = diskID
        self.sectorSize = sectorSize
        self.size = size
        self.partitions = partitions
        self.boot = boot
    }

    /// The partition that takes what a larger or smaller disk adds or lacks: the one marked to grow, else the one
    /// mounted at `/`, else the largest file system.
    public var growing: PartitionLayout? {
        partitions.first { $0.grows } ?? partitions.first { $0.mountPoint == "/" }
            ?? partitions.filter { $0.fileSystem?.isCaptured == true }.max { $0.size < $1.size }
    }
}

/// One partition of a `DiskLayout`.
public struct PartitionLayout: Codable, Equatable, Sendable {
    /// Its number in the table (1 for the first).
    public var number: Int
    /// Where it starts on the master, in bytes.
    public var start: Int64
    public var size: Int64
    /// The GPT type GUID, upper case.
    public var type: String
    /// The partition's own GUID on the master (its PARTUUID).
    public var uuid: String?
    public var name: String?
    /// GPT attribute bits as sfdisk writes them (`RequiredPartition GUID:63`).
    public var attributes: String?
    public var fileSystem: FileSystemLayout?
    /// Where the master's /etc/fstab mounts it (`/`, `/boot/efi`, `/home`); nil when it mounts nowhere (swap,
    /// BIOS boot).
    public var mountPoint: String?
    /// Marked at capture to take what a different disk adds or lacks.
    public var grows: Bool

    public init(
        number: Int, start: Int64, size: Int64, type: String, uuid: String? = nil, name: String? = nil,
        attributes: String? = nil, fileSystem: FileSystemLayout? = nil, mountPoint: String? = nil, grows: Bool = false
    ) {
        self.number = number
        self.start = start
        self.size = size
        self.type = type.uppercased()
        self.uuid = uuid
        self.name = name
        self.attributes = attributes
        self.fileSystem = fileSystem
        self.mountPoint = mountPoint
        self.grows = grows
    }

    /// What the type GUID says the partition is.
    public var role: PartitionRole { PartitionRole(typeGUID: type) }
}

/// The file system on a partition, as `blkid` names it.
public struct FileSystemLayout: Codable, Equatable, Sendable {
    /// `ext4`, `vfat`, `xfs`, `btrfs`, `swap`, ...
    public var type: String
    /// The file system's UUID on the master (`UUID=` in fstab); a vfat volume id is `ABCD-1234`.
    public var uuid: String?
    public var label: String?
    /// The bytes its files use on the master; a restore needs at least this much plus a margin.
    public var usedBytes: Int64?
    /// ext4's feature list (`has_journal,extent,...`), kept so the restore makes the same kind.
    public var features: [String]?

    public init(type: String, uuid: String? = nil, label: String? = nil, usedBytes: Int64? = nil, features: [String]? = nil) {
        self.type = type
        self.uuid = uuid
        self.label = label
        self.usedBytes = usedBytes
        self.features = features
    }

    /// File systems whose files an image holds; swap and unknown ones are only made again.
    public var isCaptured: Bool { ["ext4", "ext3", "ext2", "vfat"].contains(type) }
}

/// What a GPT partition type GUID stands for, as far as imaging cares.
public enum PartitionRole: String, Codable, Sendable {
    case efiSystem = "EFI system"
    case biosBoot = "BIOS boot"
    case swap = "Linux swap"
    case linuxRoot = "Linux root (x86-64)"
    case linuxHome = "Linux /home"
    case linuxData = "Linux file system"
    case linuxLVM = "Linux LVM"
    case linuxRAID = "Linux RAID"
    case microsoftData = "Microsoft basic data"
    case other

    /// Type GUIDs from the UAPI Discoverable Partitions Specification and the UEFI specification.
    static let guids: [String: PartitionRole] = [
        "C12A7328-F81F-11D2-BA4B-00A0C93EC93B": .efiSystem,
        "21686148-6449-6E6F-744E-656564454649": .biosBoot,
        "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F": .swap,
        "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709": .linuxRoot,
        "933AC7E1-2EB4-4F13-B844-0E14E2AEF915": .linuxHome,
        "0FC63DAF-8483-4772-8E79-3D69D8477DE4": .linuxData,
        "E6D6D379-F507-44C2-A23C-238F2A3DF928": .linuxLVM,
        "A19D880F-05FC-4D3B-A006-743F0F84911E": .linuxRAID,
        "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7": .microsoftData,
    ]

    public init(typeGUID: String) {
        self = Self.guids[typeGUID.uppercased()] ?? .other
    }

    /// Partitions a restore lays at the master's size whatever the disk: firmware and swap need no more room on a
    /// bigger disk, and their contents do not shrink.
    public var keepsSize: Bool { self == .efiSystem || self == .biosBoot || self == .swap }
}

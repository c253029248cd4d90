import Foundation
import GRDB
import ImprintCore

// One Codable record per table, each with the column names its queries use.

struct GroupRow: Codable, FetchableRecord, MutablePersistableRecord, Equatable {
    static let databaseTableName = "unitGroup"
    var id: Int64?
    var name: String
    var domain: String?
    var dns: String
    var search: String
    var networkMode: String
    var networkStack: String?
    var namingPattern: String?
    var enroll: Bool
    var defaultPrinterId: Int64?
    /// The group's network document, a template (migration "v8 ...").
    var netplan: String?

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let name = Column(CodingKeys.name)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

struct PrinterRow: Codable, FetchableRecord, MutablePersistableRecord, Equatable {
    static let databaseTableName = "printer"
    var id: Int64?
    var name: String
    var deviceURI: String
    var driver: String
    var location: String?
    var description: String?

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let name = Column(CodingKeys.name)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

struct UnitRow: Codable, FetchableRecord, MutablePersistableRecord, Equatable {
    static let databaseTableName = "unit"
    var id: Int64?
    var hostname: String
    var domain: String?
    var groupId: Int64?
    var model: String?
    var notes: String?
    var defaultPrinterId: Int64?
    var revision: Int
    var createdAt: Date
    var updatedAt: Date
    /// Netplan v2 text the unit's interfaces were read from (migration "v2 ...").
    var netplan: String?
    /// The stack the unit's network is rendered for, over its group's (migration "v2 ...").
    var networkStack: String?

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let hostname = Column(CodingKeys.hostname)
        static let groupId = Column(CodingKeys.groupId)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

struct IdentifierRow: Codable, FetchableRecord, MutablePersistableRecord, Equatable {
    static let databaseTableName = "identifier"
    var id: Int64?
    var unitId: Int64
    var kind: String
    var value: String

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let unitId = Column(CodingKeys.unitId)
        static let kind = Column(CodingKeys.kind)
        static let value = Column(CodingKeys.value)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

struct InterfaceRow: Codable, FetchableRecord, MutablePersistableRecord, Equatable {
    static let databaseTableName = "interface"
    var id: Int64?
    var unitId: Int64
    var position: Int
    /// Nil for a card bound by its name alone (migration "v4 ...").
    var mac: String?
    var name: String?
    var setName: String?
    var addresses: String
    var gateway4: String?
    var gateway6: String?
    var dns: String
    var search: String
    var mtu: Int?
    var wifiSSID: String?
    var wifiPassphrase: String?

    enum Columns {
        static let unitId = Column(CodingKeys.unitId)
        static let position = Column(CodingKeys.position)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension InterfaceRow {
    init(unitId: Int64, position: Int, config: InterfaceConfig) {
        self.init(
            id: nil, unitId: unitId, position: position, mac: config.mac?.value, name: config.name?.value,
            setName: config.setName?.value,
            addresses: config.addresses.map(\.description).joined(separator: " "),
            gateway4: config.gateway4?.value, gateway6: config.gateway6?.value,
            dns: config.dns.map(\.value).joined(separator: " "),
            search: config.search.map(\.value).joined(separator: " "),
            mtu: config.mtu, wifiSSID: config.wifi?.ssid, wifiPassphrase: config.wifi?.passphrase)
    }

    /// The stored row as a checked value; a row that no longer validates is reported, not trusted.
    func config() throws(CoreError) -> InterfaceConfig {
        try InterfaceConfig(
            mac: mac.map { text throws(CoreError) in try MACAddress(text) },
            name: name.map { text throws(CoreError) in try InterfaceName(text) },
            setName: setName.map { text throws(CoreError) in try InterfaceName(text) },
            addresses: ValueList.split(addresses).map { text throws(CoreError) in try IPPrefix(text) },
            gateway4: gateway4.map { text throws(CoreError) in try IPAddress(text, field: "IPv4 gateway") },
            gateway6: gateway6.map { text throws(CoreError) in try IPAddress(text, field: "IPv6 gateway") },
            dns: ValueList.split(dns).map { text throws(CoreError) in try IPAddress(text, field: "DNS server") },
            search: ValueList.split(search).map { text throws(CoreError) in try DomainName(text, field: "search domain") },
            mtu: mtu,
            wifi: wifiSSID.map { ssid throws(CoreError) in try WifiNetwork(ssid: ssid, passphrase: wifiPassphrase) })
    }
}

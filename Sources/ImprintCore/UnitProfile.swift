/// Everything the agent needs to know about one unit: its own record with its group's defaults filled in.
public struct UnitProfile: Codable, Equatable, Sendable {
    public var hostname: Hostname
    public var domain: DomainName?
    public var group: String?
    public var model: String?
    /// Increases on every change to the unit, its group or its printers; the agent runs once per revision.
    public var revision: Int
    public var identifiers: [Identifier]
    /// Configured interfaces, with the group's DNS servers and search domains where the unit gives none.
    public var interfaces: [InterfaceConfig]
    public var networkMode: NetworkMode
    /// The stack to render for, when the unit or its group forces one; nil means "detect it from the image".
    public var networkStack: NetworkStack?
    /// The unit's queues: its group's, then its own.
    public var printers: [PrinterQueue]
    public var defaultPrinter: PrinterName?
    /// The unit's own network document (netplan / cloud-init "version 2") as pasted, when it has one: the netplan
    /// stack writes it as given.
    public var netplan: String?
    /// The unit's custom fields by name: its group's values, overridden by its own.
    public var fields: [String: CustomFieldValue]
    /// The files attached to its group, then its own (a unit's file replaces its group's of the same path).
    public var files: [UnitFile]
    /// The counter its group's naming pattern gave its hostname (7 for RM204-07), when it has one.
    public var seat: Int?
    /// The local accounts of its group, then its own (a unit's account replaces its group's of the same name).
    public var accounts: [LocalAccount]
    /// The offline hooks of its group, then its own (a unit's hook replaces its group's of the same name).
    public var hooks: [Hook]

    public init(
        hostname: Hostname, domain: DomainName?, group: String?, model: String?, revision: Int,
        identifiers: [Identifier], interfaces: [InterfaceConfig], networkMode: NetworkMode,
        networkStack: NetworkStack?, printers: [PrinterQueue], defaultPrinter: PrinterName?, netplan: String? = nil,
        fields: [String: CustomFieldValue] = [:], files: [UnitFile] = [], seat: Int? = nil, accounts: [LocalAccount] = [],
        hooks: [Hook] = []
    ) {
        self.hooks = hooks
        self.accounts = accounts
        self.hostname = hostname
        self.domain = domain
        self.group = group
        self.model = model
        self.revision = revision
        self.identifiers = identifiers
        self.interfaces = interfaces
        self.networkMode = networkMode
        self.networkStack = networkStack
        self.printers = printers
        self.defaultPrinter = defaultPrinter
        self.netplan = netplan
        self.fields = fields
        self.files = files
        self.seat = seat
    }

    /// Reads a profile, one written before custom fields and files included (a server or unit copy not yet upgraded).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        hostname = try container.decode(Hostname.self, forKey: .hostname)
        domain = try container.decodeIfPresent(DomainName.self, forKey: .domain)
        group = try container.decodeIfPresent(String.self, forKey: .group)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        revision = try container.decode(Int.self, forKey: .revision)
        identifiers = try container.decode([Identifier].self, forKey: .identifiers)
        interfaces = try container.decode([InterfaceConfig].self, forKey: .interfaces)
        networkMode = try container.decode(NetworkMode.self, forKey: .networkMode)
        networkStack = try container.decodeIfPresent(NetworkStack.self, forKey: .networkStack)
        printers = try container.decode([PrinterQueue].self, forKey: .printers)
        defaultPrinter = try container.decodeIfPresent(PrinterName.self, forKey: .defaultPrinter)
        netplan = try container.decodeIfPresent(String.self, forKey: .netplan)
        fields = try container.decodeIfPresent([String: CustomFieldValue].self, forKey: .fields) ?? [:]
        files = try container.decodeIfPresent([UnitFile].self, forKey: .files) ?? []
        seat = try container.decodeIfPresent(Int.self, forKey: .seat)
        accounts = try container.decodeIfPresent([LocalAccount].self, forKey: .accounts) ?? []
        hooks = try container.decodeIfPresent([Hook].self, forKey: .hooks) ?? []
    }

    /// The fully qualified name, or the bare hostname when the unit has no domain.
    public var fqdn: String { (try? hostname.qualified(in: domain)) ?? hostname.value }
}

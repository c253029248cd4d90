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

    public init(
        hostname: Hostname, domain: DomainName?, group: String?, model: String?, revision: Int,
        identifiers: [Identifier], interfaces: [InterfaceConfig], networkMode: NetworkMode,
        networkStack: NetworkStack?, printers: [PrinterQueue], defaultPrinter: PrinterName?, netplan: String? = nil
    ) {
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
    }

    /// The fully qualified name, or the bare hostname when the unit has no domain.
    public var fqdn: String { (try? hostname.qualified(in: domain)) ?? hostname.value }
}

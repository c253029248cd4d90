import ImprintInventory

struct GroupView: Encodable {
    var name: String
    @Nullable var domain: String?
    var dns: [String]
    var search: [String]
    var networkMode: String
    @Nullable var networkStack: String?
    @Nullable var namingPattern: String?
    var enroll: Bool
    var printers: [String]
    @Nullable var defaultPrinter: String?
    var units: Int
    /// Custom field values; secret ones as `********`.
    var fields: [String: String]

    init(_ record: GroupRecord) {
        let draft = record.draft
        name = draft.name
        domain = draft.domain?.value
        dns = draft.dns.map(\.value)
        search = draft.search.map(\.value)
        networkMode = draft.networkMode.rawValue
        networkStack = draft.networkStack?.rawValue
        namingPattern = draft.namingPattern?.description
        enroll = draft.enroll
        printers = draft.printers.map(\.value)
        defaultPrinter = draft.defaultPrinter?.value
        units = record.unitCount
        fields = draft.fields.reduce(into: [:]) { masked, field in
            masked[field.key] = record.secretFields.contains(field.key) ? "********" : field.value
        }
    }
}

import Foundation
import ImprintCore
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
    /// The group's network document (a template), `********` when it holds a secret (a Wi-Fi password), null for none.
    @Nullable var networkDocument: String?

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
        networkDocument = draft.netplan.map { Self.holdsSecret($0) ? "********" : $0 }
    }

    /// Whether a network document holds a secret, read as YAML with each Mustache tag standing for a plain value (a
    /// template that does not read even so is taken as secret).
    static func holdsSecret(_ template: String) -> Bool {
        NetplanV2.holdsSecret(template.replacingOccurrences(of: #"\{\{\{?[^}]*\}?\}\}"#, with: "v", options: .regularExpression))
    }
}

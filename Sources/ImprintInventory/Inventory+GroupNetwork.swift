import GRDB
import ImprintCore
import ImprintTemplates

/// A group's network document: netplan "version 2" written once for a room (its bridge, its VLAN, its routes) as a
/// Mustache template of each unit's values, so that 30 units of a CSV give 30 addresses and no 30 documents.
extension Inventory {
    /// `text` as a group keeps it: a template whose every name is a value a unit has (`hostname`, `address`, `mac`...)
    /// or a declared custom field.
    func checkedNetworkDocument(_ text: String, group: String, db: Database) throws -> String {
        let names: TemplateNames
        do throws(CoreError) { names = try TemplateNames.scan(text) } catch { throw InventoryError.invalid(error) }
        let declared = try Self.fieldRows(db).map(\.field.name)
        for name in names.all.sorted() where !CustomField.builtInNames.contains(name) && !declared.contains(name) {
            let closest = Self.closest(to: name, among: CustomField.builtInNames + declared)
            throw InventoryError.invalid(.invalidValue(
                field: "network document of group \(group)", value: name,
                reason: "is neither a built-in value nor a field of the inventory"
                    + (closest.map { " (the closest is \(quoted($0)))" } ?? "")
                    + "; fix the name, or declare it with 'imprint inventory field add \(name)'"))
        }
        return text
    }

    /// Renders the group's document for every unit of the group that has none of its own, so a document that does
    /// not fit one of them (a value it lacks, an address that is not one) is refused naming that unit, as is one
    /// that gives two units the same static address (written into the document rather than taken from `{{address}}`).
    func checkNetworkDocument(groupId: Int64, db: Database) throws {
        let ids = try Int64.fetchAll(db, sql: "SELECT id FROM unit WHERE groupId = ? AND netplan IS NULL ORDER BY hostname", arguments: [groupId])
        var owners: [String: String] = [:]
        for id in ids {
            let profile = try record(id: id, db: db).profile
            for address in profile.interfaces.flatMap(\.addresses).map(\.address.value) {
                if let other = owners[address] {
                    throw InventoryError.invalid(.invalidValue(
                        field: "network document of group \(profile.group ?? "")", value: address,
                        reason: "gives both \(other) and \(profile.hostname.value) this address; write {{address}} and give each unit its own"))
                }
                owners[address] = profile.hostname.value
            }
        }
    }

    static func hasNetworkDocument(groupId: Int64, db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT netplan IS NOT NULL FROM unitGroup WHERE id = ?", arguments: [groupId]) ?? false
    }

    /// `document` rendered with the values of `profile` (its own cards' address among them) and read as netplan.
    /// - Throws: `InventoryError.invalid` naming the group and the unit: a value the unit lacks, or a rendered
    ///   document netplan's rules refuse.
    static func renderNetworkDocument(
        _ document: String, group: String, for profile: UnitProfile
    ) throws(InventoryError) -> (text: String, interfaces: [InterfaceConfig]) {
        let unit = profile.hostname.value
        let field = "network document of group \(group)"
        let text: String
        do {
            text = try Template.renderUnitValues(
                document, name: field, source: "the inventory", values: UnitFile.values(of: profile)
            ) { name in
                let how = CustomField.builtInNames.contains(name)
                    ? "record it for the unit (an address: 'imprint inventory set \(unit) --ipv4 ADDRESS/PREFIX')"
                    : "give it one with 'imprint inventory set \(unit) --field \(name)=VALUE'"
                return .invalidValue(field: field, value: name, reason: "unit \(unit) has no \(name); \(how), or test it in a section {{#\(name)}}...{{/\(name)}}")
            }
        } catch let error as CoreError {
            throw .invalid(error)
        } catch {
            throw .invalid(.invalidValue(field: field, value: group, reason: "\(error)"))
        }
        do throws(CoreError) {
            return (text, try NetplanV2.interfaces(text))
        } catch {
            throw .invalid(.invalidValue(field: field, value: unit, reason: "rendered for this unit, it is not a network netplan accepts: \(error)"))
        }
    }
}

import ArgumentParser
import ImprintCore

struct FieldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "field", abstract: "Declare the custom fields units and groups hold (a licence key, a room's Veyon name).",
        discussion: """
            A field is valued per unit ('inventory set UNIT --field NAME=VALUE') and per group ('group set'); a \
            unit's own value wins over its group's. Attached files name fields in their templates ('{{licence_key}}'), \
            and a units or groups CSV carries them as columns of the same name. A secret field's value is never \
            printed (masked in 'show --json', diffs and errors), and a file using it is a secret file.
            """,
        subcommands: [FieldAdd.self, FieldRemove.self, FieldList.self])
}

struct FieldAdd: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Declare a custom field.",
        discussion: "Example: imprint inventory field add licence_key --secret")

    @Argument(help: "The field's name: a lowercase letter, then lowercase letters, digits and '_'.") var name: String
    @Flag(help: "The values are secrets: never printed, and files using them are mode 0600.") var secret = false
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        do { _ = try CustomField(name: name) } catch { throw ValidationError("\(error)") }
    }

    func run(_ context: CommandContext) throws {
        try global.openInventory(context).addField(try CustomField(name: name, secret: secret))
        context.print("declared \(secret ? "secret " : "")field \(name)")
    }
}

struct FieldRemove: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove a custom field and every value of it (refused while a file uses it).")

    @Argument(help: "The field's name.") var name: String
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        try global.openInventory(context).removeField(name)
        context.print("removed field \(name)")
    }
}

struct FieldList: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the custom fields.")

    @Flag(help: "Print JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let fields = try global.openInventory(context, readOnly: true).customFields()
        if json {
            try context.printJSON(fields)
            return
        }
        context.print(Render.table(["FIELD", "SECRET"], fields.map { [$0.name, $0.secret ? "yes" : "no"] }))
    }
}

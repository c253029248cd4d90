import ArgumentParser
import ImprintCore
import ImprintInventory

struct FileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "file", abstract: "Attach files to a group or a unit: the agent's files step writes them into the root.",
        discussion: """
            A file's content is a Mustache template rendered with the unit's values (hostname, domain, fqdn, group, \
            model, serial, uuid, asset_tag, mac, macs, address, addresses, seat, revision) and its custom fields, or \
            the value of one custom field as it is (--from-field: a licence key per unit). A unit's file replaces its \
            group's file of the same path. A file using a secret field is secret: mode 0600 unless --mode says \
            otherwise (owner-only in any case), its contents never shown.
            """,
        subcommands: [FileAdd.self, FileRemove.self, FileList.self])
}

/// Where a file command attaches: `--group` or `--unit`, exactly one.
struct AttachmentOptions: ParsableArguments {
    @Option(help: "The group whose every unit gets the file.") var group: String?
    @Option(help: "The unit (hostname or identifier) that gets the file.") var unit: String?

    func validate() throws {
        if (group == nil) == (unit == nil) { throw ValidationError("give either '--group' or '--unit'") }
    }

    /// The group, else the unit: `validate` has made sure exactly one is given.
    var attachment: Attachment { group.map { .group($0) } ?? .unit(unit ?? "") }
}

/// Which attachments a list command shows: `--group`, `--unit`, or neither for all.
struct AttachmentFilter: ParsableArguments {
    @Option(help: "Only those of this group.") var group: String?
    @Option(help: "Only those of this unit (hostname or identifier).") var unit: String?

    func validate() throws {
        if group != nil && unit != nil { throw ValidationError("give '--group' or '--unit', not both") }
    }

    var attachment: Attachment? { group.map { .group($0) } ?? unit.map { .unit($0) } }
}

struct FileAdd: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Attach a file to a group or a unit (replacing the file of the same path there).",
        discussion: """
            Examples:
              imprint inventory file add /etc/veyon/seat.conf --group RM204 --template seat.conf.mustache
              imprint inventory file add /opt/cad/licence.key --group RM204 --from-field licence_key
            """)

    @Argument(help: "The file's path as the unit sees it (absolute, no '..').") var path: String
    @OptionGroup var target: AttachmentOptions
    @Option(help: ArgumentHelp("A Mustache template file ('-' reads standard input).", valueName: "file")) var template: String?
    @Option(name: .customLong("from-field"), help: ArgumentHelp("Write this custom field's value as the file's content.", valueName: "name"))
    var fromField: String?
    @Option(help: "Octal mode (default 0644; 0600 for a secret file).") var mode: String?
    @Option(help: ArgumentHelp("Owner and group in the image, by name or number (default root:root).", valueName: "user[:group]"))
    var owner: String?
    @Flag(help: "The contents are secret: never shown, mode 0600 by default.") var secret = false
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if (template == nil) == (fromField == nil) { throw ValidationError("give either '--template' or '--from-field'") }
        do {
            _ = try UnitFile.checkPath(path)
            if let mode { _ = try UnitFile.parseMode(mode) }
        } catch { throw ValidationError(error.description) }
    }

    func run(_ context: CommandContext) throws {
        let attachment = target.attachment
        let content: UnitFile.Content = try template.map { .template(try readInput($0)) } ?? .field(fromField ?? "")
        let parts = (owner ?? "root").split(separator: ":", maxSplits: 1).map(String.init)
        let file = try UnitFile(
            path: path, content: content, mode: try mode.map { text throws(CoreError) in try UnitFile.parseMode(text) },
            owner: parts.first ?? "root", group: parts.count > 1 ? parts[1] : parts.first ?? "root", secret: secret)
        let stored = try global.openInventory(context).attachFile(file, to: attachment)
        context.print("attached \(stored.path) to \(attachment)" + (stored.secret ? " (secret, mode \(modeText(stored.effectiveMode)))" : ""))
    }
}

struct FileRemove: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Detach a file; the next run of each unit it reached removes it from the unit.")

    @Argument(help: "The file's path as attached.") var path: String
    @OptionGroup var target: AttachmentOptions
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let attachment = target.attachment
        try global.openInventory(context).detachFile(path, from: attachment)
        context.print("detached \(path) from \(attachment)")
    }
}

struct FileList: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the attached files (of one group or unit, or all); a secret file's template is not shown.")

    @OptionGroup var filter: AttachmentFilter
    @Flag(help: "Print JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let files = try global.openInventory(context, readOnly: true).attachedFiles(of: filter.attachment)
        if json {
            try context.printJSON(files.map(FileView.init))
            return
        }
        context.print(Render.table(
            ["PATH", "ATTACHED TO", "CONTENT", "MODE", "OWNER", "SECRET"],
            files.map { attached in
                let file = attached.file
                let content: String
                switch file.content {
                case .template(let text): content = "template, \(text.utf8.count) bytes"
                case .field(let name): content = "field \(name)"
                }
                return [file.path, attached.attachment.description, content, modeText(file.effectiveMode),
                        "\(file.owner):\(file.group)", file.secret ? "yes" : "no"]
            }))
    }
}

/// An attached file in `file list --json`; a secret file's template is null.
struct FileView: Encodable {
    var path: String
    @Nullable var group: String?
    @Nullable var unit: String?
    @Nullable var template: String?
    @Nullable var field: String?
    var mode: String
    var owner: String
    var fileGroup: String
    var secret: Bool

    init(_ attached: AttachedFile) {
        let file = attached.file
        path = file.path
        switch attached.attachment {
        case .group(let name): group = name
        case .unit(let name): unit = name
        }
        switch file.content {
        case .template(let text): template = file.secret ? nil : text
        case .field(let name): field = name
        }
        mode = modeText(file.effectiveMode)
        owner = file.owner
        fileGroup = file.group
        secret = file.secret
    }
}

/// A mode in octal as chmod takes it: `0640`.
func modeText(_ mode: UInt32) -> String { FileMetadata(mode: mode).modeText }

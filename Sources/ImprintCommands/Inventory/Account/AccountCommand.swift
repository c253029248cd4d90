import ArgumentParser
import Foundation
import ImprintCore
import ImprintInventory

struct AccountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Give a group's units or one unit local accounts (a kiosk user, an exam account).",
        discussion: """
            The agent's accounts step writes each account into the image's /etc/passwd, /etc/shadow, /etc/group and \
            /etc/gshadow (one journaled run: never a half-written /etc/shadow), with a home from /etc/skel for a new \
            one, and --autologin into LightDM's or GDM's own configuration. A unit's account replaces its group's of \
            the same name. The password hash is a secret: never printed.
            """,
        subcommands: [AccountAdd.self, AccountRemove.self, AccountList.self])
}

struct AccountAdd: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add (or replace) a local account of a group's units or one unit.",
        discussion: """
            Examples:
              imprint inventory account add kiosk --group RM204 --autologin --groups audio,video
              imprint inventory account add tech --group RM204 --password-hash-file tech.hash --groups sudo
            Make a hash with 'mkpasswd -m yescrypt' (package whois); without one the password is locked.
            """)

    @Argument(help: "The user name (lowercase letters, digits, '_' and '-').") var name: String
    @OptionGroup var target: AttachmentOptions
    @Option(help: ArgumentHelp("Supplementary groups of the image (repeatable, or a list).", valueName: "group")) var groups: [String] = []
    @Option(help: "The login shell, a path in the image.") var shell: String = LocalAccount.defaultShell
    @Option(name: .customLong("password-hash-file"), help: ArgumentHelp(
        "A file holding the crypt(3) hash ('$y$...'), kept off the command line; without it the password is locked.", valueName: "file"))
    var passwordHashFile: String?
    @Flag(help: "Log this account in automatically on the unit's display (LightDM or GDM).") var autologin = false
    @OptionGroup var global: GlobalOptions

    func account() throws -> LocalAccount {
        var hash: String?
        if let passwordHashFile {
            guard let data = FileManager.default.contents(atPath: passwordHashFile), let text = String(data: data, encoding: .utf8) else {
                throw CommandFailure(status: .missingInput, message: "'--password-hash-file': cannot read \(quoted(passwordHashFile))")
            }
            hash = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return try LocalAccount(name: name, groups: ValueList.split(groups), shell: shell, passwordHash: hash, autologin: autologin)
    }

    func run(_ context: CommandContext) throws {
        let attachment = target.attachment
        let account = try account()
        try global.openInventory(context).addAccount(account, to: attachment)
        context.print("account \(account.name) for \(attachment)\(account.autologin ? ", logged in automatically" : "")"
            + (account.passwordHash == nil ? ", password locked" : ""))
    }
}

struct AccountRemove: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Take an account off the record (units keep the user; lock it first to stop its logins).")

    @Argument(help: "The user name.") var name: String
    @OptionGroup var target: AttachmentOptions
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let attachment = target.attachment
        try global.openInventory(context).removeAccount(name, from: attachment)
        context.print("removed account \(name) from \(attachment)")
    }
}

struct AccountList: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the local accounts (of one group or unit, or all).")

    @OptionGroup var filter: AttachmentFilter
    @Flag(help: "Print JSON (password hashes masked).") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let accounts = try global.openInventory(context, readOnly: true).attachedAccounts(of: filter.attachment)
        if json {
            try context.printJSON(accounts.map(AccountView.init))
            return
        }
        context.print(Render.table(
            ["ACCOUNT", "ATTACHED TO", "GROUPS", "SHELL", "PASSWORD", "AUTOLOGIN"],
            accounts.map { attached in
                let account = attached.account
                return [account.name, attached.attachment.description, account.groups.joined(separator: ","), account.shell,
                        account.passwordHash == nil ? "locked" : "set", account.autologin ? "yes" : "no"]
            }))
    }
}

/// An account in `account list --json`: the hash never, only whether there is one.
struct AccountView: Encodable {
    var name: String
    @Nullable var group: String?
    @Nullable var unit: String?
    var groups: [String]
    var shell: String
    /// `locked`, or `********` when a hash is set.
    var password: String
    var autologin: Bool

    init(_ attached: AttachedAccount) {
        let account = attached.account
        name = account.name
        switch attached.attachment {
        case .group(let name): group = name
        case .unit(let name): unit = name
        }
        groups = account.groups
        shell = account.shell
        password = account.passwordHash == nil ? "locked" : "********"
        autologin = account.autologin
    }
}

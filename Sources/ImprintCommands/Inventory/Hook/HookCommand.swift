import ArgumentParser
import ImprintCore
import ImprintInventory

struct HookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook", abstract: "Give a group's units or one unit hooks: commands run offline in a chroot of the unit's root, or at first boot.",
        discussion: """
            The agent's hooks step runs the offline ones in order, after the files are in place, with the image's \
            /bin/sh in a chroot of the root with no network (private mount, PID and network namespaces), once per \
            record revision. --first-boot hooks run on the unit once its network is up (imprint-hooks.service), once \
            per revision too. A hook that fails or runs past its timeout fails the run, which rolls its files back; \
            what the hook itself changed cannot be rolled back. Its output goes into the identity line and the \
            run's journal.
            """,
        subcommands: [HookAdd.self, HookRemove.self, HookList.self])
}

struct HookAdd: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add (or replace) an offline hook of a group's units or one unit.",
        discussion: "Example: imprint inventory hook add default-target --group RM204 --command 'systemctl set-default graphical.target'")

    @Argument(help: "The hook's name (lowercase letters, digits, '_' and '-').") var name: String
    @OptionGroup var target: AttachmentOptions
    @Option(help: "The command line, run with /bin/sh -c in the chroot.") var command: String
    @Option(help: "Seconds it may run before it is killed and the run fails (1 to 86400).") var timeout: Int = Hook.defaultTimeout
    @Flag(name: .customLong("first-boot"), help: "Run it on the unit at first boot, once its network is up, instead of offline.")
    var firstBoot = false
    @OptionGroup var global: GlobalOptions

    func hook() throws(CoreError) -> Hook {
        try Hook(name: name, command: command, timeout: timeout, phase: firstBoot ? .firstBoot : .offline)
    }

    func validate() throws {
        do { _ = try hook() } catch { throw ValidationError("\(error)") }
    }

    func run(_ context: CommandContext) throws {
        let attachment = target.attachment
        let hook = try hook()
        try global.openInventory(context).addHook(hook, to: attachment)
        context.print("\(hook.phase.rawValue) hook \(name) for \(attachment), timeout \(timeout) s")
    }
}

struct HookRemove: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Take a hook off the record (what it did on the units stays).")

    @Argument(help: "The hook's name.") var name: String
    @OptionGroup var target: AttachmentOptions
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let attachment = target.attachment
        try global.openInventory(context).removeHook(name, from: attachment)
        context.print("removed hook \(name) from \(attachment)")
    }
}

struct HookList: ContextCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the offline hooks (of one group or unit, or all), in the order they run.")

    @OptionGroup var filter: AttachmentFilter
    @Flag(help: "Print JSON.") var json = false
    var reportsJSON: Bool { json }
    @OptionGroup var global: GlobalOptions

    func run(_ context: CommandContext) throws {
        let hooks = try global.openInventory(context, readOnly: true).attachedHooks(of: filter.attachment)
        if json {
            try context.printJSON(hooks.map(HookView.init))
            return
        }
        context.print(Render.table(
            ["HOOK", "ATTACHED TO", "PHASE", "TIMEOUT", "COMMAND"],
            hooks.map { [$0.hook.name, $0.attachment.description, $0.hook.phase.rawValue, "\($0.hook.timeout) s", $0.hook.command] }))
    }
}

/// A hook in `hook list --json`.
struct HookView: Encodable {
    var name: String
    @Nullable var group: String?
    @Nullable var unit: String?
    var command: String
    var timeout: Int
    /// `offline` or `first-boot`.
    var phase: String

    init(_ attached: AttachedHook) {
        name = attached.hook.name
        switch attached.attachment {
        case .group(let name): group = name
        case .unit(let name): unit = name
        }
        command = attached.hook.command
        timeout = attached.hook.timeout
        phase = attached.hook.phase.rawValue
    }
}

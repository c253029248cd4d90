import ArgumentParser

struct GroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group", abstract: "Manage groups (a room, a cart, a site) and the defaults their units inherit.",
        subcommands: [GroupAdd.self, GroupSet.self, GroupRemove.self, GroupShow.self, GroupList.self])
}

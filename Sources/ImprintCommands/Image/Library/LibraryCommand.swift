import ArgumentParser

struct LibraryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "library",
        abstract: "Keep images in a folder, told apart by hardware model.",
        discussion: "'imprint restore --library DIR --root DIR' picks the newest image made for the unit's model.",
        subcommands: [LibraryListCommand.self, LibraryAddCommand.self, LibraryRemoveCommand.self, LibraryVerifyCommand.self])
}

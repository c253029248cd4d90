import ArgumentParser

struct PrinterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "printer", abstract: "Manage the print queues that groups and units are given.",
        subcommands: [PrinterAdd.self, PrinterSet.self, PrinterRemove.self, PrinterList.self])
}

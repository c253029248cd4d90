import ArgumentParser
import Foundation
import ImprintCore

/// The generalize operations of `capture`: choosing them with --operations and listing them.
extension CaptureCommand {
    /// The generalize operations to run: those `--operations` chooses, else the defaults with `--generalize`.
    func chosenOperations() throws -> [GeneralizeOperation] {
        guard !operationLists.isEmpty else { return generalize ? GeneralizeOperation.defaults : [] }
        let chosen: [GeneralizeOperation]
        do {
            chosen = try GeneralizeOperation.chosen(by: operationLists)
        } catch {
            guard case .invalidValue(_, let name, _) = error else { throw error }
            throw ValidationError("'--operations' names '\(name)', which is no generalize operation; 'imprint capture --list-operations' lists them")
        }
        if chosen.isEmpty {
            throw ValidationError("'--operations' leaves no operation to run; 'imprint capture --list-operations' lists them")
        }
        return chosen
    }

    /// One generalize operation as `--list-operations --json` prints it.
    struct OperationView: Encodable {
        var name: String
        var isDefault: Bool
        var description: String
        var paths: [String]

        enum CodingKeys: String, CodingKey { case name, isDefault = "default", description, paths }
    }

    /// Prints every generalize operation, one a line: name, '*' for a default, what it leaves out.
    func printOperations(_ context: CommandContext) throws {
        let operations = GeneralizeOperation.all
        if json {
            return try context.printJSON(operations.map { operation in
                OperationView(
                    name: operation.name, isDefault: operation.isDefault, description: operation.about,
                    paths: operation.entries.flatMap { $0.patterns.map(\.description) })
            })
        }
        let width = operations.map(\.name.count).max() ?? 0
        for operation in operations {
            context.print(operation.name.padding(toLength: width, withPad: " ", startingAt: 0) + (operation.isDefault ? "  *  " : "     ") + operation.about)
        }
    }
}

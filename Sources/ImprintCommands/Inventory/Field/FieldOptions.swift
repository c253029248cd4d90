import ArgumentParser
import Foundation
import ImprintCore

/// The custom field values `inventory add`, `inventory set`, `group add` and `group set` take.
struct FieldOptions: ParsableArguments {
    @Option(name: .customLong("field"), help: ArgumentHelp(
        "A custom field's value (repeatable); an empty value removes it ('licence_key=').", valueName: "name=value"))
    var fields: [String] = []
    @Option(name: .customLong("field-file"), help: ArgumentHelp(
        "A custom field's value read from a file, for a secret kept off the command line (repeatable).",
        valueName: "name=file"))
    var fieldFiles: [String] = []

    /// The values by field name; a file's value loses its last line break.
    func values() throws -> [String: String] {
        var values: [String: String] = [:]
        for (assignment, flag) in fields.map({ ($0, "--field") }) + fieldFiles.map({ ($0, "--field-file") }) {
            guard let equals = assignment.firstIndex(of: "=") else {
                throw ValidationError("'\(flag)' takes NAME=\(flag == "--field" ? "VALUE" : "FILE"), such as licence_key=\(flag == "--field" ? "ABCD-1234" : "key.txt"); got \(quoted(assignment))")
            }
            let name = String(assignment[..<equals]).trimmingSpaces()
            var value = String(assignment[assignment.index(after: equals)...])
            if flag == "--field-file" {
                guard let data = FileManager.default.contents(atPath: value), let text = String(data: data, encoding: .utf8) else {
                    throw CommandFailure(status: .missingInput, message: "'--field-file': cannot read \(quoted(value))")
                }
                value = text.hasSuffix("\n") ? String(text.dropLast()) : text
            }
            values[name] = value
        }
        return values
    }
}

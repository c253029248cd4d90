import Foundation
import ImprintCore

/// The text of `path`, or of standard input for `-`.
func readInput(_ path: String) throws -> String {
    let data: Data?
    if path == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        data = FileManager.default.contents(atPath: path)
    }
    guard let data else {
        throw CommandFailure(status: .missingInput, message: "cannot read \(quoted(path)): no such file, or not readable")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw CommandFailure(status: .invalidInput, message: "\(quoted(path)) is not UTF-8 text; save the spreadsheet as CSV UTF-8")
    }
    return text
}

import Foundation
import ImprintCore
import Testing

@Suite struct NetplanExamplesTests {
    static let examples = "/usr/share/doc/netplan/examples/"

    /// The README's table of netplan's shipped examples, by file: whether it is accepted, and the reason column.
    static func readmeTable() throws -> [String: (accepted: Bool, reason: String)] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let start = try #require(text.range(of: "<!-- netplan examples: checked by NetplanExamplesTests -->"))
        var rows: [String: (Bool, String)] = [:]
        for line in text[start.upperBound...].split(separator: "\n").dropFirst(2) {
            guard line.hasPrefix("| `") else { break }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            rows[cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = (cells[2] == "accepted", cells[3])
        }
        return rows
    }

    /// Every one of the 29 examples netplan ships is in the README's table, and the reader agrees with it: an
    /// accepted one reads, a refused one is refused with a message holding the table's quoted value (the last
    /// `code` in its reason), so the README cannot drift from the code; no message carries a password or key.
    @Test func readmeTableMatchesTheReader() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.examples).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count == 29)
        let table = try Self.readmeTable()
        #expect(Set(table.keys) == Set(files))
        for file in files {
            let text = try String(contentsOfFile: Self.examples + file, encoding: .utf8)
            let row = table[file]
            do {
                _ = try NetplanV2.interfaces(text)
                #expect(row?.accepted == true, "\(file) is accepted, the README says otherwise")
            } catch {
                // The examples' passwords and keys never reach a message.
                for secret in ["v3ryS3kr1t", "d3cryptPr1v4t3K3y", "CINGULAR1", "**********", "4GgaQCy68nzNsUE5aJ9fuLzHhB65tAlwbmA72MWnOm8="] {
                    #expect(!"\(error)".contains(secret), "\(file): \(error)")
                }
                #expect(row?.accepted == false, "\(file) is refused (\(error)), the README says accepted")
                let reason = row?.reason ?? ""
                let parts = reason.split(separator: "`", omittingEmptySubsequences: false)
                let quotedValue = parts.count >= 3 ? String(parts[parts.count - 2]) : "(no `value` in the reason)"
                #expect("\(error)".contains("'\(quotedValue)'"), "\(file): \(error) does not name '\(quotedValue)'")
            }
        }
    }
}

import Foundation
import ImprintCore

/// `/etc/cups/printers.conf` as a list of parts: the lines outside any queue (comments, `NextPrinterId`) and each
/// queue's `<Printer NAME>` or `<DefaultPrinter NAME>` block, kept as its exact text so that a queue Imprint does
/// not own is written back byte for byte.
struct PrintersConf: Equatable {
    /// One queue's block: its opening line, the lines inside, and its closing line, each with its line ending.
    struct Queue: Equatable {
        var name: String
        var isDefault: Bool
        var opening: String
        var body: String
        var closing: String

        var text: String { opening + body + closing }

        /// The same block as a plain `<Printer>` (or as the `<DefaultPrinter>`), its body untouched.
        func asDefault(_ wanted: Bool) -> Queue {
            guard wanted != isDefault else { return self }
            let tag = wanted ? "DefaultPrinter" : "Printer"
            let ending = opening.hasSuffix("\r\n") ? "\r\n" : opening.hasSuffix("\n") ? "\n" : ""
            let closingEnding = closing.hasSuffix("\r\n") ? "\r\n" : closing.hasSuffix("\n") ? "\n" : ""
            return Queue(
                name: name, isDefault: wanted, opening: "<\(tag) \(name)>" + ending, body: body,
                closing: "</\(tag)>" + closingEnding)
        }
    }

    enum Part: Equatable {
        /// A line outside every block, with its line ending.
        case line(String)
        case queue(Queue)
    }

    var parts: [Part]

    var queues: [Queue] {
        parts.compactMap { part in
            if case .queue(let queue) = part { return queue }
            return nil
        }
    }

    var text: String {
        parts.map { part in
            switch part {
            case .line(let line): return line
            case .queue(let queue): return queue.text
            }
        }.joined()
    }

    /// Splits `text` as cupsd reads it: a line whose first word is `<Printer NAME>` or `<DefaultPrinter NAME>`
    /// opens a queue, `</Printer>` or `</DefaultPrinter>` closes it. Classes (classes.conf) are not in this file.
    /// - Throws: `AgentError.printers` for a block left open or closed without being opened, naming the line.
    init(parsing text: String, path: String) throws(AgentError) {
        parts = []
        var open: (queue: Queue, line: Int)?
        for (index, line) in Self.lines(text).enumerated() {
            let word = line.trimmingCharacters(in: .whitespacesAndNewlines)
            let lower = word.lowercased()
            if lower.hasPrefix("<printer ") || lower.hasPrefix("<defaultprinter ") {
                if let open {
                    throw .printers(
                        "\(quoted(path)) line \(index + 1) opens a queue inside queue \(quoted(open.queue.name)) "
                            + "(opened on line \(open.line)); fix the file or move it aside")
                }
                let isDefault = lower.hasPrefix("<defaultprinter ")
                let name = word.dropFirst(isDefault ? 16 : 9).prefix { $0 != ">" }.trimmingCharacters(in: .whitespaces)
                open = (Queue(name: name, isDefault: isDefault, opening: line, body: "", closing: ""), index + 1)
            } else if lower == "</printer>" || lower == "</defaultprinter>" {
                guard var queue = open?.queue else {
                    throw .printers("\(quoted(path)) line \(index + 1) closes a queue that was never opened; fix the file or move it aside")
                }
                queue.closing = line
                parts.append(.queue(queue))
                open = nil
            } else if open != nil {
                open?.queue.body += line
            } else {
                parts.append(.line(line))
            }
        }
        if let open {
            throw .printers(
                "\(quoted(path)) ends inside queue \(quoted(open.queue.name)) (opened on line \(open.line)); "
                    + "fix the file or move it aside")
        }
    }

    init(parts: [Part]) {
        self.parts = parts
    }

    /// The lines of `text`, each with its own line ending (the last one may have none).
    static func lines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = ""
        for character in text {
            current.append(character)
            if character == "\n" || character == "\r\n" {
                lines.append(current)
                current = ""
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// A value as cupsd writes it into its configuration files: `#` starts a comment there, so it is escaped.
    static func escaped(_ value: String) -> String {
        value.replacingOccurrences(of: "#", with: "\\#")
    }
}

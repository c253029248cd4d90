import Foundation

/// Unified diffs (`diff -u` style) of small text files, for `--dry-run`.
public enum UnifiedDiff {
    /// The diff turning `old` into `new` for the file `path`, or an empty string when they are equal.
    /// Binary contents (a NUL byte, or not UTF-8) are summarised in one line instead.
    /// - Parameters:
    ///   - old: the current contents, nil when the file does not exist.
    ///   - new: the planned contents, nil when the file is removed.
    ///   - context: unchanged lines shown around each change.
    public static func render(path: String, old: Data?, new: Data?, context: Int = 3) -> String {
        if old == new { return "" }
        let oldLabel = old == nil ? "/dev/null" : "a\(path)"
        let newLabel = new == nil ? "/dev/null" : "b\(path)"
        guard let oldText = text(old), let newText = text(new) else {
            let describe = { (data: Data?) in data.map { "\($0.count) bytes" } ?? "absent" }
            return "--- \(oldLabel)\n+++ \(newLabel)\n@@ binary: \(describe(old)) -> \(describe(new)) @@\n"
        }
        let oldLines = lines(oldText)
        let newLines = lines(newText)
        let edits = diff(oldLines, newLines)
        var output = "--- \(oldLabel)\n+++ \(newLabel)\n"
        for hunk in hunks(edits, context: context) {
            let oldStart = hunk.first { $0.kind != .insert }?.oldIndex ?? hunk.first?.oldIndex ?? 0
            let newStart = hunk.first { $0.kind != .delete }?.newIndex ?? hunk.first?.newIndex ?? 0
            let oldCount = hunk.filter { $0.kind != .insert }.count
            let newCount = hunk.filter { $0.kind != .delete }.count
            output += "@@ -\(range(oldStart, oldCount)) +\(range(newStart, newCount)) @@\n"
            for edit in hunk {
                switch edit.kind {
                case .keep: output += " \(edit.line)\n"
                case .delete: output += "-\(edit.line)\n"
                case .insert: output += "+\(edit.line)\n"
                }
            }
        }
        return output
    }

    struct Edit {
        enum Kind { case keep, delete, insert }
        var kind: Kind
        var line: String
        var oldIndex: Int
        var newIndex: Int
    }

    private static func text(_ data: Data?) -> String? {
        guard let data else { return "" }
        if data.contains(0) { return nil }
        return String(data: data, encoding: .utf8)
    }

    private static func lines(_ text: String) -> [String] {
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    private static func range(_ start: Int, _ count: Int) -> String {
        count == 0 ? "\(start),0" : count == 1 ? "\(start + 1)" : "\(start + 1),\(count)"
    }

    /// A longest-common-subsequence diff; the files Imprint shows are a few hundred lines at most.
    static func diff(_ old: [String], _ new: [String]) -> [Edit] {
        let rows = old.count + 1
        let columns = new.count + 1
        var table = [Int](repeating: 0, count: rows * columns)
        for i in stride(from: old.count - 1, through: 0, by: -1) {
            for j in stride(from: new.count - 1, through: 0, by: -1) {
                table[i * columns + j] = old[i] == new[j]
                    ? table[(i + 1) * columns + j + 1] + 1
                    : max(table[(i + 1) * columns + j], table[i * columns + j + 1])
            }
        }
        var edits: [Edit] = []
        var i = 0
        var j = 0
        while i < old.count || j < new.count {
            if i < old.count, j < new.count, old[i] == new[j] {
                edits.append(Edit(kind: .keep, line: old[i], oldIndex: i, newIndex: j))
                i += 1
                j += 1
            } else if i < old.count, j == new.count || table[(i + 1) * columns + j] >= table[i * columns + j + 1] {
                // Deletions first, as diff(1) prints them.
                edits.append(Edit(kind: .delete, line: old[i], oldIndex: i, newIndex: j))
                i += 1
            } else {
                edits.append(Edit(kind: .insert, line: new[j], oldIndex: i, newIndex: j))
                j += 1
            }
        }
        return edits
    }

    /// Groups changed lines with `context` unchanged lines around them, merging groups that touch.
    static func hunks(_ edits: [Edit], context: Int) -> [[Edit]] {
        let changed = edits.indices.filter { edits[$0].kind != .keep }
        guard !changed.isEmpty else { return [] }
        var ranges: [ClosedRange<Int>] = []
        for index in changed {
            let range = max(0, index - context)...min(edits.count - 1, index + context)
            if let last = ranges.last, range.lowerBound <= last.upperBound + 1 {
                ranges[ranges.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                ranges.append(range)
            }
        }
        return ranges.map { Array(edits[$0]) }
    }
}

import Foundation
import ImprintCore
import ImprintTestSupport
import Testing

@Suite struct UnifiedDiffTests {
    /// The diff of a changed line is accepted by the real `patch`, which turns the old file into the new one.
    @Test func patchAppliesIt() throws {
        let folder = try TemporaryDirectory()
        let old = (1...20).map { "line \($0)" }.joined(separator: "\n") + "\n"
        var newLines = (1...20).map { "line \($0)" }
        newLines[2] = "changed 3"
        newLines.insert("inserted", at: 15)
        newLines.removeLast()
        let new = newLines.joined(separator: "\n") + "\n"
        let diff = UnifiedDiff.render(path: "/etc/example", old: Data(old.utf8), new: Data(new.utf8))
        #expect(diff.hasPrefix("--- a/etc/example\n+++ b/etc/example\n@@ -1,6 +1,6 @@\n"))
        let file = try folder.write("example", old)
        let patchFile = try folder.write("change.diff", diff)
        let result = try runProcess("/usr/bin/patch", ["-s", file, patchFile])
        #expect(result.status == 0, "\(result.error)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == new)
    }

    /// Equal contents give no diff; a new file diffs from /dev/null; binary contents are summarised.
    @Test func specialCases() {
        #expect(UnifiedDiff.render(path: "/x", old: Data("a\n".utf8), new: Data("a\n".utf8)) == "")
        #expect(UnifiedDiff.render(path: "/x", old: nil, new: Data("a\nb\n".utf8)) == "--- /dev/null\n+++ b/x\n@@ -0,0 +1,2 @@\n+a\n+b\n")
        #expect(UnifiedDiff.render(path: "/x", old: Data([0, 1]), new: Data([0, 2])).contains("binary: 2 bytes -> 2 bytes"))
    }
}

import Foundation

/// Where a restored system names its disks by id — `UUID=` and `PARTUUID=` in fstab, crypttab and the resume
/// setting, `root=UUID=` on a kernel command line, GRUB's `search --fs-uuid` — and those names moved to a new disk.
public enum DiskReferences {
    /// The files of a root that name disks by id, relative to the root; `*` matches within one folder.
    public static let files = [
        "etc/fstab", "etc/crypttab", "etc/initramfs-tools/conf.d/resume", "etc/default/grub", "boot/grub/grub.cfg",
        "boot/efi/EFI/*/grub.cfg", "boot/loader/entries/*.conf", "boot/efi/loader/entries/*.conf", "etc/kernel/cmdline",
    ]

    /// The files of `files` that exist under `root`, relative to it, a `*` expanded within its folder.
    public static func paths(under root: String) -> [String] {
        files.flatMap { pattern -> [String] in
            guard let star = pattern.firstIndex(of: "*") else { return [pattern] }
            let folder = String(pattern[..<star]).split(separator: "/").joined(separator: "/")
            let suffix = String(pattern[pattern.index(after: star)...])
            let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + folder)) ?? []
            return names.sorted().map { folder + "/" + $0 + suffix }
        }.filter { FileManager.default.fileExists(atPath: root + "/" + $0) }
    }

    /// The ids `text` names: after `UUID=`, `PARTUUID=`, and GRUB's `--fs-uuid`/`search.fs_uuid`, lower case.
    public static func names(in text: String) -> Set<String> {
        var found: Set<String> = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("#") { continue }
            for range in idRanges(in: String(line)) {
                found.insert(String(String(line)[range]).lowercased())
            }
        }
        return found
    }

    /// `text` with every id of `renames` (old id, lower case, to new id) replaced wherever it names a disk, in the
    /// case the text used; and how many it replaced.
    public static func rewrite(_ text: String, renames: [String: String]) -> (text: String, count: Int) {
        var count = 0
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            var line = line
            // Right to left, so the ranges still to replace keep their places.
            for range in idRanges(in: line).reversed() {
                let old = String(line[range])
                guard let new = renames[old.lowercased()] else { continue }
                line.replaceSubrange(range, with: old == old.uppercased() && old != old.lowercased() ? new.uppercased() : new.lowercased())
                count += 1
            }
            lines.append(line)
        }
        return (lines.joined(separator: "\n"), count)
    }

    /// The ranges of the ids in one line.
    static func idRanges(in line: String) -> [Range<String.Index>] {
        var ranges: [Range<String.Index>] = []
        for marker in ["UUID=", "--fs-uuid ", "search.fs_uuid "] {
            var from = line.startIndex
            while let hit = line.range(of: marker, options: [.caseInsensitive], range: from..<line.endIndex) {
                var start = hit.upperBound
                // --fs-uuid may be followed by more options (`--set=root`) before the id.
                if marker != "UUID=" {
                    while line[start...].hasPrefix("--") || line[start...].hasPrefix("-") {
                        start = line[start...].firstIndex(of: " ").map { line.index(after: $0) } ?? line.endIndex
                    }
                }
                let end = line[start...].firstIndex { !($0.isHexDigit || $0 == "-") } ?? line.endIndex
                if end > start { ranges.append(start..<end) }
                from = end > hit.upperBound ? end : hit.upperBound
            }
        }
        return ranges.sorted { $0.lowerBound < $1.lowerBound }
    }
}

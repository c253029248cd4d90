import Foundation
import Glibc
import ImprintCore

/// The generalize operations a capture runs, compiled for its walk: what each entry of the tree becomes, read from
/// the identity-file table (`GeneralizeOperation`, `IdentityFile` in ImprintCore). The master is never changed;
/// an entry is left out of the image, or imaged with other content.
struct Generalizer: Sendable {
    /// One pattern of one operation.
    private struct Rule: Sendable {
        var operation: String
        var pattern: PathPattern
        var clearing: IdentityFile.Clearing
    }

    /// What generalizing does with an entry: leaves it out (`replacement` nil) or images this content instead.
    struct Decision: Equatable {
        var operation: String
        var replacement: [UInt8]?
    }

    /// Rules by the first component of their pattern ("var"), so most of a tree ("usr/...") is passed at once.
    private let rulesByFirst: [[UInt8]: [Rule]]
    /// Rules whose pattern starts with a wildcard, tried on every path.
    private let rulesAnywhere: [Rule]

    /// Nil when no operation is chosen.
    init?(_ operations: [GeneralizeOperation]) {
        var byFirst: [[UInt8]: [Rule]] = [:]
        var anywhere: [Rule] = []
        for operation in operations {
            for entry in operation.entries {
                if case .kept = entry.clearing { continue }
                for pattern in entry.patterns {
                    let rule = Rule(operation: operation.name, pattern: pattern, clearing: entry.clearing)
                    if let first = pattern.firstComponent { byFirst[first, default: []].append(rule) } else { anywhere.append(rule) }
                }
            }
        }
        guard !operations.isEmpty else { return nil }
        rulesByFirst = byFirst
        rulesAnywhere = anywhere
    }

    /// Whether generalizing may leave out or replace the entry at `path` (relative to the root), before its content
    /// is read: the walk does not open such an entry ahead of deciding.
    func mayClear(_ path: [UInt8], isFolder: Bool) -> Bool {
        let rules = candidates(path)
        if rules.isEmpty { return false }
        let components = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        return rules.contains { Self.applies($0, isFolder: isFolder) && $0.pattern.matches(components: components) }
    }

    /// What generalizing does with the entry at `path`; nil: it is imaged as it is.
    /// - Parameter text: reads the entry's text, for an operation that decides by it (called only then).
    func decide(_ path: [UInt8], isFolder: Bool, isRegular: Bool, text: () -> String?) -> Decision? {
        let rules = candidates(path)
        if rules.isEmpty { return nil }
        let components = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        var content: String?
        var contentRead = false
        for rule in rules where Self.applies(rule, isFolder: isFolder) && rule.pattern.matches(components: components) {
            switch rule.clearing {
            case .leftOut, .leftOutWhole:
                return Decision(operation: rule.operation)
            case .replaced(let content):
                return Decision(operation: rule.operation, replacement: isRegular ? Array(content.utf8) : nil)
            case .leftOutWhen(let test):
                guard isRegular else { continue }
                if !contentRead {
                    content = text()
                    contentRead = true
                }
                if let content, test(content) { return Decision(operation: rule.operation) }
            case .kept:
                continue
            }
        }
        return nil
    }

    /// The rules that may match `path`: those of its first component, and those that start with a wildcard.
    private func candidates(_ path: [UInt8]) -> [Rule] {
        let first = Array(path.prefix { $0 != UInt8(ascii: "/") })
        let named = rulesByFirst[first] ?? []
        return rulesAnywhere.isEmpty ? named : (named + rulesAnywhere)
    }

    /// A folder is cleared only by an entry that takes folders whole; its files otherwise go one by one.
    private static func applies(_ rule: Rule, isFolder: Bool) -> Bool {
        if case .leftOutWhole = rule.clearing { return true }
        return !isFolder
    }

    /// The text of a small file `name` in the folder open as `folder` (or a whole path with AT_FDCWD), for an
    /// operation that decides by content; nil when it cannot be read or is larger than a configuration file is.
    static func readText(folder: Int32, name: [UInt8], limit: Int = 1 << 20) -> String? {
        let descriptor = withCPath(name) { openat(folder, $0, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) }
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count <= limit {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return String(decoding: bytes, as: UTF8.self) }
            bytes += buffer[0..<count]
        }
        return nil
    }
}

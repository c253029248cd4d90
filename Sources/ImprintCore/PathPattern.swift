import Glibc

/// A pattern on a path under a root, as the identity-file table writes them ("/etc/ssh/ssh_host_*"). Each
/// component is matched on its own, with fnmatch where it has `*`, `?` or `[`, so `*` never crosses a slash.
/// Two forms reach deeper:
/// - ending in `/*` (`/var/log/*`, `/home/*/.cache/*`): everything below the folder, at any depth;
/// - `/**/` inside (`/etc/**/*~`): any number of folders, none included, between the two halves.
public struct PathPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written, with its leading slash.
    public let description: String
    private let head: [[UInt8]]
    private let tail: [[UInt8]]
    private let form: Form

    private enum Form: Hashable {
        /// The path has as many components as `head`, each matching.
        case exact
        /// The path starts with components matching `head` and goes deeper.
        case below
        /// The path starts with `head` and ends with `tail`.
        case anyDepth
    }

    public init(_ pattern: String) {
        description = pattern
        let relative = pattern.hasPrefix("/") ? String(pattern.dropFirst()) : pattern
        let components = relative.split(separator: "/", omittingEmptySubsequences: false).map { Array($0.utf8) }
        if let split = components.firstIndex(of: Array("**".utf8)) {
            head = Array(components[..<split])
            tail = Array(components[(split + 1)...])
            form = .anyDepth
        } else if components.count > 1, components.last == Array("*".utf8) {
            head = Array(components.dropLast())
            tail = []
            form = .below
        } else {
            head = components
            tail = []
            form = .exact
        }
    }

    /// The first component when it is plain text ("var" of "/var/log/*"): a walk looks patterns up by it.
    public var firstComponent: [UInt8]? {
        guard let first = head.first, !Self.isGlob(first) else { return nil }
        return first
    }

    /// The folder a pattern names its files in, when that part is plain text ("/etc/ssh" of
    /// "/etc/ssh/ssh_host_*", "/var/log" of "/var/log/*").
    public var folder: String {
        let parts = form == .exact ? head.dropLast() : head[...]
        return "/" + parts.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
    }

    /// Whether the path (relative to the root, no leading slash) matches.
    public func matches(_ path: [UInt8]) -> Bool {
        matches(components: path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false))
    }

    /// Whether a path as the unit sees it ("/etc/machine-id") matches.
    public func matches(path: String) -> Bool {
        matches(Array((path.hasPrefix("/") ? String(path.dropFirst()) : path).utf8))
    }

    /// Whether the path's components match.
    public func matches(components: [ArraySlice<UInt8>]) -> Bool {
        switch form {
        case .exact:
            return components.count == head.count && Self.match(head, components[...])
        case .below:
            return components.count > head.count && Self.match(head, components.prefix(head.count))
        case .anyDepth:
            return components.count >= head.count + tail.count && Self.match(head, components.prefix(head.count))
                && Self.match(tail, components.suffix(tail.count))
        }
    }

    private static func match(_ patterns: [[UInt8]], _ components: ArraySlice<ArraySlice<UInt8>>) -> Bool {
        zip(patterns, components).allSatisfy { pattern, component in
            isGlob(pattern) ? fnmatch(pattern, component) : pattern.elementsEqual(component)
        }
    }

    private static func isGlob(_ component: [UInt8]) -> Bool {
        component.contains { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }
    }

    private static func fnmatch(_ pattern: [UInt8], _ text: ArraySlice<UInt8>) -> Bool {
        (pattern + [0]).withUnsafeBufferPointer { cPattern in
            (Array(text) + [0]).withUnsafeBufferPointer { cText in
                cPattern.withMemoryRebound(to: CChar.self) { p in
                    cText.withMemoryRebound(to: CChar.self) { t in Glibc.fnmatch(p.baseAddress!, t.baseAddress!, 0) == 0 }
                }
            }
        }
    }
}

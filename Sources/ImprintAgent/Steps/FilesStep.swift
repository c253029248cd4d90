import Foundation
import Glibc
import ImprintCore
import ImprintTemplates

/// Plans the files the admin attached to the unit and its group (`inventory file add`): each rendered with the
/// unit's values, written with its mode and owner, and remembered in /var/lib/imprint/files.json so that a file
/// detached from the record is removed at the next run (and no file Imprint did not write ever is).
enum FilesStep {
    struct Result {
        var changes: [FileChange]
        var notes: [String]
    }

    /// The files Imprint wrote for the unit's record, by path, with whether each is secret.
    struct Written: Codable, Equatable {
        static let path = "/var/lib/imprint/files.json"

        struct File: Codable, Equatable {
            var path: String
            var secret: Bool
        }

        var files: [File]

        static func read(_ root: TargetRoot) throws -> Written {
            guard let data = try root.readFile(path) else { return Written(files: []) }
            return (try? JSONDecoder().decode(Written.self, from: data)) ?? Written(files: [])
        }

        func encoded() throws -> Data {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return try encoder.encode(self) + Data("\n".utf8)
        }
    }

    /// - Parameters:
    ///   - taken: the paths the other steps of this run write: an attached file may not write one of them too.
    ///   - pending: contents earlier steps of this run will write, by path (the accounts step's /etc/passwd).
    static func plan(_ profile: UnitProfile, root: TargetRoot, taken: Set<String>, pending: [String: Data] = [:]) throws -> Result {
        let previous = try Written.read(root)
        if profile.files.isEmpty && previous.files.isEmpty { return Result(changes: [], notes: []) }
        let values = UnitFile.values(of: profile)
        let secretFields = Set(profile.fields.filter(\.value.secret).keys)
        let users = try AccountIDs.read("/etc/passwd", root: root, pending: pending)
        let groups = try AccountIDs.read("/etc/group", root: root, pending: pending)
        var result = Result(changes: [], notes: [])
        var written: [Written.File] = []
        for file in profile.files {
            if taken.contains(file.path) {
                throw CoreError.invalidValue(
                    field: "file path", value: file.path,
                    reason: "is written by another step of Imprint; detach it with 'imprint inventory file remove \(file.path)'")
            }
            let secret = try file.secret || !file.names().isDisjoint(with: secretFields)
            if secret, let mode = file.mode, mode & 0o077 != 0 {
                throw CoreError.invalidValue(
                    field: "mode", value: "0" + String(mode, radix: 8),
                    reason: "file \(file.path) holds a secret field and would be readable by others; attach it again with --mode 0600")
            }
            let contents = try render(file, values: values, unit: profile.hostname.value)
            let before = try root.readFile(file.path)
            let metadata = FileMetadata(
                mode: file.mode ?? (secret ? 0o600 : 0o644),
                owner: try AccountIDs.id(file.owner, in: users, kind: "user", path: file.path, root: root),
                group: try AccountIDs.id(file.group, in: groups, kind: "group", path: file.path, root: root),
                attributes: try root.metadata(file.path)?.attributes ?? [:])
            var change = FileChange(
                step: .files, path: file.path, reason: "attached to the unit's record" + (secret ? " (secret)" : ""),
                action: .write(contents: contents, metadata: metadata), before: before, secret: secret)
            // A file whose contents are right and whose mode or owner is not is still written (the owner only where
            // this run may set it: as root).
            if let current = try root.metadata(file.path),
                current.mode != metadata.mode || (geteuid() == 0 && (current.owner, current.group) != (metadata.owner, metadata.group))
            {
                change.metadataBefore = current
            }
            result.changes.append(change)
            written.append(Written.File(path: file.path, secret: secret))
        }
        let current = Set(written.map(\.path))
        for stale in previous.files where !current.contains(stale.path) {
            guard let before = try root.readFile(stale.path) else { continue }
            result.changes.append(FileChange(
                step: .files, path: stale.path, reason: "no longer attached to the unit's record", action: .remove,
                before: before, secret: stale.secret))
        }
        result.changes.append(FileChange(
            step: .files, path: Written.path, reason: "the files Imprint wrote, so it removes only its own later",
            action: .write(contents: try Written(files: written).encoded(), metadata: FileMetadata(mode: 0o644)),
            before: try root.readFile(Written.path)))
        return result
    }

    /// The file's contents for this unit: its template rendered, or its field's value on a line.
    /// - Throws: when the content names a value the unit does not have, naming the file, the value and the unit.
    static func render(_ file: UnitFile, values: [String: TemplateValue], unit: String) throws -> Data {
        func missing(_ name: String) -> CoreError {
            let how = CustomField.builtInNames.contains(name)
                ? "record it for the unit, or test it in a section {{#\(name)}}...{{/\(name)}}"
                : "give it one with 'imprint inventory set \(unit) --field \(name)=VALUE' (or on its group), or test it in a section {{#\(name)}}...{{/\(name)}}"
            return .invalidValue(field: "value of file \(file.path)", value: name, reason: "unit \(unit) has no \(name); \(how)")
        }
        switch file.content {
        case .field(let name):
            guard case .text(let value) = values[name] else { throw missing(name) }
            return Data((value.hasSuffix("\n") ? value : value + "\n").utf8)
        case .template(let text):
            return Data(try Template.renderUnitValues(text, name: file.path, source: "the inventory", values: values, missing: missing).utf8)
        }
    }
}

/// User and group ids by name, from an image's own /etc/passwd or /etc/group (never the host's).
enum AccountIDs {
    /// The `name:x:id:...` lines of `text`, by name.
    static func parse(_ text: String) -> [String: UInt32] {
        var ids: [String: UInt32] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 3, let id = UInt32(fields[2]), ids[String(fields[0])] == nil { ids[String(fields[0])] = id }
        }
        return ids
    }

    static func read(_ path: String, root: TargetRoot, pending: [String: Data] = [:]) throws -> [String: UInt32] {
        try (pending[path] ?? root.readFile(path)).map { parse(String(decoding: $0, as: UTF8.self)) } ?? [:]
    }

    /// The id of `name` (a number stands for itself; root is 0 even in a root without the file).
    static func id(_ name: String, in ids: [String: UInt32], kind: String, path: String, root: TargetRoot) throws -> UInt32 {
        if let number = UInt32(name) { return number }
        if let id = ids[name] { return id }
        if name == "root" { return 0 }
        throw CoreError.invalidValue(
            field: "\(kind) of file \(path)", value: name,
            reason: "the image has no such \(kind) (in \(root.path)/etc/\(kind == "user" ? "passwd" : "group")); create it in the image, or give a number")
    }
}

import CLinux
import Foundation
import Glibc

/// The executable `imprint install` puts into a root, stripped of its symbol table and debug information: a unit
/// never reads them, and they are a third of a release build (115 MB with them, 70 MB without).
public struct AgentBinary: Sendable {
    /// The bytes to install.
    public var contents: Data
    /// The size of the file they came from.
    public var sourceSize: Int
    /// Why the file is installed as it is, when it could not be stripped; nil when it was.
    public var notStripped: String?

    public init(contents: Data, sourceSize: Int? = nil, notStripped: String? = nil) {
        self.contents = contents
        self.sourceSize = sourceSize ?? contents.count
        self.notStripped = notStripped
    }

    /// The `strip` command line that writes a stripped copy of `input` to `output` and leaves `input` as it is.
    /// `--strip-unneeded` keeps every symbol dynamic linking needs; on an executable it saves as much as `--strip-all`.
    static func stripCommand(input: String, output: String) -> (executable: String, arguments: [String]) {
        ("strip", ["--strip-unneeded", "-o", output, input])
    }

    /// Reads the executable at `path`, stripped. `strip` writes into memory (a memfd), so neither the host's
    /// temporary folder nor the target gets a file, whatever happens, and a dry run writes nothing anywhere.
    /// - Returns: nil when `path` cannot be read. When `strip` is missing or refuses the file, the file as it is,
    ///   with the reason in `notStripped`.
    public static func load(path: String) -> AgentBinary? {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG, access(path, R_OK) == 0 else { return nil }
        let size = Int(status.st_size)
        do {
            return AgentBinary(contents: try strip(path), sourceSize: size)
        } catch {
            guard let original = FileManager.default.contents(atPath: path) else { return nil }
            return AgentBinary(contents: original, sourceSize: size, notStripped: error.reason)
        }
    }

    struct NotStripped: Error {
        var reason: String
    }

    static func strip(_ path: String) throws(NotStripped) -> Data {
        let closeOnExec: UInt32 = 1  // MFD_CLOEXEC, which Glibc declares only under _GNU_SOURCE
        let descriptor = memfd_create("imprint-agent", closeOnExec)
        guard descriptor >= 0 else { throw NotStripped(reason: "no memory file for strip: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        // strip opens its output by name: this process's descriptor, as /proc shows it.
        let command = stripCommand(input: path, output: "/proc/\(getpid())/fd/\(descriptor)")
        let description = ([command.executable] + command.arguments).joined(separator: " ")
        let result: CommandRunner.Output
        do {
            result = try CommandRunner.capture(command.executable, command.arguments, description: description)
        } catch {
            if case .commandFailed(_, 127, _) = error {
                throw NotStripped(reason: "strip is not installed (Debian package binutils)")
            }
            throw NotStripped(reason: "\(error)")
        }
        guard result.status == 0 else {
            let said = (result.error + result.output).trimmingCharacters(in: .whitespacesAndNewlines)
            throw NotStripped(reason: "strip failed with exit status \(result.status)\(said.isEmpty ? "" : ": \(said)")")
        }
        guard lseek(descriptor, 0, SEEK_SET) == 0 else {
            throw NotStripped(reason: "cannot read what strip wrote: \(String(cString: strerror(errno)))")
        }
        let contents = FileHandle(fileDescriptor: descriptor, closeOnDealloc: false).readDataToEndOfFile()
        guard !contents.isEmpty else { throw NotStripped(reason: "strip wrote nothing") }
        return contents
    }

    /// `bytes` in megabytes, as install reports sizes.
    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
}

import Foundation
import ImprintCore

/// The package's top folder, found from this file's path.
public let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A folder under the system's temporary folder (or `base`), removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    /// - Parameters:
    ///   - base: the folder to make it in, such as `/dev/shm` (tmpfs) for trees written and removed many times.
    public init(_ label: String = "imprint-test", in base: String? = nil) throws {
        let base = URL(fileURLWithPath: base ?? NSTemporaryDirectory()).appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// `name` inside this folder.
    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Writes `text` to `name` inside this folder and returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: target, atomically: true, encoding: .utf8)
        return target
    }

    /// Copies `Fixtures/<name>` (links kept as links) into this folder and returns the copy's path.
    /// - Parameters:
    ///   - copyName: the copy's name in this folder (default: the fixture's own last component).
    public func copyFixture(_ name: String, as copyName: String? = nil) throws -> String {
        let target = file(copyName ?? (name as NSString).lastPathComponent)
        let copy = try runProcess("/bin/cp", ["-a", fixturePath(name), target])
        guard copy.status == 0 else { throw TestSupportError("cannot copy the fixture \(name): \(copy.error)") }
        return target
    }
}

/// The path of `Fixtures/<name>`; read it, never write it (copy with `copyFixture` first).
public func fixturePath(_ name: String) -> String {
    packageRoot.appendingPathComponent("Fixtures").appendingPathComponent(name).path
}

/// The text of `Fixtures/<name>`.
public func fixtureText(_ name: String) throws -> String {
    try String(contentsOfFile: fixturePath(name), encoding: .utf8)
}

/// What a finished process printed, and its exit status.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var output: String
    public var error: String

    public init(status: Int32, output: String, error: String) {
        self.status = status
        self.output = output
        self.error = error
    }
}

/// Runs `executable` with `arguments` and waits for it, reading its standard output and standard error together
/// (`ChildProcess`), so a program that fills one before closing the other never blocks the test.
/// - Parameters:
///   - environment: the whole environment; nil gives it the test process's.
///   - input: its standard input, which then ends; nil gives it an empty one.
///   - timeout: how long it may run before it is killed and this throws; nil waits as long as it takes.
public func runProcess(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil,
    timeout: Duration? = nil
) throws -> ProcessResult {
    let result = try ChildProcess(
        executable, arguments, environment: environment, input: Array((input ?? "").utf8), timeout: timeout
    ).run()
    return ProcessResult(status: result.status, output: result.outputText, error: result.errorText)
}

/// A real Debian bookworm root built by debootstrap (`.ci/debian-root`, cached outside the repository; the first
/// call builds it, which takes minutes). Read it, never write it: copy it with `copyDebianRoot` first.
public func debianRoot() throws -> String {
    let result = try runProcess("/bin/bash", [packageRoot.appendingPathComponent(".ci/debian-root").path])
    guard result.status == 0, let path = result.output.split(separator: "\n").last.map(String.init) else {
        throw TestSupportError("'.ci/debian-root' failed: \(result.error)")
    }
    return path
}

/// The imprint executable built with the Swift runtime linked in, as a unit gets it: `$IMPRINT_STATIC_BINARY`,
/// which `bash .ci/test` sets after 'swift build -c release --static-swift-stdlib'.
public func staticImprintBinary() throws -> String {
    guard let path = ProcessInfo.processInfo.environment["IMPRINT_STATIC_BINARY"], FileManager.default.isExecutableFile(atPath: path) else {
        throw TestSupportError(
            "set IMPRINT_STATIC_BINARY to an imprint built with 'swift build -c release --static-swift-stdlib' (bash .ci/test does both)")
    }
    return path
}

/// A failure of the test setup itself, with what to do.
public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension TemporaryDirectory {
    /// A private copy of the Debian root (`debianRoot()`) under this folder, at `name`.
    public func copyDebianRoot(_ name: String = "debian") throws -> String {
        let target = file(name)
        let copy = try runProcess("/bin/cp", ["-a", "--reflink=auto", try debianRoot(), target])
        guard copy.status == 0 else { throw TestSupportError("cannot copy the Debian root: \(copy.error)") }
        return target
    }
}

/// `sshd -t` with only these host keys and no configuration file, so it reads nothing of the host's /etc/ssh. sshd
/// wants its privilege separation folder /run/sshd even to test, so it runs in a private mount namespace with a
/// /run of its own: the host's /run is never touched.
public func sshdTest(hostKeys: [String]) throws -> ProcessResult {
    try runProcess("/usr/bin/unshare", [
        "--mount", "--propagation", "private", "/bin/sh", "-c",
        "mount -t tmpfs tmpfs /run && mkdir /run/sshd && exec /usr/sbin/sshd -t -f /dev/null \"$@\"", "sshd",
    ] + hostKeys.flatMap { ["-h", $0] })
}

import Foundation
import ImprintCore

/// How a boot in qemu ended (`DirectKernelBoot`, `UEFIBoot`).
public struct BootOutcome: Sendable {
    /// Everything the firmware, the kernel and systemd wrote on the first serial port.
    public var console: String
    /// qemu's exit status (0 when the guest powered off); nil when it was killed at the timeout.
    public var status: Int32?
    public var error: String
    public var seconds: Double
    public var timedOut: Bool { status == nil }

    /// Runs `qemu` until the guest powers off or the command's timeout kills it, then reads what the guest wrote to
    /// the file `console`.
    /// - Throws: `CoreError.io` when qemu cannot be started.
    static func run(_ qemu: ChildProcess, console: String) throws -> BootOutcome {
        try? FileManager.default.removeItem(atPath: console)
        let started = ContinuousClock.now
        var result: ChildProcess.Result?
        do {
            result = try qemu.run()
        } catch {
            guard case .timedOut = error else { throw error }
        }
        let text = (try? Data(contentsOf: URL(fileURLWithPath: console))).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let elapsed = ContinuousClock.now - started
        return BootOutcome(
            console: text, status: result?.status, error: result?.errorText ?? "",
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}

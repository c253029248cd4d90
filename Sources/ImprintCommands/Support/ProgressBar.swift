import Foundation
import Glibc

/// A one-line progress bar on standard error (bytes, rate, ETA), redrawn at most five times a second; silent
/// when standard error is not a terminal.
final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let total: UInt64?
    private let context: CommandContext
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var lastValue: UInt64 = 0
    private let lock = NSLock()

    /// A bar, or nil when standard error is not a terminal (or TERM is unset or "dumb").
    /// - Parameters:
    ///   - total: the bytes expected, for the bar and ETA; nil when unknown.
    init?(_ label: String, total: UInt64?, context: CommandContext) {
        guard isatty(STDERR_FILENO) == 1, let term = context.environment["TERM"], term != "dumb" else { return nil }
        self.label = label
        self.total = total
        self.context = context
    }

    func update(_ value: UInt64) {
        lock.withLock {
            lastValue = value
            let now = Date()
            guard now.timeIntervalSince(lastDraw) >= 0.2 else { return }
            lastDraw = now
            context.errorOutput("\r" + Self.line(label, value: value, total: total, elapsed: now.timeIntervalSince(start)) + "\u{1b}[K")
        }
    }

    func finish() {
        lock.withLock {
            context.errorOutput("\r" + Self.line(label, value: lastValue, total: total, elapsed: Date().timeIntervalSince(start)) + "\u{1b}[K\n")
        }
    }

    /// The text of the bar: `restore [#####.....]  52%  120.3 MB  45.1 MB/s  ETA 0:03`.
    static func line(_ label: String, value: UInt64, total: UInt64?, elapsed: Double) -> String {
        let rate = elapsed > 0 ? Double(value) / elapsed : 0
        var parts = [label]
        if let total, total > 0 {
            let fraction = min(1, Double(value) / Double(total))
            let filled = Int(fraction * 20)
            parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled) + "]")
            parts.append(String(format: "%3d%%", Int(fraction * 100)))
        }
        parts.append(megabytes(value))
        parts.append(megabytes(UInt64(rate)) + "/s")
        if let total, rate > 0, total > value {
            let seconds = Int(Double(total - value) / rate)
            parts.append(String(format: "ETA %d:%02d", seconds / 60, seconds % 60))
        }
        return parts.joined(separator: "  ")
    }
}

/// `bytes` in megabytes with one decimal.
func megabytes(_ bytes: UInt64) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }

import Foundation
import Glibc

/// What a progress bar counts, named on every frame so that capture, restore and verify read the same way.
enum ProgressUnit: String {
    /// The bytes of file data read (capture): the same figure as "of data" in the image's report.
    case data
    /// The bytes of the image read (restore, verify): the same figure as "compressed" in the image's report.
    case compressed
}

/// A one-line progress bar on standard error (percent, bytes done of the total with what they count, rate, ETA),
/// redrawn at most five times a second; silent when standard error is not a terminal. It says 100% only on its
/// last frame, when the work is done: a total that turns out too small (a tree that grew while it was read)
/// grows to what was read, and one too large (a tree that shrank) shrinks to it at the end.
final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let unit: ProgressUnit
    private var total: UInt64?
    private let context: CommandContext
    private var start = Date()
    private var lastDraw = Date.distantPast
    private var lastValue: UInt64 = 0
    /// Whether a frame is on the line and the line is not ended yet.
    private var lineOpen = false
    private let lock = NSLock()

    /// A bar, or nil when standard error is not a terminal (or TERM is unset or "dumb").
    /// - Parameters:
    ///   - unit: what the values count, shown after the bytes.
    ///   - total: the bytes expected, for the percentage and ETA; nil when unknown (or not known yet: see `begin`).
    init?(_ label: String, counting unit: ProgressUnit, total: UInt64?, context: CommandContext) {
        guard isatty(STDERR_FILENO) == 1, let term = context.environment["TERM"], term != "dumb" else { return nil }
        self.label = label
        self.unit = unit
        self.total = total
        self.context = context
    }

    /// Shows what is being done before the bar starts (capture counting the tree), at most five times a second.
    func status(_ text: String) {
        lock.withLock {
            let now = Date()
            guard now.timeIntervalSince(lastDraw) >= 0.2 else { return }
            lastDraw = now
            context.errorOutput("\r\(label)  \(text)\u{1b}[K")
            lineOpen = true
        }
    }

    /// Starts the bar now (its rate and ETA count from here) with the total found.
    func begin(total: UInt64?) {
        lock.withLock {
            self.total = total
            start = Date()
            lastDraw = .distantPast
        }
    }

    func update(_ value: UInt64) {
        lock.withLock {
            lastValue = value
            if let known = total, value > known { total = value }
            let now = Date()
            guard now.timeIntervalSince(lastDraw) >= 0.2 else { return }
            lastDraw = now
            context.errorOutput("\r" + Self.line(label, unit: unit, value: value, total: total, elapsed: now.timeIntervalSince(start)) + "\u{1b}[K")
            lineOpen = true
        }
    }

    /// Draws the last frame: the work is done, so what was read is the total.
    func finish() {
        lock.withLock {
            let text = Self.line(label, unit: unit, value: lastValue, total: total.map { _ in lastValue }, elapsed: Date().timeIntervalSince(start), done: true)
            context.errorOutput("\r" + text + "\u{1b}[K\n")
            lineOpen = false
        }
    }

    /// Ends the line where the work stopped short (an error), so the message that follows starts a line of its own;
    /// nothing after `finish`.
    func stop() {
        lock.withLock {
            if lineOpen { context.errorOutput("\n") }
            lineOpen = false
        }
    }

    /// The text of a frame: `restore  [##########..........]   52%  60.1 of 115.6 MB compressed  45.1 MB/s  ETA 0:01`;
    /// without a total, `capture  10.0 MB data  10.0 MB/s`. Below `done`, the percentage stops at 99.
    static func line(_ label: String, unit: ProgressUnit, value: UInt64, total: UInt64?, elapsed: Double, done: Bool = false) -> String {
        let rate = elapsed > 0 ? Double(value) / elapsed : 0
        var parts = [label]
        let unitName = unit.rawValue
        if let total, total > 0 || done {
            let fraction = total == 0 ? 1 : min(1, Double(value) / Double(total))
            let percent = done ? 100 : min(99, Int(fraction * 100))
            let filled = done ? 20 : min(19, Int(fraction * 20))
            parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled) + "]")
            parts.append(String(format: "%3d%%", percent))
            parts.append(String(format: "%.1f of ", Double(value) / 1_000_000) + megabytes(total) + " " + unitName)
        } else {
            parts.append(megabytes(value) + " " + unitName)
        }
        parts.append(megabytes(UInt64(rate)) + "/s")
        if let total, !done, rate > 0, total > value {
            let seconds = Int(Double(total - value) / rate)
            parts.append(String(format: "ETA %d:%02d", seconds / 60, seconds % 60))
        }
        return parts.joined(separator: "  ")
    }
}

/// `bytes` in megabytes with one decimal.
func megabytes(_ bytes: UInt64) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }

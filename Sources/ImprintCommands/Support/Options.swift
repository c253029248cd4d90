import ArgumentParser
import Foundation
import ImprintCore
import ImprintInventory

/// Flags every command takes.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The inventory database (default: $IMPRINT_INVENTORY, else \(Inventory.defaultPath)).", valueName: "path"))
    public var inventory: String?

    @Flag(name: .long, help: "Print the cause of an error too.")
    public var verbose = false

    public init() {}

    /// The inventory path: `--inventory`, then `IMPRINT_INVENTORY`, then the default.
    func inventoryPath(_ context: CommandContext) -> String {
        if let inventory { return inventory }
        if let fromEnvironment = context.environment["IMPRINT_INVENTORY"], !fromEnvironment.isEmpty { return fromEnvironment }
        return Inventory.defaultPath
    }

    func openInventory(_ context: CommandContext, readOnly: Bool = false) throws -> Inventory {
        try Inventory(path: inventoryPath(context), readOnly: readOnly, clock: context.clock)
    }
}

/// Where the unit's facts come from: the sysfs under `--root`, or a facts file.
public struct FactsOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The root of the system to read (its /sys).", valueName: "dir"))
    public var root: String = "/"

    @Option(name: .long, help: ArgumentHelp(
        "Read the facts from this JSON file instead of sysfs ('imprint facts --json' writes one).", valueName: "file"))
    public var facts: String?

    public init() {}

    func read() throws -> HardwareFacts {
        if let facts { return try FactsProbe.read(factsFile: facts) }
        return try FactsProbe.read(root: try TargetRoot(root))
    }
}

/// `--threads N` of the image commands: the threads that compress or decompress blocks.
struct ThreadsOption: ParsableArguments {
    /// The most threads an image command runs, as zstd allows for its workers. Thousands would each get a stack and
    /// four blocks in flight, and a system that cannot make that many threads would end the process.
    static let maximum = 256

    @Option(help: "Threads that compress or decompress blocks (1 to \(maximum); default: one per core).")
    var threads: Int?

    func validate() throws {
        if let threads, !(1...Self.maximum).contains(threads) {
            throw ValidationError("'--threads' must be 1 to \(Self.maximum), not \(threads)")
        }
    }

    /// `--threads`, else one per core (at most `maximum`).
    var count: Int { threads ?? min(ProcessInfo.processInfo.activeProcessorCount, Self.maximum) }
}

/// A command that runs against an injected context; `run()` builds the real context, forwards, and turns errors into
/// the documented exit status and one message on standard error.
protocol ContextCommand: ParsableCommand {
    var global: GlobalOptions { get }
    /// Whether the user asked for `--json`: a failure is then also printed on standard output as JSON.
    var reportsJSON: Bool { get }
    func run(_ context: CommandContext) throws
}

extension ContextCommand {
    var reportsJSON: Bool { false }

    public func run() throws {
        let context = CommandContext.live()
        do {
            try run(context)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            let failure = CommandFailure(error)
            failure.report(verbose: global.verbose, to: context)
            if reportsJSON { try? context.printJSON(FailureView(failure)) }
            throw ExitCode(failure.status.rawValue)
        }
    }
}

/// A failure under `--json`: `{"error": {"code": "not-found", "status": 10, "message": "..."}}` on standard output,
/// so a script reading the JSON learns why there is no result; the exit status is the same.
struct FailureView: Encodable {
    struct Failure: Encodable {
        var code: String
        var status: Int32
        var message: String
    }

    var error: Failure

    init(_ failure: CommandFailure) {
        error = Failure(code: failure.status.code, status: failure.status.rawValue, message: failure.message)
    }
}

extension ValidationError {
    /// A validation error for `flag` that carries the core's own reason.
    init(flag: String, _ error: any Error) {
        self.init("'\(flag)': \(error)")
    }
}

import Foundation
import ImprintFuzz

// imprint-fuzz TARGET FILE...       runs each file through TARGET (image, headers, tar, csv, facts, api) and prints the outcome
// imprint-fuzz seeds TARGET FIXTURES FOLDER
//                                   writes TARGET's seed corpus, made from the repository's Fixtures/, into FOLDER
// Built by .ci/fuzz with libFuzzer (-DIMPRINT_FUZZER):
// imprint-fuzz TARGET [LIBFUZZER FLAGS] [CORPUS...]
//                                   fuzzes TARGET; libFuzzer's child processes find it in IMPRINT_FUZZ_TARGET

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("imprint-fuzz: \(message)\n".utf8))
    exit(2)
}

var arguments = CommandLine.arguments
let targets = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")

if arguments.count == 5 && arguments[1] == "seeds" {
    guard let target = FuzzTarget(rawValue: arguments[2]) else { fail("unknown target '\(arguments[2])'; known: \(targets)") }
    let runner = try FuzzRunner(target)
    defer { runner.close() }
    do {
        try FuzzSeeds.write(target, to: arguments[4], fixtures: arguments[3], scratch: runner.workspace)
    } catch {
        fail("cannot write the seeds: \(error)")
    }
    exit(0)
}

var chosen = ProcessInfo.processInfo.environment["IMPRINT_FUZZ_TARGET"]
if arguments.count > 1, FuzzTarget(rawValue: arguments[1]) != nil {
    chosen = arguments.remove(at: 1)
}
guard let name = chosen, let target = FuzzTarget(rawValue: name) else {
    fail("usage: imprint-fuzz TARGET FILE... | imprint-fuzz seeds TARGET FIXTURES FOLDER; targets: \(targets)")
}
let runner: FuzzRunner
do {
    runner = try FuzzRunner(target)
} catch {
    fail("cannot prepare the \(target.rawValue) target: \(error)")
}

#if IMPRINT_FUZZER
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzer(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

nonisolated(unsafe) var fuzzRunner: FuzzRunner? = runner
setenv("IMPRINT_FUZZ_TARGET", target.rawValue, 1)
atexit { fuzzRunner?.close() }
// libFuzzer reads the flags and corpus folders; the target's name is already taken out.
var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
var count = Int32(arguments.count)
let status = cArguments.withUnsafeMutableBufferPointer { buffer in
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return runFuzzer(&count, &argv) { data, size in
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        do {
            try fuzzRunner?.run(bytes)
        } catch let finding as FuzzFinding {
            fatalError("finding: \(finding)")
        } catch {
            if !FuzzRunner.isClean(error) { fatalError("not one of imprint's errors: \(error)") }
        }
        return 0
    }
}
exit(status)
#else
var failed = false
for path in arguments.dropFirst() {
    guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
    do {
        try runner.run(Array(data))
        print("\(path): accepted")
    } catch {
        let clean = FuzzRunner.isClean(error)
        failed = failed || !clean
        print("\(path): \(clean ? "refused" : "FINDING"): \(error)")
    }
}
runner.close()
exit(failed ? 1 : 0)
#endif

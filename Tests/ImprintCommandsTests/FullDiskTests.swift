import Foundation
@testable import ImprintCommands
import ImprintCore
import ImprintTestSupport
import Testing

/// Runs `script` (sh, with `arguments` as $1...) in a private mount namespace: the host's mounts never change, and
/// what the script mounts goes away with the namespace.
func inPrivateMounts(_ script: String, _ arguments: [String], environment: [String: String]) throws -> ProcessResult {
    try runProcess("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", script, "private"] + arguments, environment: environment)
}

/// Runs `script` in a private mount namespace with a 1 MiB tmpfs mounted on the new folder `disk` of `folder`,
/// which the script gets as $1 (then `arguments` as $2...). Returns the folder and the run.
func onOneMegabyteDisk(
    _ folder: TemporaryDirectory, _ script: String, _ arguments: [String], environment: [String: String]
) throws -> (disk: String, result: ProcessResult) {
    let disk = folder.file("disk")
    try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: false)
    let mounted = """
        set -e
        mount -t tmpfs -o size=1m tmpfs "$1"
        set +e

        """ + script
    return (disk, try inPrivateMounts(mounted, [disk] + arguments, environment: environment))
}

@Suite struct FullDiskTests {
    /// A restore onto a 1 MiB disk stops at the first file that does not fit, naming it and "no space left", exit 1;
    /// the file is not left behind, the marker stays, and `run` then refuses the root (exit 22).
    @Test func restoreOntoFullDisk() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let source = try makeEveryKindTree(in: folder)
        let image = folder.file("every-kind.imprint")
        #expect(imprint(["capture", "--root", source, "-o", image, "--model", "OptiPlex 7090"], in: folder).status == 0)
        let script = #"""
            "$2" restore "$3" --root "$1" --facts "$4"; echo "restore $?"
            ls -A "$1"
            "$2" run --root "$1" --facts "$4"; echo "run $?"
            """#
        let (disk, result) = try onOneMegabyteDisk(
            folder, script, [imprintBinary, image, fixturePath("demo/facts/RM204-12.json")],
            environment: ["PATH": "/usr/bin:/bin", "IMPRINT_INVENTORY": folder.file("inventory.db")])
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.first == "restore 1", "\(result.output)\(result.error)")
        #expect(result.error.contains("could not write '/numbers.txt': No space left on device; that file system is full"), "\(result.error)")
        #expect(lines.contains(TargetRoot.restoreMarker))
        #expect(lines.contains("etc") && !lines.contains("numbers.txt"), "\(lines)")
        #expect(lines.last == "run 22", "\(result.output)")
        #expect(result.error.contains("was interrupted"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: disk).isEmpty, "the tmpfs stayed in its namespace")
    }

    /// A capture onto a disk too small for the image, and one to a standard output that is full: exit 1 naming the
    /// output and "no space left" (the members are written on a thread of their own: its error reaches the walk),
    /// neither the image nor IMAGE.partial left behind, the source unchanged.
    @Test func captureOntoFullDisk() throws {
        let folder = try TemporaryDirectory()
        let source = try makeEveryKindTree(in: folder)
        let noise = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom")).readData(ofLength: 3 << 20)
        try noise.write(to: URL(fileURLWithPath: source + "/noise.bin"))
        let copy = folder.file("copy")
        #expect(try runProcess("/bin/cp", ["-a", source, copy]).status == 0)
        let script = #"""
            "$2" capture --root "$3" -o "$1/room.imprint" --model "OptiPlex 7090" --threads 2; echo "capture $?"
            ls -A "$1"
            "$2" capture --root "$3" -o - --model "OptiPlex 7090" --threads 2 > /dev/full; echo "stdout $?"
            """#
        let (disk, result) = try onOneMegabyteDisk(folder, script, [imprintBinary, source], environment: ["PATH": "/usr/bin:/bin"])
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.first == "capture 1" && lines.last == "stdout 1", "\(result.output)\(result.error)")
        #expect(result.error.contains("could not write the image to '\(disk)/room.imprint': No space left on device"), "\(result.error)")
        #expect(result.error.contains("could not write the image to 'standard output': No space left on device"), "\(result.error)")
        #expect(lines.count == 2, "nothing left on the disk: \(lines)")
        let rsync = try runProcess("/usr/bin/rsync", ["-aHAXn", "--checksum", "--delete", "--itemize-changes", copy + "/", source + "/"])
        #expect(rsync.status == 0 && rsync.output.isEmpty, "the source changed: \(rsync.output)")
    }

    /// `imprint run` on a root whose disk has only a few KB left, for every free size from 4 KB up in steps of 4 KB
    /// until one is enough: each failed run exits 1 naming "no space left", leaves every file that was there
    /// byte-identical (SHA-256), no temporary file, and its journal rolled back (or no run folder, when even the
    /// backups did not fit).
    @Test func runOnFullDisk() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let disk = folder.file("disk")
        let results = folder.file("results")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: results, withIntermediateDirectories: false)
        let script = #"""
            disk="$1"; master="$2"; imprint="$3"; out="$4"
            free=4
            while [ "$free" -le 256 ]; do
              mkdir "$out/$free"
              mount -t tmpfs -o size=1m tmpfs "$disk" || exit 1
              cp -a "$master/." "$disk/"
              dd if=/dev/zero of="$disk/filler" bs=4k 2>/dev/null
              truncate -s "-${free}K" "$disk/filler"
              (cd "$disk" && find . -type f ! -path ./filler -exec sha256sum {} + | sort -k 2) > "$out/$free/before"
              "$imprint" run --root "$disk" 2> "$out/$free/error"
              status=$?
              echo "$status" > "$out/$free/status"
              (cd "$disk" && find . -type f ! -path ./filler -exec sha256sum {} + | sort -k 2) > "$out/$free/after"
              (cd "$disk" && find . -name '.imprint-*') > "$out/$free/leftovers"
              cat "$disk"/var/lib/imprint/runs/*/journal.json 2>/dev/null | grep '"state"' > "$out/$free/states"
              umount "$disk"
              [ "$status" -eq 0 ] && break
              free=$((free + 4))
            done
            """#
        let result = try inPrivateMounts(
            script, [disk, fixturePath("roots/rm204-master"), imprintBinary, results],
            environment: ["PATH": "/usr/bin:/bin", "IMPRINT_INVENTORY": folder.file("inventory.db")])
        #expect(result.status == 0, "\(result.error)")

        func read(_ size: Int, _ name: String) throws -> String {
            try String(contentsOfFile: "\(results)/\(size)/\(name)", encoding: .utf8)
        }
        let sizes = try FileManager.default.contentsOfDirectory(atPath: results).compactMap(Int.init).sorted()
        var rolledBack = 0
        var noRunFolder = 0
        for size in sizes.dropLast() {
            let error = try read(size, "error")
            #expect(try read(size, "status") == "1\n", "\(size) KB free: \(error)")
            #expect(error.contains("No space left on device; that file system is full"), "\(size) KB: \(error)")
            let before = try read(size, "before").split(separator: "\n")
            let after = try read(size, "after").split(separator: "\n")
            #expect(!before.isEmpty && before.allSatisfy(after.contains), "\(size) KB: a file changed: \(before.filter { !after.contains($0) })")
            let added = after.filter { !before.contains($0) }
            #expect(added.allSatisfy { $0.contains("  ./var/lib/imprint/") }, "\(size) KB: files added outside the run's folder: \(added)")
            #expect(try read(size, "leftovers").isEmpty, "\(size) KB: temporary files left")
            let states = try read(size, "states").split(separator: "\n")
            #expect(states.allSatisfy { $0.contains("\"rolled-back\"") }, "\(size) KB: \(states)")
            if states.isEmpty { noRunFolder += 1 } else { rolledBack += 1 }
        }
        #expect(noRunFolder > 0, "a disk too full for the backups was tried")
        #expect(rolledBack > 0, "a disk full half-way through the changes was tried, and rolled back")
        if let enough = sizes.last {
            let error = try read(enough, "error")
            #expect(try read(enough, "status") == "0\n", "even \(enough) KB free was not enough: \(error)")
        }
    }
}

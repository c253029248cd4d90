import Foundation
@testable import ImprintCommands
import ImprintTestSupport
import Testing

@Suite struct ImageCommandTests {
    /// A small master tree with a machine-id and a host key, for the command tests.
    func master(_ folder: TemporaryDirectory) throws -> String {
        try folder.write("master/etc/hostname", "master\n")
        try folder.write("master/etc/machine-id", "0123456789abcdef0123456789abcdef\n")
        try folder.write("master/etc/ssh/ssh_host_ed25519_key", "private\n")
        try folder.write("master/usr/share/doc/readme", String(repeating: "imprint ", count: 5000))
        return folder.file("master")
    }

    /// Capture, verify, inspect and restore through the command line; the restored tree equals the master.
    @Test func captureVerifyInspectRestore() throws {
        let folder = try TemporaryDirectory()
        let root = try master(folder)
        let image = folder.file("optiplex.imprint")
        let captured = imprint(["capture", "--root", root, "-o", image, "--model", "OptiPlex 7090"], in: folder)
        #expect(captured.status == 0, "\(captured.err)")
        #expect(captured.out.contains("models        OptiPlex 7090"))
        #expect(!FileManager.default.fileExists(atPath: image + ".partial"))

        let verified = imprint(["verify", image], in: folder)
        #expect(verified.status == 0)
        #expect(verified.out.contains("ok, every block and file checked"))

        let inspected = imprint(["inspect", image, "--json"], in: folder)
        let object = try JSONSerialization.jsonObject(with: Data(inspected.out.utf8)) as? [String: Any]
        let manifest = object?["manifest"] as? [String: Any]
        #expect(manifest?["models"] as? [String] == ["OptiPlex 7090"])
        #expect((object?["summary"] as? [String: Any])?["files"] as? Int == 4)
        #expect((object?["ratio"] as? Double).map { $0 > 0 && $0 < 0.5 } == true)

        let target = folder.file("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        let restored = imprint(["restore", image, "--root", target, "--facts", fixturePath("demo/facts/RM204-12.json")], in: folder)
        #expect(restored.status == 0, "\(restored.err)")
        let rsync = try runProcess("/usr/bin/rsync", ["-aHAXn", "--checksum", "--itemize-changes", root + "/", target + "/"])
        #expect(rsync.status == 0)
        #expect(rsync.output.isEmpty)
    }

    /// A tree 300 folders deep captured with only 64 open files allowed (folders deeper than 32 do not keep their
    /// descriptor open): GNU tar lists the deepest file, and the restored tree equals the source.
    @Test func deeperThanTheOpenFileLimit() throws {
        let folder = try TemporaryDirectory()
        let root = folder.file("deep")
        let deepest = root + String(repeating: "/d", count: 300)
        try FileManager.default.createDirectory(atPath: deepest, withIntermediateDirectories: true)
        try "bottom\n".write(toFile: deepest + "/bottom.txt", atomically: false, encoding: .utf8)
        let image = folder.file("deep.imprint")
        let captured = try runProcess(
            "/bin/sh", ["-c", #"ulimit -n 64 && exec "$0" capture --root "$1" -o "$2" --model "OptiPlex 7090""#, imprintBinary, root, image])
        #expect(captured.status == 0, "\(captured.error)")
        let listed = try runProcess("/bin/tar", ["-tzf", image])
        #expect(listed.output.contains("." + String(repeating: "/d", count: 300) + "/bottom.txt\n"), "\(listed.error)")
        let target = folder.file("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        let restored = imprint(["restore", image, "--root", target, "--facts", fixturePath("demo/facts/RM204-12.json")], in: folder)
        #expect(restored.status == 0, "\(restored.err)")
        let rsync = try runProcess("/usr/bin/rsync", ["-aHAXn", "--checksum", "--itemize-changes", root + "/", target + "/"])
        #expect(rsync.status == 0 && rsync.output.isEmpty, "\(rsync.output)")
    }

    /// `--one-file-system` with a tmpfs mounted inside the root (in a private mount namespace): the mount point is in
    /// the image, what is mounted on it is not; without the flag it is. On a terminal (script(1)), the progress
    /// bar's total leaves out the 3 MB on the tmpfs too: a frame before the last counts the root's 2 MB.
    @Test func oneFileSystemKeepsTheMountPointOnly() throws {
        let folder = try TemporaryDirectory()
        let root = try master(folder)
        try FileManager.default.createDirectory(atPath: root + "/mnt", withIntermediateDirectories: false)
        try Data(repeating: 7, count: 2_000_000).write(to: URL(fileURLWithPath: root + "/usr/big.bin"))
        let script = #"""
            set -e
            mount -t tmpfs tmpfs "$1/mnt"
            echo inside > "$1/mnt/inside.txt"
            head -c 3000000 /dev/zero > "$1/mnt/inside.bin"
            "$2" capture --root "$1" -o "$3" --model "OptiPlex 7090" --one-file-system > /dev/null
            "$2" capture --root "$1" -o "$4" --model "OptiPlex 7090" > /dev/null
            TERM=xterm script -qec "'$2' capture --root '$1' -o '$3' --model M --one-file-system" /dev/null < /dev/null > "$5"
            tar -tzf "$3"
            echo ---
            tar -tzf "$4"
            """#
        let one = folder.file("one.imprint")
        let all = folder.file("all.imprint")
        let frames = folder.file("frames.txt")
        let result = try inPrivateMounts(script, [root, imprintBinary, one, all, frames], environment: ["PATH": "/usr/bin:/bin"])
        let drawn = try String(contentsOfFile: frames, encoding: .utf8)
        #expect(drawn.contains(#/\rcapture  \[[#.]{20}\]  +[0-9]{1,2}%  [0-9.]+ of 2\.0 MB data  /#), "\(drawn)")
        #expect(result.status == 0, "\(result.error)")
        let parts = result.output.components(separatedBy: "---\n")
        #expect(parts.count == 2)
        let (kept, everything) = (parts.first ?? "", parts.last ?? "")
        #expect(kept.contains("./mnt/\n") && !kept.contains("inside.txt"), "\(kept)")
        #expect(kept.contains("./usr/share/doc/readme\n"))
        #expect(everything.contains("./mnt/inside.txt\n"), "\(everything)")
        #expect(!FileManager.default.fileExists(atPath: root + "/mnt/inside.txt"), "the tmpfs stayed in its namespace")
    }

    /// A zstd image is inspected from its tail and restores equal to the master; a zstd level out of range is refused.
    @Test func zstdCodec() throws {
        let folder = try TemporaryDirectory()
        let root = try master(folder)
        let image = folder.file("zstd.imprint")
        let captured = imprint(["capture", "--root", root, "-o", image, "--model", "OptiPlex 7090", "--codec", "zstd", "--level", "19"], in: folder)
        #expect(captured.status == 0, "\(captured.err)")
        let inspected = imprint(["inspect", image], in: folder)
        #expect(inspected.out.contains("codec         zstd level 19"))
        let target = folder.file("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        #expect(imprint(["restore", image, "--root", target, "--facts", fixturePath("demo/facts/RM204-12.json")], in: folder).status == 0)
        let rsync = try runProcess("/usr/bin/rsync", ["-aHAXn", "--checksum", "--itemize-changes", root + "/", target + "/"])
        #expect(rsync.output.isEmpty)
        let refused = imprint(["capture", "--root", root, "-o", image, "--codec", "zstd", "--level", "22"], in: folder)
        #expect(refused.status == 64)
        #expect(refused.err.contains("'--level' for zstd must be 1 (fastest) to 19 (smallest), not 22"))
    }

    /// `--threads` is 1 to 256 for every image command: 0, a count past 256 (which once made thousands of threads,
    /// or ended the process when the system could not make them) and a negative count are refused as bad usage
    /// (exit 64) naming the value, before anything is read or written; 256 itself runs.
    @Test func threadCountsOutOfRangeAreRefused() throws {
        let folder = try TemporaryDirectory()
        let root = try master(folder)
        let image = folder.file("threads.imprint")
        #expect(imprint(["capture", "--root", root, "-o", image, "--model", "OptiPlex 7090", "--threads", "256"], in: folder).status == 0)
        let target = folder.file("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        let other = folder.file("other.imprint")
        let commands: [[String]] = [
            ["capture", "--root", root, "-o", other, "--model", "OptiPlex 7090"], ["verify", image],
            ["restore", image, "--root", target, "--force"], ["preflight", image, "--group", "rm204"],
        ]
        for command in commands {
            for count in ["0", "257", "100000", "-2"] {
                let refused = imprint(command + ["--threads=\(count)"], in: folder)
                #expect(refused.status == 64, "\(command[0]) \(count): \(refused.err)")
                #expect(refused.err.contains("'--threads' must be 1 to 256, not \(count)"), "\(command[0]): \(refused.err)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: other) && !FileManager.default.fileExists(atPath: other + ".partial"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty)
        #expect(imprint(["verify", image, "--threads", "256"], in: folder).status == 0)
    }

    /// By default gzip images are cut into 1 MiB blocks and zstd images into 4 MiB frames; GNU tar extracts the
    /// zstd image's frames to a tree equal to the source, and verify checks them.
    @Test func blockSizeFollowsTheCodec() throws {
        let folder = try TemporaryDirectory()
        let root = try master(folder)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15  // splitmix64: 9 MiB that neither codec can shrink
        let noise = (0..<(9 << 17)).flatMap { _ -> [UInt8] in
            state &+= 0x9E37_79B9_7F4A_7C15
            var mixed = (state ^ (state >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            return withUnsafeBytes(of: mixed ^ (mixed >> 31)) { Array($0) }
        }
        try Data(noise).write(to: URL(fileURLWithPath: root + "/noise.bin"))
        for (codec, blockSize, blocks) in [("gzip", 1 << 20, 10), ("zstd", 4 << 20, 3)] {
            let image = folder.file("\(codec).imprint")
            let captured = imprint(["capture", "--root", root, "-o", image, "--model", "OptiPlex 7090", "--codec", codec, "--json"], in: folder)
            #expect(captured.status == 0, "\(captured.err)")
            let object = try JSONSerialization.jsonObject(with: Data(captured.out.utf8)) as? [String: Any]
            #expect((object?["manifest"] as? [String: Any])?["blockSize"] as? Int == blockSize, "\(codec)")
            #expect((object?["summary"] as? [String: Any])?["blocks"] as? Int == blocks, "\(codec)")
            #expect(imprint(["verify", image], in: folder).status == 0)
            let extracted = folder.file("\(codec)-tar")
            try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: false)
            let untar = try runProcess("/bin/tar", ["--\(codec)", "-xpf", image, "-C", extracted])
            #expect(untar.status == 0, "\(untar.error)")
            let rsync = try runProcess("/usr/bin/rsync", ["-aHAXn", "--checksum", "--itemize-changes", root + "/", extracted + "/"])
            #expect(rsync.output.isEmpty, "\(rsync.output)")
        }
    }

    /// --encrypt with a passphrase file: the right passphrase restores, a wrong one exits 65 and writes nothing;
    /// without a passphrase file and with no terminal to ask on, capture says what --encrypt needs (exit 65) and
    /// writes nothing.
    @Test func encryptedImage() throws {
        let folder = try TemporaryDirectory()
        let root = try master(folder)
        let image = folder.file("sealed.imprint")
        let right = try folder.write("right.txt", "correct horse battery\n")
        let wrong = try folder.write("wrong.txt", "wrong horse\n")
        let captured = imprint(["capture", "--root", root, "-o", image, "--model", "OptiPlex 7090", "--encrypt", "--passphrase-file", right], in: folder)
        #expect(captured.status == 0, "\(captured.err)")
        let refused = imprint(["verify", image, "--passphrase-file", wrong], in: folder)
        #expect(refused.status == ExitStatus.invalidInput.rawValue)
        #expect(refused.err.contains("the passphrase does not open this image"))
        let target = folder.file("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        #expect(imprint(["restore", image, "--root", target, "--facts", fixturePath("demo/facts/RM204-12.json"), "--passphrase-file", wrong], in: folder).status == 65)
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty)
        let restored = imprint(["restore", image, "--root", target, "--facts", fixturePath("demo/facts/RM204-12.json"), "--passphrase-file", right], in: folder)
        #expect(restored.status == 0, "\(restored.err)")
        #expect(try String(contentsOfFile: target + "/etc/hostname", encoding: .utf8) == "master\n")
        #expect(try runProcess("/bin/tar", ["-tzf", image]).status != 0)

        let open = folder.file("open.imprint")
        let unasked = try runProcess(DiskCaptureTests.binary, ["capture", "--root", root, "-o", open, "--model", "OptiPlex 7090", "--encrypt"])
        #expect(unasked.status == 65)
        #expect(unasked.error.contains("'--encrypt' needs a passphrase: give it with '--passphrase-file FILE'"), "\(unasked.error)")
        #expect(!FileManager.default.fileExists(atPath: open) && !FileManager.default.fileExists(atPath: open + ".partial"))
    }

    /// The wrong model and a non-empty target are refused with their own exit codes and nothing written;
    /// --force erases the target and restores anyway.
    @Test func restoreRefusals() throws {
        let folder = try TemporaryDirectory()
        let root = try master(folder)
        let image = folder.file("latitude.imprint")
        #expect(imprint(["capture", "--root", root, "-o", image, "--model", "Latitude 5440"], in: folder).status == 0)
        let facts = fixturePath("demo/facts/RM204-12.json")

        let target = folder.file("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        let wrong = imprint(["restore", image, "--root", target, "--facts", facts], in: folder)
        #expect(wrong.status == ExitStatus.wrongModel.rawValue)
        #expect(wrong.err.contains("the image is for 'Latitude 5440', this unit is 'OptiPlex 7090'"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty)

        try folder.write("target/home/old-user/notes", "keep me?\n")
        let occupied = imprint(["restore", image, "--root", target, "--facts", facts], in: folder)
        #expect(occupied.status == ExitStatus.targetNotEmpty.rawValue)
        #expect(occupied.err.contains("is not empty (1 entry: 'home')"))
        #expect(FileManager.default.fileExists(atPath: target + "/home/old-user/notes"))

        let forced = imprint(["restore", image, "--root", target, "--facts", facts, "--force"], in: folder)
        #expect(forced.status == 0, "\(forced.err)")
        #expect(forced.err.contains("restoring anyway (--force)"))
        #expect(!FileManager.default.fileExists(atPath: target + "/home"))
        #expect(FileManager.default.fileExists(atPath: target + "/etc/hostname"))
    }

    /// A damaged image and a file that is no image get exit codes 20 and 65 with a message naming the place.
    @Test func damagedAndGarbage() throws {
        let folder = try TemporaryDirectory()
        let root = try master(folder)
        let image = folder.file("image.imprint")
        #expect(imprint(["capture", "--root", root, "-o", image, "--model", "OptiPlex 7090"], in: folder).status == 0)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: image))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: image))
        let damaged = imprint(["verify", image], in: folder)
        #expect(damaged.status == ExitStatus.imageDamaged.rawValue)
        #expect(damaged.err.contains("the image is damaged at byte"))

        let garbage = try folder.write("garbage", "hello")
        let refused = imprint(["verify", garbage], in: folder)
        #expect(refused.status == ExitStatus.invalidInput.rawValue)
        #expect(refused.err.contains("is not an imprint image"))
        #expect(imprint(["verify", folder.file("missing")], in: folder).status == ExitStatus.missingInput.rawValue)
    }

    /// The library lists images by model, and restore --library picks the one for the unit's model.
    @Test func libraryPicksByModel() throws {
        let folder = try TemporaryDirectory()
        let root = try master(folder)
        let library = folder.file("library")
        for model in ["OptiPlex 7090", "Latitude 5440"] {
            let image = folder.file("\(model.split(separator: " ")[0]).imprint")
            #expect(imprint(["capture", "--root", root, "-o", image, "--model", model], in: folder).status == 0)
            #expect(imprint(["library", "add", image, "--library", library], in: folder).status == 0)
        }
        let listed = imprint(["library", "list", "--library", library], in: folder)
        #expect(listed.out.contains("OptiPlex.imprint  OptiPlex 7090"))
        #expect(listed.out.contains("Latitude.imprint  Latitude 5440"))
        #expect(imprint(["library", "verify", "--library", library], in: folder).status == 0)

        let target = folder.file("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        let restored = imprint(["restore", "--library", library, "--root", target, "--facts", fixturePath("demo/facts/RM204-12.json")], in: folder)
        #expect(restored.status == 0, "\(restored.err)")
        #expect(restored.out.contains("restored \(library)/OptiPlex.imprint"))

        #expect(imprint(["library", "remove", "OptiPlex.imprint", "--library", library], in: folder).status == 0)
        let none = imprint(["restore", "--library", library, "--root", folder.file("other"), "--facts", fixturePath("demo/facts/RM204-12.json")], in: folder)
        #expect(none.status == ExitStatus.notFound.rawValue)
        #expect(none.err.contains("no image in the library"))
    }

    /// The demo inventory, the master root, a generalized image of it and an empty target folder.
    func generalizedImage(_ folder: TemporaryDirectory) throws -> (root: String, image: String, target: String) {
        demo(folder)
        let root = try master(folder)
        let image = folder.file("image.imprint")
        #expect(imprint(["capture", "--root", root, "-o", image, "--model", "OptiPlex 7090", "--generalize"], in: folder).status == 0)
        let target = folder.file("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        return (root, image, target)
    }

    /// restore --personalize runs the agent on the restored, generalized root: a new machine-id and hostname.
    @Test func restoreThenPersonalize() throws {
        let folder = try TemporaryDirectory()
        let (root, image, target) = try generalizedImage(folder)
        let result = imprint(["restore", image, "--root", target, "--facts", fixturePath("demo/facts/RM204-12.json"), "--personalize"], in: folder)
        #expect(result.status == 0, "\(result.err)")
        #expect(try String(contentsOfFile: target + "/etc/hostname", encoding: .utf8) == "RM204-12\n")
        let machineID = try String(contentsOfFile: target + "/etc/machine-id", encoding: .utf8)
        #expect(machineID != "uninitialized\n" && machineID.count == 33)
        #expect(try String(contentsOfFile: root + "/etc/machine-id", encoding: .utf8) == "0123456789abcdef0123456789abcdef\n")
    }

    /// restore --personalize on the unit itself reads its facts from its /sys (here a fixture's, mounted over /sys in a
    /// private mount namespace) and hands them to the agent's entry point in memory: with no usable temporary folder
    /// the unit is personalized all the same, and its history row is in the inventory.
    @Test func restorePersonalizesWithoutAFactsFile() throws {
        let folder = try TemporaryDirectory()
        let (_, image, target) = try generalizedImage(folder)
        let binary = packageRoot.appendingPathComponent(".build/debug/imprint").path
        let sysfs = packageRoot.appendingPathComponent("Fixtures/sysfs/optiplex-7090/sys").path
        let result = try runProcess("/usr/bin/unshare", [
            "--mount", "--propagation", "private", "/bin/sh", "-c", "mount --bind \"$1\" /sys && shift && exec \"$@\"", "sh",
            sysfs, binary, "restore", image, "--root", target, "--personalize",
        ], environment: [
            "IMPRINT_INVENTORY": folder.file("inventory.db"), "TMPDIR": folder.file("no-such-folder"),
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        ])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("RM204-07 (revision 1): applied run"), "\(result.output)")
        #expect(try String(contentsOfFile: target + "/etc/hostname", encoding: .utf8) == "RM204-07\n")
        #expect(!FileManager.default.fileExists(atPath: folder.file("no-such-folder")))
        let history = imprint(["inventory", "history", "RM204-07"], in: folder)
        #expect(history.out.contains("restore"), "\(history.out)")
    }

    /// restore --install-agent puts the agent and its enabled service into the restored root for first boot, and
    /// refuses to be combined with --personalize.
    @Test func restoreThenInstallAgent() throws {
        let folder = try TemporaryDirectory()
        let (_, image, target) = try generalizedImage(folder)
        let facts = fixturePath("demo/facts/RM204-12.json")
        #expect(imprint(["restore", image, "--root", target, "--facts", facts, "--personalize", "--install-agent"], in: folder).status == 64)
        let binary = packageRoot.appendingPathComponent(".build/debug/imprint").path
        // The debug binary needs the Swift runtime: install refuses it after the restore, naming the fix.
        let refused = imprint(["restore", image, "--root", target, "--facts", facts, "--install-agent", "--agent-binary", binary], in: folder)
        #expect(refused.status == 65)
        #expect(refused.err.contains("--static-swift-stdlib"))
        #expect(!FileManager.default.fileExists(atPath: target + "/usr/local/sbin/imprint"))
    }
}

@Suite struct ProgressBarTests {
    /// The bar shows percent, bytes of the total with what they count, rate and ETA when the total is known, and
    /// bytes with what they count and rate otherwise.
    @Test func lineText() {
        #expect(ProgressBar.line("restore", unit: .compressed, value: 50_000_000, total: 200_000_000, elapsed: 2)
            == "restore  [#####...............]   25%  50.0 of 200.0 MB compressed  25.0 MB/s  ETA 0:06")
        #expect(ProgressBar.line("capture", unit: .data, value: 10_000_000, total: nil, elapsed: 1) == "capture  10.0 MB data  10.0 MB/s")
    }

    /// Only the last frame says 100%: all bytes read but the work not finished shows 99%, never more.
    @Test func hundredOnlyWhenDone() {
        #expect(ProgressBar.line("capture", unit: .data, value: 40_000_000, total: 40_000_000, elapsed: 4)
            == "capture  [###################.]   99%  40.0 of 40.0 MB data  10.0 MB/s")
        #expect(ProgressBar.line("capture", unit: .data, value: 40_000_000, total: 40_000_000, elapsed: 4, done: true)
            == "capture  [####################]  100%  40.0 of 40.0 MB data  10.0 MB/s")
        #expect(ProgressBar.line("capture", unit: .data, value: 0, total: 0, elapsed: 0, done: true)
            == "capture  [####################]  100%  0.0 of 0.0 MB data  0.0 MB/s")
    }
}

import CLinux
import Foundation
import ImprintCore
@testable import ImprintImage
import ImprintTestSupport
import Testing

@Suite(.serialized) struct ImageTests {
    /// GNU tar lists and extracts an image (gzip and zstd), and both its tree and imprint's restore equal the
    /// source by rsync.
    @Test(arguments: ImageCodec.allCases) func tarAndRestoreEqualTheSource(codec: ImageCodec) throws {
        let folder = try TemporaryDirectory()
        let source = try makeEveryKindTree(in: folder)
        let image = folder.file("every-kind.imprint")
        let captured = try capture(source, to: image, codec: codec)
        let decompress = codec == .gzip ? "--gzip" : "--zstd"
        #expect(captured.summary.socketsSkipped == 1)
        #expect(captured.summary.sparseFiles == 1)
        #expect(captured.summary.hardLinks == 1)
        #expect(captured.summary.devices == 2)
        #expect(captured.summary.fifos == 1)
        #expect(captured.summary.blocks >= 3)

        let listed = try runProcess("/bin/tar", [decompress, "-tvf", image])
        #expect(listed.status == 0)
        #expect(listed.error.isEmpty)
        #expect(listed.output.contains("./usr/bin/setuid"))
        #expect(listed.output.contains("./etc/hostname link to ./hard-link") || listed.output.contains("./hard-link link to ./etc/hostname"))

        let extracted = folder.file("tar")
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: false)
        let untar = try runProcess("/bin/tar", ["--xattrs", "--xattrs-include=*", "--numeric-owner", decompress, "-xpf", image, "-C", extracted])
        #expect(untar.status == 0, "\(untar.error)")
        #expect(try rsyncDifferences(source, extracted, excluding: ["sock"]) == [])

        let restored = folder.file("restored")
        try FileManager.default.createDirectory(atPath: restored, withIntermediateDirectories: false)
        let result = try Restore.run(try ImageInput(path: image), root: restored)
        #expect(result.summary == captured.summary)
        #expect(try rsyncDifferences(source, restored, excluding: ["sock"]) == [])
        #expect(!FileManager.default.fileExists(atPath: restored + "/sock"))

        // Nanosecond times, and holes: the sparse file takes a few blocks, not 20 MB.
        var info = stat()
        #expect(stat(restored + "/sparse.img", &info) == 0)
        #expect(info.st_size == 20 << 20)
        #expect(info.st_blocks * 512 < 1 << 20)
        #expect(lstat(restored + "/etc/hostname", &info) == 0)
        #expect(info.st_mtim.tv_nsec == 123_456_789)
    }

    /// An image streams through a pipe: capture to standard output, verify and restore from standard input.
    @Test func streamsThroughAPipe() throws {
        let folder = try TemporaryDirectory()
        let source = folder.file("small")
        try FileManager.default.createDirectory(atPath: source + "/etc", withIntermediateDirectories: true)
        try Data("unit\n".utf8).write(to: URL(fileURLWithPath: source + "/etc/hostname"))
        let image = folder.file("small.imprint")
        try capture(source, to: image)
        let restored = folder.file("restored")
        try FileManager.default.createDirectory(atPath: restored, withIntermediateDirectories: false)
        try withStandardInput(from: image) {
            let stream = try ImageInput(path: "-")
            #expect(stream.size == nil)
            _ = try Restore.run(stream, root: restored)
        }
        #expect(try String(contentsOfFile: restored + "/etc/hostname", encoding: .utf8) == "unit\n")
    }

    /// A file is verified and restored from its block index on every core, a pipe in order; and a file whose data
    /// does not match the SHA-256 recorded for it (the block's CRCs made to agree) is named either way.
    @Test func fileReadByIndexPipeInOrder() throws {
        let folder = try TemporaryDirectory()
        let source = folder.file("small")
        try FileManager.default.createDirectory(atPath: source + "/etc", withIntermediateDirectories: true)
        for number in 0..<40 {
            try Data(String(repeating: "line \(number)\n", count: 60 * number).utf8).write(to: URL(fileURLWithPath: source + "/etc/file\(number)"))
        }
        let image = folder.file("small.imprint")
        let captured = try capture(source, to: image, blockSize: 8192)
        #expect(captured.summary.blocks > 5)
        let verified = try Restore.verify(try ImageInput(path: image), threads: 2)
        #expect(verified.access == .index)
        #expect(verified.summary == captured.summary)
        let restored = folder.file("restored")
        try FileManager.default.createDirectory(atPath: restored, withIntermediateDirectories: false)
        #expect(try Restore.run(try ImageInput(path: image), root: restored, threads: 2).access == .index)
        #expect(try rsyncDifferences(source, restored) == [])
        let piped = try withStandardInput(from: image) { try Restore.verify(try ImageInput(path: "-"), threads: 2) }
        #expect(piped.access == .stream)
        #expect(piped.summary == captured.summary)
        // The workers hashed the files that fit in one block; the scanner hashed the others.
        let reader = try ImageReader(input: try ImageInput(path: image), threads: 2)
        let scanner = TarScanner(reader: reader)
        var sink = CountingSink()
        #expect(try scanner.scan(into: &sink) == captured.summary)
        #expect(scanner.filesCheckedAhead > 0 && scanner.filesCheckedAhead < captured.summary.files)

        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: image)))
        var changed = false
        for entry in try Restore.describe(image).index where !changed {
            let start = Int(entry.offset)
            guard case .success(let length) = MemberHeader.subfieldLength(prefix: Array(bytes[start..<(start + 16)]), codec: .gzip),
                case .success(var header) = MemberHeader.parse(Array(bytes[start..<(start + 18 + length)]), codec: .gzip),
                !header.checksums.isEmpty
            else { continue }
            header.checksums[0].sha256[0] ^= 0xff
            bytes.replaceSubrange(start..<(start + 18 + length), with: header.encoded())
            changed = true
        }
        #expect(changed)
        let damaged = folder.file("damaged.imprint")
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        func expectNamed(_ body: () throws -> Void) {
            #expect(performing: body, throws: { error in
                "\(error)".contains("does not match its SHA-256") && "\(error)".contains("/etc/file")
            })
        }
        expectNamed {
            let reader = try ImageReader(input: try ImageInput(path: damaged), threads: 2)
            #expect(reader.access == .index)
            var sink = CountingSink()
            _ = try TarScanner(reader: reader).scan(into: &sink)
        }
        expectNamed { _ = try Restore.verify(try ImageInput(path: damaged), threads: 2) }
        expectNamed { _ = try withStandardInput(from: damaged) { try Restore.verify(try ImageInput(path: "-"), threads: 2) } }
    }

    /// Reading by the index, a file over several blocks is not hashed while its blocks match the index; when the
    /// block where it ends does not (its checksum list changed, the header's CRC made to agree), restore stops at
    /// that block naming the file and removes it, and verify names it as from a pipe.
    @Test func fileOverBlocksStopsAtABlockTheIndexDoesNotList() throws {
        let folder = try TemporaryDirectory()
        let source = folder.file("small")
        try FileManager.default.createDirectory(atPath: source + "/etc", withIntermediateDirectories: true)
        try Data((0..<5000).map { "line \($0)\n" }.joined().utf8).write(to: URL(fileURLWithPath: source + "/etc/large"))
        let image = folder.file("small.imprint")
        try capture(source, to: image, blockSize: 8192)
        let listed = try Restore.describe(image).index
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: image)))
        // The large file's checksum is listed by the block where its data ends, its third block or later.
        var changed: UInt64?
        for (number, entry) in listed.enumerated() where changed == nil {
            let start = Int(entry.offset)
            guard case .success(let length) = MemberHeader.subfieldLength(prefix: Array(bytes[start..<(start + 16)]), codec: .gzip),
                case .success(var header) = MemberHeader.parse(Array(bytes[start..<(start + 18 + length)]), codec: .gzip),
                !header.checksums.isEmpty
            else { continue }
            #expect(number >= 3, "the file's data ends in block \(number)")
            header.checksums[0].sha256[0] ^= 0xff
            bytes.replaceSubrange(start..<(start + 18 + length), with: header.encoded())
            changed = entry.offset
        }
        let offset = try #require(changed)
        let damaged = folder.file("damaged.imprint")
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        let target = folder.file("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        #expect {
            try Restore.run(try ImageInput(path: damaged), root: target, threads: 2)
        } throws: { error in
            "\(error)".contains("damaged at byte \(offset) while reading '/etc/large'")
                && "\(error)".contains("the block does not match its SHA-256 in the block index")
        }
        #expect(!FileManager.default.fileExists(atPath: target + "/etc/large"))
        #expect {
            try Restore.verify(try ImageInput(path: damaged), threads: 2)
        } throws: { error in
            "\(error)".contains("'/etc/large'") && "\(error)".contains("the file's data does not match its SHA-256")
        }
    }

    /// Every single-byte change and every truncation of a small image (gzip and zstd) is caught by verify and by
    /// restore, and a restore that fails writes nothing outside its target.
    @Test(arguments: ImageCodec.allCases) func everyCorruptionAndTruncationCaught(codec: ImageCodec) throws {
        let folder = try TemporaryDirectory()
        let source = folder.file("small")
        try FileManager.default.createDirectory(atPath: source + "/etc", withIntermediateDirectories: true)
        try Data(String(repeating: "unit-07 ", count: 300).utf8).write(to: URL(fileURLWithPath: source + "/etc/hostname"))
        try Data("id\n".utf8).write(to: URL(fileURLWithPath: source + "/etc/machine-id"))
        #expect(symlink("hostname", source + "/etc/name") == 0)
        let image = folder.file("small.imprint")
        try capture(source, to: image, codec: codec, blockSize: 1024)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: image))
        #expect(bytes.count < 4000)
        let damaged = folder.file("damaged.imprint")
        let target = folder.file("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        let before = listing(folder.path)

        func expectCaught(_ data: Data, _ what: String) throws {
            try data.write(to: URL(fileURLWithPath: damaged))
            #expect(throws: ImageError.self, "verify missed \(what)") { try Restore.verify(try ImageInput(path: damaged), threads: 2) }
            #expect(throws: ImageError.self, "restore missed \(what)") { try Restore.run(try ImageInput(path: damaged), root: target, threads: 2) }
            try Restore.erase(target)
        }
        for index in 0..<bytes.count {
            var copy = bytes
            copy[index] ^= 0x5a
            try expectCaught(copy, "a change at byte \(index)")
        }
        for length in 0..<bytes.count {
            try expectCaught(bytes.prefix(length), "a truncation to \(length) bytes")
        }
        try expectCaught(bytes + Data([0]), "a byte after the end")
        #expect(listing(folder.path).filter { $0 != "damaged.imprint" } == before)
        #expect(try Restore.verify(try ImageInput(path: image)).summary.files == 2)
    }

    /// A missing block is named as such, and a file that is not an image is refused before anything is written.
    @Test func missingBlockAndGarbage() throws {
        let folder = try TemporaryDirectory()
        let source = folder.file("small")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        let data = Data((0..<20000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 3) })
        try data.write(to: URL(fileURLWithPath: source + "/data.bin"))
        let image = folder.file("small.imprint")
        try capture(source, to: image, blockSize: 2048)
        let description = try Restore.describe(image)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: image))
        // Cut out the third data block (the first member is the manifest), in the middle of the file's data.
        let block = description.index[3]
        var missing = bytes
        missing.removeSubrange(Int(block.offset)..<(Int(block.offset) + Int(block.length)))
        try missing.write(to: URL(fileURLWithPath: folder.file("missing.imprint")))
        #expect {
            try Restore.verify(try ImageInput(path: folder.file("missing.imprint")))
        } throws: { error in
            "\(error)".contains("block 4 comes where block 3 belongs") && "\(error)".contains("/data.bin")
        }

        let garbage = try folder.write("garbage.imprint", String(repeating: "not an image ", count: 100))
        let target = folder.file("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        #expect {
            try Restore.run(try ImageInput(path: garbage), root: target)
        } throws: { error in
            (error as? ImageError).map { if case .notAnImage = $0 { return true } else { return false } } ?? false
        }
        #expect(listing(target).isEmpty)
    }

    /// Entries that climb out with '..' or write through a link (absolute or relative) never leave the target.
    @Test func hostileEntriesStayConfined() throws {
        let folder = try TemporaryDirectory()
        let outside = folder.file("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: false)
        let cases: [[TarEntry]] = [
            [TarEntry(path: Array("../outside/evil".utf8), kind: .file, mode: 0o644)],
            [TarEntry(path: Array("escape".utf8), kind: .symlink, mode: 0o777, linkTarget: Array(outside.utf8)),
             TarEntry(path: Array("escape/evil".utf8), kind: .file, mode: 0o644)],
            [TarEntry(path: Array("up".utf8), kind: .symlink, mode: 0o777, linkTarget: Array("../outside".utf8)),
             TarEntry(path: Array("up/evil".utf8), kind: .directory, mode: 0o755)],
            [TarEntry(path: Array("link".utf8), kind: .hardLink, mode: 0o644, linkTarget: Array("../outside/x".utf8))],
        ]
        for (number, entries) in cases.enumerated() {
            let image = folder.file("hostile-\(number).imprint")
            try writeImage(entries, to: image)
            let target = folder.file("target-\(number)")
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
            #expect(throws: ImageError.self) { try Restore.run(try ImageInput(path: image), root: target) }
            #expect(listing(outside).isEmpty, "case \(number) wrote outside the target")
        }
    }

    /// Generalizing leaves the identity files out of the image and keeps machine-id as 'uninitialized', without
    /// changing the master.
    @Test func generalizeLeavesIdentityOut() throws {
        let folder = try TemporaryDirectory()
        let source = try makeEveryKindTree(in: folder)
        let image = folder.file("general.imprint")
        let result = try capture(source, to: image, generalize: true)
        #expect(result.manifest.generalized == GeneralizeOperation.defaults.map(\.name))
        let restored = folder.file("restored")
        try FileManager.default.createDirectory(atPath: restored, withIntermediateDirectories: false)
        try Restore.run(try ImageInput(path: image), root: restored)
        #expect(try String(contentsOfFile: restored + "/etc/machine-id", encoding: .utf8) == "uninitialized\n")
        for gone in ["etc/ssh/ssh_host_ed25519_key", "var/log/syslog", "home/alice/.bash_history", "tmp/scratch", "var/lib/imprint"] {
            #expect(!FileManager.default.fileExists(atPath: restored + "/" + gone), "\(gone) was imaged")
        }
        for kept in ["var/log", "tmp", "etc/ssh", "etc/hostname"] {
            #expect(FileManager.default.fileExists(atPath: restored + "/" + kept), "\(kept) is missing")
        }
        #expect(try String(contentsOfFile: source + "/etc/machine-id", encoding: .utf8) == "0123456789abcdef0123456789abcdef\n")
        #expect(FileManager.default.fileExists(atPath: source + "/etc/ssh/ssh_host_ed25519_key"))
        #expect(result.summary.leftOut["ssh-hostkeys"] == 1)
    }

    /// Entries removed after their folder was listed (a live root) are left out and named in the summary, and the
    /// capture goes on: a file, a symlink and a folder go while the file before them is read; the hard link to the
    /// removed file is then imaged as the file itself. Two files the listing called regular are by then a symlink
    /// and a FIFO, and are imaged as what they have become; an excluded file that goes is not reported. The
    /// restored tree equals what is left of the source.
    @Test func entriesRemovedDuringCaptureAreLeftOut() throws {
        let folder = try TemporaryDirectory()
        let source = folder.file("live")
        let logs = source + "/var/log"
        try FileManager.default.createDirectory(atPath: logs + "/d-journal", withIntermediateDirectories: true)
        for name in ["a.log", "b.log", "e.log", "f.log", "g.log", "d-journal/system.journal"] {
            try Data("\(name) line\n".utf8).write(to: URL(fileURLWithPath: logs + "/" + name))
        }
        try FileManager.default.createSymbolicLink(atPath: logs + "/c-latest", withDestinationPath: "e.log")
        #expect(link(logs + "/b.log", logs + "/z-hard.log") == 0)
        // The removals below change the folder's time after the capture read it: they set it back, or a removal
        // a clock tick later than the writes (a loaded machine) would show as a difference the image cannot have.
        let folderTime = [timespec(tv_sec: 1_700_000_000, tv_nsec: 0), timespec(tv_sec: 1_700_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, logs, folderTime, AT_SYMLINK_NOFOLLOW) == 0)
        let image = folder.file("live.imprint")
        let descriptor = open(image, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(descriptor) }
        let request = CaptureRequest(root: source, models: ["OptiPlex 7090"], threads: 2, excludes: ["g.log"], tool: "imprint test")
        var removed = false
        let result = try Capture.run(request, to: descriptor, name: image) { _ in
            guard !removed else { return }  // the first file read is a.log: its folder is listed by now
            removed = true
            for name in ["b.log", "c-latest", "d-journal", "e.log", "f.log", "g.log"] { try? FileManager.default.removeItem(atPath: logs + "/" + name) }
            try? FileManager.default.createSymbolicLink(atPath: logs + "/e.log", withDestinationPath: "a.log")
            _ = mkfifo(logs + "/f.log", 0o644)
            _ = utimensat(AT_FDCWD, logs, folderTime, AT_SYMLINK_NOFOLLOW)
        }
        #expect(result.summary.vanished == ["/var/log/b.log", "/var/log/c-latest", "/var/log/d-journal"])  // not g.log: excluded
        #expect(result.summary.files == 2)  // a.log and z-hard.log, now a file of its own
        #expect(result.summary.hardLinks == 0)
        #expect(result.summary.symlinks == 1)
        #expect(result.summary.fifos == 1)
        let restored = folder.file("restored")
        try FileManager.default.createDirectory(atPath: restored, withIntermediateDirectories: false)
        try Restore.run(try ImageInput(path: image), root: restored)
        let differences = try rsyncDifferences(source, restored)
        #expect(differences == [], "\(differences.joined(separator: "\n"))")
        #expect(try String(contentsOfFile: restored + "/var/log/z-hard.log", encoding: .utf8) == "b.log line\n")
    }

    /// Blocks in flight: 4 per worker and 2 more at 1 MiB, as many mebibytes in larger blocks but at least one
    /// queued per worker and 2 more, and a block size below 1 MiB (a manifest could claim one) counts as 1 MiB.
    @Test func pipelineCapacityFollowsTheBlockSize() {
        typealias Pipeline = OrderedPipeline<Int, Int>
        #expect(Pipeline.capacity(threads: 2, blockSize: 1 << 20) == 10)
        #expect(Pipeline.capacity(threads: 2, blockSize: 4 << 20) == 4)
        #expect(Pipeline.capacity(threads: 8, blockSize: 4 << 20) == 10)
        #expect(Pipeline.capacity(threads: 2, blockSize: 512) == 10)
        #expect(Pipeline.capacity(threads: 64, blockSize: 16 << 20) == 66)
        #expect(Pipeline.capacity(threads: 64, blockSize: 1 << 30) == 66)
    }

    /// The helper threads (a pipeline's workers, a restore's data writer) run as batch threads, so handing them
    /// work does not push the thread that walks the tar stream off its core; the thread that made them keeps its
    /// own policy.
    @Test func helperThreadsRunAsBatchThreads() throws {
        let pipeline = OrderedPipeline<Int, Int32>(threads: 2, capacity: 4) { _ in sched_getscheduler(0) }
        defer { pipeline.close() }
        for number in 0..<4 { pipeline.submit(number) }
        for _ in 0..<4 { #expect(try pipeline.take()?.get() == SCHED_BATCH) }

        final class Seen { var policy: Int32 = -1 }
        let seen = Seen()
        let writer = DataWriter()
        defer { writer.close() }
        try writer.run { seen.policy = sched_getscheduler(0) }
        try writer.drain()
        #expect(seen.policy == SCHED_BATCH)
        #expect(sched_getscheduler(0) == SCHED_OTHER)
    }

    /// A libdeflate compressor the pool hands out again deflates exactly as a new one, the level reaches it (level 9
    /// is smaller than level 1 on text), and the member it makes opens back to its content.
    @Test func aCompressorUsedAgainDeflatesAsANewOne() throws {
        let words = ["unit", "room", "204", "lab", "host", "key", "printer", "eth0", "net", "id"]
        var state: UInt32 = 2_463_534_242  // xorshift32: the same words every run
        let text = Array((0..<40_000).map { _ in
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            return words[Int(state % 10)]
        }.joined(separator: " ").utf8)
        let empty = MemberHeader(kind: .data, sequence: 1, compressedLength: 0, size: 0)
        func member(level: Int32, pool: CompressorPool?) throws -> [UInt8] {
            try text.withUnsafeBytes { try Member.make(empty, content: $0, level: level, pool: pool) }
        }
        let pool = CompressorPool()
        let first = try pool.takeDeflate(level: 9)
        pool.giveDeflate(first)
        let fresh = try member(level: 9, pool: pool)
        let again = try pool.takeDeflate(level: 9)
        #expect(again == first)  // the same compressor, used again
        pool.giveDeflate(again)
        let sameAsNew = try member(level: 9, pool: pool) == fresh
        #expect(sameAsNew, "a compressor used again must deflate as a new one")
        let fast = try member(level: 1, pool: nil)
        #expect(fresh.count < fast.count)
        #expect(fresh.count < text.count / 2)

        let header = try MemberHeader.parse(Array(fresh.prefix(empty.length)), codec: .gzip).get()
        #expect(try Member.open(header, body: Array(fresh[header.length...])).get() == text)
    }

    /// A metadata member holds two bytes of deflate data (an empty fixed-code block), as zlib wrote it, so the tail
    /// keeps the length FORMAT.md gives, and gzip reads such a member as empty.
    @Test func anEmptyMemberIsTwoBytesOfDeflate() throws {
        let tail = try Member.metadata(.tail, [UInt8](repeating: 7, count: 24), firstSequence: 3, codec: .gzip)
        #expect(tail.count == 1)
        #expect(tail[0].count == 78)
        #expect(tail[0].count == Restore.tailLength(.gzip))
        let folder = try TemporaryDirectory()
        let path = folder.file("tail.gz")
        try Data(tail[0]).write(to: URL(fileURLWithPath: path))
        let read = try runProcess("/bin/gzip", ["-dc", path])
        #expect(read.status == 0, "\(read.error)")
        #expect(read.output.isEmpty)
    }

    /// An image made by the imprint before libdeflate (zlib's deflate; `Fixtures/images/zlib-gzip.imprint`, 10.6 KB)
    /// still verifies and restores: names, contents, link, mode and nanosecond time as captured.
    @Test func anImageMadeWithZlibVerifiesAndRestores() throws {
        let folder = try TemporaryDirectory()
        let image = try folder.copyFixture("images/zlib-gzip.imprint")
        let verified = try Restore.verify(try ImageInput(path: image), threads: 2)
        #expect(verified.manifest.models == ["Lab PC 204"])
        #expect(verified.summary.files == 4)

        let restored = folder.file("restored")
        try FileManager.default.createDirectory(atPath: restored, withIntermediateDirectories: false)
        let result = try Restore.run(try ImageInput(path: image), root: restored, threads: 2)
        #expect(result.summary == verified.summary)
        #expect(try String(contentsOfFile: restored + "/etc/hostname", encoding: .utf8) == "lab-204-01\n")
        func sha256(_ path: String) throws -> String {
            sha256Of(Array(try Data(contentsOf: URL(fileURLWithPath: restored + path)))).map { String(format: "%02x", $0) }.joined()
        }
        #expect(try sha256("/usr/share/doc/lab/notes.txt") == "af137f7997158b11934fbe97eff87b398c4fc5753523e670d7a7c9ea2cd9829d")
        #expect(try sha256("/usr/share/doc/lab/seed.bin") == "8d604b599566c3806c4e53b56778e2db7d745b6e3ad49662f8d9433c168ccc5a")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: restored + "/etc/notes") == "../usr/share/doc/lab/notes.txt")
        var info = stat()
        #expect(stat(restored + "/etc/hostname", &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o640)
        #expect(info.st_mtim.tv_nsec == 123_456_789)
        #expect(stat(restored + "/etc/empty", &info) == 0)
        #expect(info.st_size == 0)
    }

    /// A tar name is made relative to the root: "./", "." and empty components dropped, ".." and NUL refused, with
    /// plain names (the common case, returned without splitting) read the same as the rest.
    @Test func namesRelativeToTheRoot() throws {
        let cases: [(String, String)] = [
            ("./etc/hostname", "etc/hostname"), ("etc/hostname", "etc/hostname"), ("./", ""), (".", ""), ("", ""),
            ("./etc/", "etc"), ("/etc//ssh/./x", "etc/ssh/x"), ("./.hidden/..x/x..", ".hidden/..x/x.."), ("a/./b", "a/b"),
            ("./.", ""), ("..a", "..a"),
        ]
        for (name, relative) in cases {
            #expect(try TarScanner.relative(Array(name.utf8)) == Array(relative.utf8), "\(name)")
        }
        for name in ["..", "./..", "etc/../..", "a/..", "../a", "./a/b/.."] {
            #expect(throws: ImageError.self, "\(name)") { try TarScanner.relative(Array(name.utf8)) }
        }
        #expect(throws: ImageError.self) { try TarScanner.relative(Array("./a".utf8) + [0] + Array("b".utf8)) }
    }

    /// Tar headers round-trip long, non-UTF-8 names, big ids and nanosecond times through the parser.
    @Test func paxTimesRoundTrip() {
        #expect(TarFormat.timeText(1_700_000_000, 123_456_789) == "1700000000.123456789")
        #expect(TarFormat.timeText(-2, 500_000_000) == "-1.5")
        #expect(TarFormat.parseTime("-1.5")! == (-2, 500_000_000))
        #expect(TarFormat.parseTime("1700000000.1")! == (1_700_000_000, 100_000_000))
    }
}

/// Writes an image holding exactly `entries` (no data), for hostile-input tests.
func writeImage(_ entries: [TarEntry], to path: String) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    defer { close(descriptor) }
    let manifest = ImageManifest(tool: "test", created: Date(), models: ["OptiPlex 7090"], level: 6, blockSize: 4096, source: "/")
    let writer = try ImageWriter(output: OutputFile(descriptor: descriptor, name: path), manifest: manifest, level: 6, threads: 1, blockSize: 4096)
    for entry in entries {
        try writer.append(TarFormat.headers(for: entry))
    }
    try writer.append([UInt8](repeating: 0, count: 1024))
    try writer.finish(summary: ImageSummary())
}

@Suite struct EncryptionTests {
    func encryptedImage(_ folder: TemporaryDirectory, blockSize: Int = 1 << 20) throws -> (source: String, image: String) {
        let source = folder.file("small")
        try FileManager.default.createDirectory(atPath: source + "/etc", withIntermediateDirectories: true)
        try Data(String(repeating: "secret payroll ", count: 200).utf8).write(to: URL(fileURLWithPath: source + "/etc/payroll"))
        try Data("unit-07\n".utf8).write(to: URL(fileURLWithPath: source + "/etc/hostname"))
        let image = folder.file("sealed.imprint")
        let descriptor = open(image, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(descriptor) }
        var request = CaptureRequest(root: source, models: ["OptiPlex 7090"], threads: 2, blockSize: blockSize, tool: "test")
        request.passphrase = "correct horse"
        request.keyRounds = 16  // cheap: every check below derives the key anew
        _ = try Capture.run(request, to: descriptor, name: image)
        return (source, image)
    }

    /// An encrypted image restores with its passphrase to a tree equal to the source; its bytes hold neither the
    /// plain text nor the files' plain SHA-256.
    @Test func roundTrip() throws {
        let folder = try TemporaryDirectory()
        let (source, image) = try encryptedImage(folder)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: image))
        #expect(bytes.range(of: Data("payroll".utf8)) == nil || bytes.range(of: Data("secret payroll".utf8)) == nil)
        let payroll = try Data(contentsOf: URL(fileURLWithPath: source + "/etc/payroll"))
        #expect(bytes.range(of: Data(sha256Of(Array(payroll)))) == nil)
        #expect(try Restore.describe(image).manifest.encryption?.kdf == "scrypt")
        let target = folder.file("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        try Restore.run(try ImageInput(path: image), root: target, passphrase: { "correct horse" })
        #expect(try rsyncDifferences(source, target) == [])
    }

    /// A wrong or missing passphrase is an error before anything is written.
    @Test func wrongPassphrase() throws {
        let folder = try TemporaryDirectory()
        let (_, image) = try encryptedImage(folder)
        let target = folder.file("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        #expect(throws: ImageError.wrongPassphrase) {
            try Restore.run(try ImageInput(path: image), root: target, passphrase: { "wrong horse" })
        }
        #expect(throws: ImageError.passphraseNeeded(encrypting: false)) { try Restore.verify(try ImageInput(path: image)) }
        #expect(listing(target).isEmpty)
    }

    /// Every single-byte change of an encrypted image past its manifest is caught by verify with the right
    /// passphrase.
    @Test func tamperingCaught() throws {
        let folder = try TemporaryDirectory()
        let (_, image) = try encryptedImage(folder, blockSize: 1024)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: image))
        let damaged = folder.file("damaged.imprint")
        #expect(try Restore.verify(try ImageInput(path: image), passphrase: { "correct horse" }).summary.files == 2)
        let manifestEnd = Int(try Restore.describe(image).index[1].offset)
        // Past the manifest (whose changes are caught as a damaged header, or as a wrong key by a changed salt).
        for index in manifestEnd..<bytes.count {
            var copy = bytes
            copy[index] ^= 0x01
            try copy.write(to: URL(fileURLWithPath: damaged))
            #expect(throws: ImageError.self, "a change at byte \(index) was missed") {
                try Restore.verify(try ImageInput(path: damaged), passphrase: { "correct horse" })
            }
        }
    }
}

@Suite struct CaptureOptionTests {
    /// --exclude drops a pattern with a slash from the root and a bare pattern by name, and counts them.
    @Test func excludePatterns() throws {
        let folder = try TemporaryDirectory()
        try folder.write("root/var/cache/apt/pkgcache.bin", "cache")
        try folder.write("root/usr/lib/module.pyc", "bytecode")
        try folder.write("root/usr/lib/module.py", "source")
        let image = folder.file("image.imprint")
        let descriptor = open(image, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let request = CaptureRequest(root: folder.file("root"), models: ["m"], excludes: ["/var/cache/*", "*.pyc"], tool: "test")
        let result = try Capture.run(request, to: descriptor, name: image)
        close(descriptor)
        #expect(result.summary.excluded == 2)
        let listed = try runProcess("/bin/tar", ["-tzf", image])
        #expect(listed.output.contains("./usr/lib/module.py\n"))
        #expect(listed.output.contains("./var/cache/\n"))
        #expect(!listed.output.contains("pkgcache.bin"))
        #expect(!listed.output.contains(".pyc"))
    }

    /// The count made before a capture (for its progress bar) equals what the capture then reads, files and data
    /// bytes, on a tree with every kind of file (a hard link, a file with holes), plain, excluding, generalizing,
    /// and with the image being written inside the tree.
    @Test func measureEqualsWhatCaptureReads() throws {
        let folder = try TemporaryDirectory()
        let source = try makeEveryKindTree(in: folder)
        for (excludes, generalize) in [([String](), false), (["*.txt", "/deep/*"], false), ([], true)] {
            let image = source + "/image.imprint"
            let descriptor = open(image, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            defer {
                close(descriptor)
                unlink(image)
            }
            var request = CaptureRequest(root: source, models: ["m"], generalize: generalize, excludes: excludes, tool: "test")
            var info = stat()
            fstat(descriptor, &info)
            request.skip = (UInt64(info.st_dev), UInt64(info.st_ino))
            let measured = Capture.measure(request)
            var reported: [UInt64] = []
            let result = try Capture.run(request, to: descriptor, name: image) { reported.append($0) }
            #expect(measured == CaptureSize(files: result.summary.files, dataBytes: result.summary.dataBytes), "\(excludes) \(generalize)")
            #expect(reported == reported.sorted(), "progress never goes back")
            #expect(reported.last == result.summary.dataBytes)
        }
    }
}

/// Runs `body` with standard input reading `path` through a pipe (not seekable), as `imprint verify - < IMAGE | ...`.
func withStandardInput<T>(from path: String, _ body: () throws -> T) throws -> T {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let input = Pipe()
    let writer = Thread {
        input.fileHandleForWriting.write(data)
        try? input.fileHandleForWriting.close()
    }
    writer.start()
    let saved = dup(0)
    dup2(input.fileHandleForReading.fileDescriptor, 0)
    defer {
        dup2(saved, 0)
        close(saved)
        // Read what the body left, so the writer is never stuck on a full pipe.
        _ = input.fileHandleForReading.readDataToEndOfFile()
    }
    return try body()
}

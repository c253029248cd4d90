import CLinux
import Foundation
import Glibc
import ImprintCore
import ImprintImage

/// The seed corpora: small real inputs the fuzzer starts from and mutates.
public enum FuzzSeeds {
    /// Writes the seeds of `target` into `folder`, made from the fixtures in `fixtures` (the repository's `Fixtures/`).
    /// - Parameters:
    ///   - scratch: a folder for the trees the image seeds are captured from.
    public static func write(_ target: FuzzTarget, to folder: String, fixtures: String, scratch: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        func copy(_ names: [String]) throws {
            for name in names {
                let source = (fixtures as NSString).appendingPathComponent(name)
                let data = try Data(contentsOf: URL(fileURLWithPath: source))
                try data.write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent((name as NSString).lastPathComponent)))
            }
        }
        switch target {
        case .csv:
            try copy([
                "demo/units.csv", "demo/groups.csv", "demo/printers.csv", "demo/files.csv", "demo/accounts.csv", "demo/hooks.csv",
            ])
        case .facts:
            try copy(["demo/facts/RM204-07.json", "demo/facts/RM204-21.json", "demo/facts/not-in-inventory.json"])
        case .api:
            let seeds = [
                #"{"facts":{"serial":"7XK07QF9","interfaces":[{"name":"enp1s0","mac":"3c:52:82:20:04:07","wireless":false,"removable":false}]},"diskHoldsData":false}"#,
                #"{"event":"applied","identity":null,"time":"2026-12-01T10:00:00Z","percent":100}"#,
                #"{"group":"RM204","actions":["enrol","restore"],"image":"rm204.img","minutes":60,"maximumNewUnits":30}"#,
                "\0\0\0\0\0\u{10}\0\0bytes=100-199", "\0\0\0\0\0\0\u{4}\0bytes=-500",
            ]
            for (index, seed) in seeds.enumerated() {
                try Data(seed.utf8).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("seed-\(index)")))
            }
        case .tar:
            // The tar streams of the gzip image seeds, as `gzip -dc` reads them.
            let images = (scratch as NSString).appendingPathComponent("image-seeds")
            try write(.image, to: images, fixtures: fixtures, scratch: scratch)
            for name in ["etc-gzip.img", "odd-gzip.img"] {
                let gzip = try ChildProcess("/bin/gzip", ["-dc", (images as NSString).appendingPathComponent(name)]).run()
                guard gzip.status == 0 else {
                    throw FuzzFinding(description: "gzip cannot read the seed \(name): \(gzip.errorText)")
                }
                try Data(gzip.output).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(name.replacingOccurrences(of: "-gzip.img", with: ".tar"))))
            }
        case .image, .headers:
            let etc = (fixtures as NSString).appendingPathComponent("roots/rm204-master/etc")
            let tree = try oddTree(in: scratch)
            try capture(etc, to: (folder as NSString).appendingPathComponent("etc-gzip.img"), codec: .gzip)
            try capture(etc, to: (folder as NSString).appendingPathComponent("etc-zstd.img"), codec: .zstd)
            try capture(etc, to: (folder as NSString).appendingPathComponent("etc-encrypted.img"), codec: .gzip, encrypted: true)
            try capture(tree, to: (folder as NSString).appendingPathComponent("odd-gzip.img"), codec: .gzip)
            try capture(tree, to: (folder as NSString).appendingPathComponent("odd-zstd.img"), codec: .zstd)
        }
    }

    /// Captures `root` with small blocks (so a seed has several, each with its checksums) and a fixed time.
    private static func capture(_ root: String, to path: String, codec: ImageCodec, encrypted: Bool = false) throws {
        var request = CaptureRequest(
            root: root, models: ["Fuzz Model"], codec: codec, level: 1, threads: 1, blockSize: 4096, tool: "imprint-fuzz",
            time: Date(timeIntervalSince1970: 1_700_000_000))
        if encrypted {
            request.passphrase = FuzzRunner.passphrase
            // scrypt at its cheapest: a fuzzer runs the key derivation for every input.
            request.keyRounds = 2
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw FuzzFinding(description: "cannot write the seed \(path)") }
        defer { close(descriptor) }
        _ = try Capture.run(request, to: descriptor, name: path)
    }

    /// A tree with every kind of entry the tar stream carries: a sparse file, a hard link, a symbolic link, a FIFO, an
    /// extended attribute, a long name and a name that is not UTF-8.
    private static func oddTree(in scratch: String) throws -> String {
        let root = (scratch as NSString).appendingPathComponent("odd-tree")
        try? FileManager.default.removeItem(atPath: root)
        let folder = (root as NSString).appendingPathComponent("a/b")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let file = (folder as NSString).appendingPathComponent("file")
        try Data("imprint fuzz seed\n".utf8).write(to: URL(fileURLWithPath: file))
        _ = setxattr(file, "user.imprint", "seed", 4, 0)
        _ = link(file, (root as NSString).appendingPathComponent("a/hard"))
        _ = symlink("b/file", (root as NSString).appendingPathComponent("a/soft"))
        _ = mkfifo((root as NSString).appendingPathComponent("fifo"), 0o644)
        let sparse = open((root as NSString).appendingPathComponent("sparse"), O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        if sparse >= 0 {
            _ = pwrite(sparse, "data", 4, 64 << 10)
            _ = ftruncate(sparse, 256 << 10)
            close(sparse)
        }
        try Data().write(to: URL(fileURLWithPath: (root as NSString).appendingPathComponent(String(repeating: "long-name-", count: 15))))
        let odd = Array(root.utf8) + [UInt8(ascii: "/"), 0xff, 0x41, 0]
        let made = odd.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644) } }
        if made >= 0 { close(made) }
        return root
    }
}

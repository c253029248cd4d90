import Foundation
import Glibc

/// One image in a library folder.
public struct LibraryImage: Sendable {
    public var name: String
    public var path: String
    public var manifest: ImageManifest
    public var bytes: UInt64
}

/// A library: a folder of images, told apart by the hardware models in their manifests.
public enum Library {
    /// The images in `folder`, by name; files that are not images are reported in `unreadable`.
    /// - Parameter cache: manifests read before, kept while their files stay the same.
    public static func list(_ folder: String, cache: LibraryCache? = nil) throws -> (images: [LibraryImage], unreadable: [String]) {
        var images: [LibraryImage] = []
        var unreadable: [String] = []
        for name in try listFolder(Array(folder.utf8)).map(displayPath) where !name.hasSuffix(".partial") && !name.hasPrefix(".") {
            let path = (folder as NSString).appendingPathComponent(name)
            var info = stat()
            guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            do {
                let manifest = try cache?.manifest(path, info: info) ?? Restore.manifest(try ImageInput(path: path))
                images.append(LibraryImage(name: name, path: path, manifest: manifest, bytes: UInt64(info.st_size)))
            } catch {
                unreadable.append(name)
            }
        }
        cache?.keep(only: Set(images.map(\.path)))
        return (images, unreadable)
    }

    /// The newest image in `folder` made for `model`.
    public static func pick(model: String?, in folder: String) throws -> LibraryImage {
        let fitting = try list(folder).images.filter { $0.manifest.fits(model: model) }
        guard let newest = fitting.max(by: { $0.manifest.created < $1.manifest.created }) else {
            throw ImageError.noImageForModel(model: model, library: folder)
        }
        return newest
    }

    /// Verifies the image at `path` and copies it into `folder` (as `name`, default its file name).
    public static func add(
        _ path: String, to folder: String, name: String? = nil, passphrase: (() throws -> String)? = nil
    ) throws -> LibraryImage {
        _ = try Restore.verify(try ImageInput(path: path), passphrase: passphrase)
        let name = name ?? (path as NSString).lastPathComponent
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else {
            throw ImageError.invalid(value: name, reason: "a library name is a plain file name")
        }
        let target = (folder as NSString).appendingPathComponent(name)
        guard !FileManager.default.fileExists(atPath: target) else {
            throw ImageError.invalid(value: name, reason: "the library already has an image of this name; remove it first")
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let partial = target + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            try FileManager.default.copyItem(atPath: path, toPath: partial)
        } catch {
            throw ImageError.io(path: target, operation: "copy the image to", errno: EIO)
        }
        guard rename(partial, target) == 0 else { throw ImageError.io(path: target, operation: "finish", errno: errno) }
        let manifest = try Restore.manifest(try ImageInput(path: target))
        var info = stat()
        _ = stat(target, &info)
        return LibraryImage(name: name, path: target, manifest: manifest, bytes: UInt64(info.st_size))
    }

    /// Removes the image `name` from `folder`.
    /// - Important: deletes the image file.
    public static func remove(_ name: String, from folder: String) throws {
        guard try list(folder).images.contains(where: { $0.name == name }) else {
            throw ImageError.invalid(value: name, reason: "no image of this name in the library \(folder)")
        }
        let path = (folder as NSString).appendingPathComponent(name)
        guard unlink(path) == 0 else { throw ImageError.io(path: path, operation: "remove", errno: errno) }
    }
}

/// The manifests of a library's images, each kept while its file stays the same (device, inode, size, change
/// time): a server that lists its library on every request reads only the images added or replaced since.
public final class LibraryCache: @unchecked Sendable {
    // @unchecked: `known` is read and written under `lock` only.
    private let lock = NSLock()
    private var known: [String: (identity: [Int], manifest: ImageManifest)] = [:]
    /// How many manifests were read from their files, for the tests.
    public private(set) var reads = 0

    public init() {}

    /// The manifest of the image at `path`, whose `stat` is `info`: the one read before when the file is the same.
    func manifest(_ path: String, info: stat) throws -> ImageManifest {
        let identity = [
            Int(info.st_dev), Int(info.st_ino), Int(info.st_size), info.st_ctim.tv_sec, info.st_ctim.tv_nsec,
            info.st_mtim.tv_sec, info.st_mtim.tv_nsec,
        ]
        if let kept = lock.withLock({ known[path] }), kept.identity == identity { return kept.manifest }
        let manifest = try Restore.manifest(try ImageInput(path: path))
        lock.withLock {
            known[path] = (identity, manifest)
            reads += 1
        }
        return manifest
    }

    /// Forgets the images no longer in the library.
    func keep(only paths: Set<String>) {
        lock.withLock { known = known.filter { paths.contains($0.key) } }
    }
}

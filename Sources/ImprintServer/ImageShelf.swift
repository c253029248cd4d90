import Crypto
import Foundation
import Glibc
import ImprintCore
import ImprintImage
import ImprintWire

/// The library folder as the server offers it: images by id (their file name) and by model, each with a strong ETag.
///
/// Library images are never changed in place (`library add` writes a new file and renames it), so a tag made of the
/// file's identity (device, inode, size, modification time) and its manifest changes whenever the bytes can have.
public final class ImageShelf: Sendable {
    public let folder: String
    /// The manifests read so far: each request lists the folder, but reads only the images added since.
    let manifests = LibraryCache()

    public init(folder: String) {
        self.folder = folder
    }

    /// An image of the library, found on disk now.
    public struct Entry: Sendable {
        public var reference: ImageReference
        public var path: String
        public var created: Date
    }

    /// The image `id` names, or else the newest one serving `model`.
    public func reference(id: String?, model: String?) throws(ServerError) -> ImageReference {
        if let id { return try entry(id: id).reference }
        let fitting = try entries().filter { entry in entry.model.map { $0.fits(model: model) } ?? false }
        guard let newest = fitting.max(by: { $0.entry.created < $1.entry.created }) else {
            throw ServerError(
                .notFound,
                "no image in the library serves model \(model.map(quoted) ?? "(none)"); add one with 'imprint library add' or name one in the window")
        }
        return newest.entry.reference
    }

    /// The image with file name `id`.
    public func entry(id: String) throws(ServerError) -> Entry {
        guard Self.isValidId(id) else {
            throw ServerError(.badRequest, "image id \(quoted(id)) is not a file name of the library")
        }
        guard let found = try entries().first(where: { $0.entry.reference.id == id }) else {
            throw ServerError(.notFound, "no image \(quoted(id)) in the library")
        }
        return found.entry
    }

    public func list() throws(ServerError) -> [ImageReference] {
        try entries().map(\.entry.reference).sorted { $0.id < $1.id }
    }

    /// A file name in the folder: no slash, no leading dot, printable.
    static func isValidId(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 255 && !id.hasPrefix(".") && !id.contains("/")
            && id.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7f }
    }

    private func entries() throws(ServerError) -> [(entry: Entry, model: ImageManifest?)] {
        let listed: [LibraryImage]
        do {
            listed = try Library.list(folder, cache: manifests).images
        } catch {
            throw ServerError(.internalError, "the image library \(folder) cannot be read: \(error)")
        }
        return listed.map { image in
            var info = stat()
            _ = stat(image.path, &info)
            let identity = "\(image.name)|\(info.st_dev)|\(info.st_ino)|\(info.st_size)|\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)|\(image.manifest.created.timeIntervalSince1970)"
            let tag = "\"" + SHA256.hash(data: Data(identity.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined() + "\""
            let reference = ImageReference(id: image.name, models: image.manifest.models, bytes: image.bytes, etag: tag)
            return (Entry(reference: reference, path: image.path, created: image.manifest.created), image.manifest)
        }
    }
}

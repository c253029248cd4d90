import Foundation
import Glibc
import ImprintCore

/// Errors from the image engine: codecs, the image format, the tree on either side.
public enum ImageError: Error, Equatable, Sendable {
    /// libdeflate or zstd refused to start or to compress a block.
    case codec(operation: String, code: Int32)
    /// A block's bytes are not a complete, intact gzip member.
    case corruptBlock(reason: String)
    /// The image is damaged at `offset` (a byte offset in the image file); `file` is the entry being read then.
    case corrupt(offset: UInt64, file: String?, reason: String)
    /// The file is not an Imprint image at all (or not one this version reads).
    case notAnImage(path: String, reason: String)
    /// The image was made for other hardware.
    case wrongModel(imageModels: [String], unitModel: String?)
    /// The target root already holds files.
    case targetNotEmpty(path: String, entries: [String])
    /// A system call failed on `path`.
    case io(path: String, operation: String, errno: Int32)
    /// An entry's path would leave the target root, or goes through a link.
    case unsafePath(path: String, reason: String)
    /// A value given on the command line or in a file that the engine refuses.
    case invalid(value: String, reason: String)
    /// The passphrase does not open the image.
    case wrongPassphrase
    /// The image is encrypted, or is to be (`encrypting`), and no passphrase was given.
    case passphraseNeeded(encrypting: Bool)
    /// No image in the library fits the unit.
    case noImageForModel(model: String?, library: String)
}

extension ImageError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .codec(operation, code):
            return "the compressor could not \(operation) (code \(code))"
        case .corruptBlock(let reason):
            return "a compressed block is damaged: \(reason); verify the image with 'imprint verify'"
        case let .corrupt(offset, file, reason):
            let place = file.map { " while reading \(quoted($0))" } ?? ""
            return "the image is damaged at byte \(offset)\(place): \(reason); restore from another copy of the image"
        case let .notAnImage(path, reason):
            return "\(quoted(path)) is not an imprint image: \(reason)"
        case let .wrongModel(imageModels, unitModel):
            let unit = unitModel.map(quoted) ?? "an unknown model (no DMI product name)"
            return "the image is for \(imageModels.map(quoted).joined(separator: ", ")), this unit is \(unit); "
                + "pick the image for this model, or pass '--force' to restore it anyway"
        case let .targetNotEmpty(path, entries):
            let shown = entries.prefix(5).map(quoted).joined(separator: ", ") + (entries.count > 5 ? ", ..." : "")
            return "the target \(quoted(path)) is not empty (\(entries.count) \(entries.count == 1 ? "entry" : "entries"): \(shown)); "
                + "pass '--force' to erase it and restore"
        case let .io(path, operation, code):
            let advice = code == ENOSPC || code == EDQUOT
                ? "; that file system is full: free room on it or use a larger disk, then try again" : ""
            return "could not \(operation) \(quoted(path)): \(String(cString: strerror(code)))\(advice)"
        case let .unsafePath(path, reason):
            return "refused the entry \(quoted(path)): \(reason); nothing was written outside the target"
        case let .invalid(value, reason):
            return "\(quoted(value)): \(reason)"
        case .wrongPassphrase:
            return "the passphrase does not open this image; nothing was written"
        case .passphraseNeeded(let encrypting):
            if encrypting {
                return "'--encrypt' needs a passphrase: give it with '--passphrase-file FILE' (a file only you can read), "
                    + "or run on a terminal to be asked for it twice; nothing was written"
            }
            return "the image is encrypted; give its passphrase with '--passphrase-file FILE' (or on a terminal when asked)"
        case let .noImageForModel(model, library):
            return "no image in the library \(quoted(library)) is for \(model.map(quoted) ?? "this unit (its model is unknown)"); "
                + "add one with 'imprint library add', or name the image"
        }
    }
}

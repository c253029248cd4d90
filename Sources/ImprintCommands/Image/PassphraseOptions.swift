import ArgumentParser
import Foundation
import Glibc
import ImprintImage

/// `--passphrase-file`: the passphrase of an encrypted image, else asked on the terminal.
struct PassphraseOptions: ParsableArguments {
    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp(
        "Read the passphrase of an encrypted image from the first line of this file (default: ask on the terminal).",
        valueName: "file"))
    var passphraseFile: String?

    /// The passphrase, read only when asked for (an image that is not encrypted needs none).
    func provider(confirming: Bool = false) -> () throws -> String {
        { try read(confirming: confirming) }
    }

    func read(confirming: Bool) throws -> String {
        if let passphraseFile {
            guard let data = FileManager.default.contents(atPath: passphraseFile) else {
                throw ImageError.io(path: passphraseFile, operation: "read the passphrase from", errno: ENOENT)
            }
            let text = String(decoding: data, as: UTF8.self)
            let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !line.isEmpty else { throw ImageError.invalid(value: passphraseFile, reason: "the passphrase file's first line is empty") }
            return line
        }
        guard isatty(STDIN_FILENO) == 1, let first = getpass("passphrase: ").map({ String(cString: $0) }) else {
            throw ImageError.passphraseNeeded(encrypting: confirming)
        }
        guard !first.isEmpty else { throw ImageError.invalid(value: "passphrase", reason: "it is empty") }
        if confirming {
            guard let second = getpass("passphrase again: ").map({ String(cString: $0) }), second == first else {
                throw ImageError.invalid(value: "passphrase", reason: "the two entries differ")
            }
        }
        return first
    }
}

import ArgumentParser
import Foundation
import ImprintCore
import ImprintInventory
import ImprintWire

/// `imprint-server init`: makes the inventory if needed and the admin token.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the inventory (if missing) and a new admin token, written mode 0600 to a file.",
        discussion: """
            The token is printed nowhere: it is in the file only, and the inventory keeps its SHA-256. Running init \
            again with --rotate makes a new token; the old one stops working at once.
            """)

    @OptionGroup var inventoryOption: InventoryOption

    @Option(name: .customLong("admin-token-file"), help: ArgumentHelp("Where to write the admin token.", valueName: "path"))
    var tokenFile: String

    @Flag(help: "Replace an existing admin token.")
    var rotate = false

    func run() throws {
        let inventory: Inventory
        do {
            inventory = try Inventory.create(path: inventoryOption.inventory)
        } catch {
            throw ServerCommandError(status: 1, message: "\(error)")
        }
        if try inventory.adminKeyDigest() != nil && !rotate {
            throw ServerCommandError(
                status: 65,
                message: "the inventory \(inventoryOption.inventory) already has an admin token; add '--rotate' to replace it")
        }
        let token = RequestSignature.randomToken()
        try writeSecret(token + "\n", to: tokenFile)
        try inventory.setAdminKeyDigest(RequestSignature.tokenDigest(token), now: Date())
        print("admin token written to \(tokenFile) (mode 0600)")
    }
}

/// Writes a secret file mode 0600 through a temporary file and a rename, so no reader sees half a token.
func writeSecret(_ text: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
        throw ServerCommandError(status: 1, message: "cannot write \(path): \(String(cString: strerror(errno)))")
    }
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
    let synced = fsync(descriptor) == 0
    close(descriptor)
    guard written == bytes.count, synced, rename(temporary.path, path) == 0 else {
        unlink(temporary.path)
        throw ServerCommandError(status: 1, message: "cannot write \(path): \(String(cString: strerror(errno)))")
    }
}

/// A failure with the exit code it ends the command with.
struct ServerCommandError: Error, CustomStringConvertible {
    var status: Int32
    var message: String
    var description: String { message }
}

import ArgumentParser
import Foundation
import ImprintCore
import ImprintInventory
import ImprintServer
import Logging

/// `imprint-server serve`: runs the server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the unit API, the admin API, the image library and the fleet page.",
        discussion: """
            Listens on plain HTTP; put nginx in front for TLS (README has a tested configuration). Prints one line, \
            'listening on http://HOST:PORT', once it accepts connections. Stops on SIGTERM or SIGINT.
            """)

    @OptionGroup var inventoryOption: InventoryOption

    @Option(help: ArgumentHelp("The folder of images to serve.", valueName: "folder"))
    var library: String

    @Option(help: ArgumentHelp("Address and port to listen on (port 0 picks a free one).", valueName: "host:port"))
    var listen: String = "127.0.0.1:8080"

    @Option(name: .customLong("enrolments-per-minute"), help: "How many unknown units one address may enrol per minute.")
    var enrolmentsPerMinute: Int = 300

    @Flag(name: .customLong("trust-proxy"), help: "Take the client's address from X-Real-IP on connections from loopback (nginx in front for TLS).")
    var trustProxy = false

    func validate() throws {
        guard Self.split(listen) != nil else {
            throw ValidationError("'--listen' \(listen) is not HOST:PORT (127.0.0.1:8080, [::1]:8080, 0.0.0.0:80)")
        }
        guard (1...100_000).contains(enrolmentsPerMinute) else {
            throw ValidationError("'--enrolments-per-minute' \(enrolmentsPerMinute) is not between 1 and 100000")
        }
    }

    func run() async throws {
        let inventory: Inventory
        do {
            inventory = try Inventory(path: inventoryOption.inventory)
        } catch {
            throw ServerCommandError(status: 66, message: "\(error)")
        }
        guard try inventory.adminKeyDigest() != nil else {
            throw ServerCommandError(
                status: 65,
                message: "the inventory \(inventoryOption.inventory) has no admin token; make one with 'imprint-server init --admin-token-file FILE'")
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: library, isDirectory: &isFolder), isFolder.boolValue else {
            throw ServerCommandError(status: 66, message: "the library \(library) is not a folder; make it or name another with '--library'")
        }
        let (host, port) = Self.split(listen)!
        let deployment = Deployment(
            store: inventory, images: ImageShelf(folder: library), enrolmentsPerMinute: enrolmentsPerMinute,
            trustsProxy: trustProxy)
        var logger = Logger(label: "imprint-server")
        logger.logLevel = .info
        try await ServerApp.run(
            ServerSettings(host: host, port: port, inventory: inventoryOption.inventory, library: library),
            deployment: deployment, logger: logger
        ) { bound in
            let line = "listening on http://\(host.contains(":") ? "[\(host)]" : host):\(bound)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }

    /// HOST:PORT, with IPv6 hosts in brackets.
    static func split(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        return (host, port)
    }
}

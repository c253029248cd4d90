import ArgumentParser
import Foundation
import ImprintAgent
import ImprintCore
import ImprintDisk
import ImprintImage
import ImprintRemote
import ImprintWire

extension RestoreCommand {
    /// The image argument when it is an image's URL on a server.
    var imageURL: String? {
        guard let image, image.hasPrefix("http://") || image.hasPrefix("https://") else { return nil }
        return image
    }

    func validateServer() throws {
        if let server {
            do { _ = try ServerClient.root(of: server) } catch { throw ValidationError(flag: "--server", error) }
            if dryRun {
                throw ValidationError("'--dry-run' goes without '--server': asking the server arms the unit; try the image's file or URL with '--disk' and '--dry-run'")
            }
            if personalize || installAgent {
                throw ValidationError("'--server' personalizes the root itself with the server's record; leave out '--personalize' and '--install-agent'")
            }
            if adminTokenFile != nil { throw ValidationError("'--server' signs as the unit; '--admin-token-file' goes with an image's URL") }
        }
        if let imageURL {
            do { _ = try ServerClient.imageURL(imageURL) } catch { throw ValidationError("\(error)") }
            if adminTokenFile == nil {
                throw ValidationError("an image's URL needs '--admin-token-file FILE' (the server gives images to admins and armed units only)")
            }
        } else if adminTokenFile != nil && server == nil {
            throw ValidationError("'--admin-token-file' goes with an image's URL (http(s)://SERVER/v1/images/ID)")
        }
        if caFile != nil && server == nil && imageURL == nil {
            throw ValidationError("'--ca-file' goes with '--server URL' or an image's URL")
        }
    }

    /// `restore --server URL --root DIR` or `--disk DISK`: the server says what this unit does; the library does it.
    func restore(fromServer server: String, context: CommandContext) throws {
        let unitFacts = try facts.map { try FactsProbe.read(factsFile: $0) } ?? FactsProbe.read(root: TargetRoot("/"))
        let diskDestination = try disk.map { disk in
            try self.diskDestination(disk, image: server + ServerAPI.imagesPath, context: context)
        }
        defer { diskDestination?.close() }
        let destination: any RestoreDestination
        if let diskDestination {
            destination = diskDestination
        } else {
            let target = try TargetRoot(root ?? "")
            destination = try FolderDestination(target, force: force) { present in confirm(erasing: present, in: target.path, context: context) }
        }
        let authority = try caFile.map { path throws(RemoteError) in try ServerLink.readAuthority(path) }
        let client = try ServerClient(server: server, library: context.environment["IMPRINT_LIBCURL"], authority: caFile)
        let request = ServerRestoreRequest(
            facts: unitFacts, destination: destination, force: force,
            threads: threads.count, passphrase: passphrase.provider(), authority: authority,
            settings: RunSettings(live: destination.root.path == "/", source: "restore", time: context.clock(), agentVersion: imprintVersion),
            clock: context.clock)
        let bar = ProgressBar("restore", counting: .compressed, total: nil, context: context)
        defer { bar?.stop() }
        var begun = false
        let done = try ServerRestore.run(
            request, client: client, warn: { context.warn($0) },
            progress: { read, total in
                if !begun {
                    bar?.begin(total: total)
                    begun = true
                }
                bar?.update(read)
            },
            waiting: { context.errorOutput("imprint: another run holds the lock of \(destination.root.path); waiting\n") })
        if begun { bar?.finish() }
        if json {
            let folder = diskDestination == nil ? destination.root.path : nil
            try context.printJSON(ServerView(done, server: client.server, root: folder, disk: try diskDestination?.view()))
        } else {
            if case .restored(let image, let read) = done.work {
                let view = ImageView(manifest: read.manifest, summary: read.summary, imageBytes: image.bytes)
                let title = "restored image \(quoted(image.id)) from \(client.server) \(disk.map { "onto \($0)" } ?? "into \(destination.root.path)"); every block and file checked"
                context.print(([view.text(title: title)] + (diskDestination?.lines() ?? [])).joined(separator: "\n"))
            }
            try RunCommand.report(done.personalization, dryRun: false, json: false, context: context)
            context.print("  server      \(client.server) in \(ServerLink.addressPath), the unit's token in \(ServerLink.credentialPath)")
        }
        for problem in done.reportProblems { context.warn(problem) }
    }

    /// `restore http(s)://SERVER/v1/images/ID --root DIR --admin-token-file FILE`: one image by its URL, as an admin.
    func restore(url: String, facts unitFacts: HardwareFacts?, context: CommandContext) throws {
        let (server, id) = try ServerClient.imageURL(url)
        let token = try Self.readToken(adminTokenFile ?? "")
        // Read once here so that an unreadable or empty authority file is named before the server is asked anything;
        // libcurl reads it again by its path.
        if let caFile { _ = try ServerLink.readAuthority(caFile) }
        let client = try ServerClient(server: server, adminToken: token, library: context.environment["IMPRINT_LIBCURL"], authority: caFile)
        // The library's list names the image's size and ETag before anything is erased.
        guard let reference = try client.images().first(where: { $0.id == id }) else {
            throw CommandFailure(status: .notFound, message: "the server \(server) has no image \(quoted(id)); 'GET \(ServerAPI.imagesPath)' lists them")
        }
        let reading: ((ImageInput) throws -> ReadResult) throws -> ReadResult = { engine in try ImageStream.reading(image: id, etag: reference.etag, from: client, engine) }
        if let disk { return try restore(url, size: reference.bytes, onto: disk, facts: unitFacts, context: context, reading: reading) }
        try restoreFolder(url, size: reference.bytes, facts: unitFacts, context: context, reading: reading)
    }

    /// The first line of a token file.
    static func readToken(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure(status: .missingInput, message: "cannot read the admin token file \(quoted(path)); 'imprint-server init' made it on the server")
        }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first.map {
            $0.trimmingCharacters(in: .whitespaces)
        } ?? ""
        guard !line.isEmpty else {
            throw CommandFailure(status: .invalidInput, message: "the admin token file \(quoted(path)) is empty")
        }
        return line
    }
}

/// `imprint restore --server --json`.
struct ServerView: Encodable {
    var server: String
    /// The folder restored into, null with `--disk`.
    @Nullable var root: String?
    /// What the restore did to the disk, as `restore --disk --json` shows it; null with `--root`.
    @Nullable var disk: DiskWork?
    var unit: String
    /// `restored` or `personalized`.
    var work: String
    @Nullable var image: ImageReference?
    @Nullable var restored: ImageView?
    var run: RunView
    /// Reports that did not reach the server.
    var reportProblems: [String]

    init(_ done: ServerDeployment, server: String, root: String?, disk: DiskWork?) {
        self.server = server
        self.root = root
        self.disk = disk
        unit = done.personalization.unit.profile.hostname.value
        switch done.work {
        case .restored(let reference, let read):
            work = "restored"
            image = reference
            restored = ImageView(manifest: read.manifest, summary: read.summary, imageBytes: reference.bytes)
        case .personalized:
            work = "personalized"
        }
        run = RunView(done.personalization.outcome, unit: done.personalization.unit.profile)
        reportProblems = done.reportProblems
    }
}

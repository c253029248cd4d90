import Foundation
import Hummingbird
import ImprintCore
import ImprintWire
import NIOCore

/// The image library over HTTP: the list for admins, each image for admins and armed units.
struct ImageRoutes {
    let deployment: Deployment

    func add(to router: Router<ServerContext>) {
        router.get(RouterPath(ServerAPI.imagesPath)) { request, context in
            try await AdminRoutes(deployment: deployment).requireAdmin(request, context)
            return try json(try deployment.images.list())
        }
        router.get("/v1/images/:id") { request, context in
            let id = try context.parameters.require("id")
            try await requireReader(request, context)
            let entry = try deployment.images.entry(id: id)
            return try await ImageDownload(entry: entry).response(to: request, context: context)
        }
        router.head("/v1/images/:id") { request, context in
            let id = try context.parameters.require("id")
            try await requireReader(request, context)
            let entry = try deployment.images.entry(id: id)
            var response = try await ImageDownload(entry: entry).response(to: request, context: context)
            response.body = .init()
            return response
        }
    }

    /// An admin (bearer) or an armed unit (signed with its token, over an empty body).
    func requireReader(_ request: Request, _ context: ServerContext) async throws {
        if request.headers[.authorization] != nil {
            try await AdminRoutes(deployment: deployment).requireAdmin(request, context)
            return
        }
        guard let signature = request.unitSignature,
            try await deployment.isAuthentic(
                signature, method: request.method.rawValue, path: request.signedPath, body: Data(), address: request.clientAddress(context, trustsProxy: deployment.trustsProxy))
        else {
            throw ServerError(.unauthorized, "images are for admins and armed units: sign the request with the unit's token or send the admin token")
        }
    }
}

/// One image's answer: the whole file or one range of it, with its strong ETag.
struct ImageDownload {
    let entry: ImageShelf.Entry
    /// How much of the file each read takes. Hummingbird's default is 128 KiB; each chunk costs a hop to the thread
    /// pool and back, and with 30 downloads at once 1 MiB chunks moved 1.2-1.3x as much as 128 KiB ones here (same
    /// run, 2 cores, 4 MiB no better); one download was within the noise either way.
    static let chunkLength = 1 << 20

    func response(to request: Request, context: ServerContext) async throws -> Response {
        let size = Int(entry.reference.bytes)
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[.eTag] = entry.reference.etag
        headers[.acceptRanges] = "bytes"
        headers[.cacheControl] = "no-store"
        var range: ClosedRange<Int>? = nil
        if let header = request.headers[.range] {
            // If-Range with another tag: the client's bytes are of another image, so it gets the whole new one.
            let current = request.headers[.ifRange].map { $0 == entry.reference.etag } ?? true
            if current {
                guard let parsed = ByteRange.parse(header, size: size) else {
                    var problem = ProblemMiddleware.problem(ServerError(.rangeNotSatisfiable, "range \(quoted(header)) is not within the image's \(size) bytes"))
                    problem.headers[.contentRange] = "bytes */\(size)"
                    return problem
                }
                range = parsed
            }
        }
        let file = FileIO()
        if let range {
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
            headers[.contentLength] = String(range.count)
            let body = try await file.loadFile(path: entry.path, range: range, context: context, chunkLength: Self.chunkLength)
            return Response(status: .partialContent, headers: headers, body: body.paced(by: context.eventLoop))
        }
        headers[.contentLength] = String(size)
        let body = try await file.loadFile(path: entry.path, context: context, chunkLength: Self.chunkLength)
        return Response(status: .ok, headers: headers, body: body.paced(by: context.eventLoop))
    }
}

extension ResponseBody {
    /// The same body, each chunk written only once the connection's event loop has taken the one before.
    ///
    /// A chunk written from outside the event loop waits in the loop's task queue, where NIO does not count it
    /// toward the connection's writability, so nothing holds the file's reader back. With the loop busy (30
    /// downloads on 2 cores) chunks piled up there: the server grew to 6.7 GB for 30 downloads of a 1.6 GB image.
    /// Waiting for the loop to run an empty task before each chunk keeps at most one chunk in that queue; the
    /// writer's own wait for a writable connection bounds the rest.
    func paced(by eventLoop: any EventLoop) -> ResponseBody {
        let body = self
        return ResponseBody(contentLength: contentLength) { writer in
            try await body.write(writer.map { chunk in
                try await eventLoop.submit {}.get()
                return chunk
            })
        }
    }
}

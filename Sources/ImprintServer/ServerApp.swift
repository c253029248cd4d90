import Foundation
import Hummingbird
import ImprintCore
import ImprintTemplates
import ImprintWire
import Logging
import NIOCore

/// The request context: Hummingbird's, plus the address the connection came from (never an address a message
/// claims, which is how Clonezilla's `ocsmgrd` was fooled).
public struct ServerContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The event loop of the request's connection, which writes the response.
    let eventLoop: any EventLoop

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        eventLoop = source.channel.eventLoop
    }

    /// The address of the connection's other end.
    var peer: String { remoteAddress?.ipAddress ?? "unknown" }
}

extension Request {
    /// The client's address, as the audit log and the rate limits name it: the connection's, or, from a trusted proxy
    /// on loopback, the X-Real-IP it set (nginx replaces whatever the client sent there).
    func clientAddress(_ context: ServerContext, trustsProxy: Bool) -> String {
        let peer = context.peer
        guard trustsProxy, peer == "127.0.0.1" || peer == "::1", let real = headers[.init("X-Real-IP")!],
            !real.isEmpty, real.count <= 45, real.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" })
        else { return peer }
        return real
    }
}

/// Where the server listens and what it serves.
public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    public var inventory: String
    public var library: String

    public init(host: String, port: Int, inventory: String, library: String) {
        self.host = host
        self.port = port
        self.inventory = inventory
        self.library = library
    }
}

/// The HTTP front of the server: the unit API, the admin API, the image library and the fleet page.
public enum ServerApp {
    /// Builds the router over a deployment.
    public static func router(_ deployment: Deployment) -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        router.add(middleware: ProblemMiddleware())
        UnitRoutes(deployment: deployment).add(to: router)
        AdminRoutes(deployment: deployment).add(to: router)
        ImageRoutes(deployment: deployment).add(to: router)
        PageRoutes(deployment: deployment, sessions: PageSessions(), pages: Result { try PageTemplates() }).add(to: router)
        return router
    }

    /// Runs the server until it is stopped (SIGTERM or SIGINT).
    /// - Parameters:
    ///   - onListening: called with the port once the server accepts connections (port 0 picks a free one).
    public static func run(
        _ settings: ServerSettings, deployment: Deployment, logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws {
        let app = Application(
            router: router(deployment),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "imprint-server"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? settings.port) },
            logger: logger)
        try await app.runService()
    }
}

/// Turns refusals into JSON answers with their status; an unexpected error becomes a 500 whose details stay in the log.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = ServerContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServerError {
            if error.status == .internalError { context.logger.error("\(request.uri.path): \(error.message)") }
            return Self.problem(error)
        } catch let error as HTTPError {
            return Self.problem(ServerError(
                ServerError.Status(rawValue: Int(error.status.code)) ?? .badRequest,
                error.body ?? error.status.reasonPhrase))
        } catch {
            context.logger.error("\(request.uri.path): \(error)")
            return Self.problem(ServerError(.internalError, "the server failed; its log says why"))
        }
    }

    static func problem(_ error: ServerError) -> Response {
        let body = (try? JSONEncoder.server.encode(ServerProblem(error: error.message))) ?? Data()
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(
            status: HTTPResponse.Status(code: error.status.rawValue), headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension Request {
    /// The body, refused with 413 past the API's limit.
    mutating func limitedBody() async throws -> Data {
        do {
            let buffer = try await collectBody(upTo: ServerAPI.maximumBodyBytes)
            return Data(buffer: buffer)
        } catch {
            throw ServerError(.contentTooLarge, "the body is larger than \(ServerAPI.maximumBodyBytes) bytes")
        }
    }

    /// The unit's signature headers, when all three are there.
    var unitSignature: RequestSignature? {
        guard let unit = headers[.init(RequestSignature.unitHeader)!],
            let nonce = headers[.init(RequestSignature.nonceHeader)!],
            let signature = headers[.init(RequestSignature.signatureHeader)!]
        else { return nil }
        return RequestSignature(unit: unit, nonce: nonce, signature: signature)
    }

    /// The path and query as the client sent them, which the signature covers.
    var signedPath: String { uri.description }
}

/// A JSON answer.
func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    headers[.cacheControl] = "no-store"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder.server.encode(value))))
}

/// Decodes a JSON body, refusing a malformed one with 400 and the decoder's reason.
func decode<T: Decodable>(_ type: T.Type, from body: Data) throws -> T {
    do {
        return try JSONDecoder.server.decode(type, from: body)
    } catch {
        throw ServerError(.badRequest, "the body is not a valid \(T.self): \(describe(decoding: error))")
    }
}

func describe(decoding error: any Error) -> String {
    switch error as? DecodingError {
    case .keyNotFound(let key, _): return "field \(quoted(key.stringValue)) is missing"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
        return "field \(quoted(context.codingPath.map(\.stringValue).joined(separator: "."))) has the wrong type"
    case .dataCorrupted(let context):
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        return path.isEmpty ? "it is not JSON" : "field \(quoted(path)): \(context.debugDescription)"
    default: return "\(error)"
    }
}

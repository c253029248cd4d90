import Foundation
import Hummingbird
import ImprintCore
import ImprintWire

/// The admin API, each call authenticated by the admin token as a bearer.
struct AdminRoutes {
    let deployment: Deployment

    func add(to router: Router<ServerContext>) {
        router.get(RouterPath(ServerAPI.windowsPath)) { request, context in
            try await requireAdmin(request, context)
            return try json(try await deployment.windows())
        }
        router.post(RouterPath(ServerAPI.windowsPath)) { request, context in
            var request = request
            let actor = try await requireAdmin(request, context)
            let window = try await deployment.openWindow(
                try decode(WindowRequest.self, from: try await request.limitedBody()), by: actor)
            return try json(window, status: .created)
        }
        router.delete("/v1/admin/windows/:group") { request, context in
            let actor = try await requireAdmin(request, context)
            let group = try context.parameters.require("group")
            guard try await deployment.closeWindow(group: group, by: actor) else {
                throw ServerError(.notFound, "no window is open for group \(quoted(group))")
            }
            return Response(status: .noContent)
        }
        router.post("/v1/admin/units/:unit/:action") { request, context in
            let actor = try await requireAdmin(request, context)
            let unit = try context.parameters.require("unit")
            let name = try context.parameters.require("action")
            guard let action = ServerAPI.UnitAction(rawValue: name) else {
                throw ServerError(
                    .notFound, "no unit action \(quoted(name)); use one of \(ServerAPI.UnitAction.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            try await deployment.act(action, unit: unit, by: actor)
            return Response(status: .noContent)
        }
        router.get(RouterPath(ServerAPI.fleetPath)) { request, context in
            try await requireAdmin(request, context)
            return try json(try await deployment.fleet(group: request.uri.queryParameters["group"].map(String.init)))
        }
        router.get(RouterPath(ServerAPI.auditPath)) { request, context in
            try await requireAdmin(request, context)
            let limit = request.uri.queryParameters["limit"].flatMap { Int($0) } ?? 200
            return try json(try await deployment.auditLog(limit: min(max(limit, 1), 10_000)))
        }
    }

    /// Checks the bearer token; returns who acts, for the audit log.
    @discardableResult
    func requireAdmin(_ request: Request, _ context: ServerContext) async throws -> String {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            try await deployment.isAdmin(token: String(header.dropFirst("Bearer ".count)), address: request.clientAddress(context, trustsProxy: deployment.trustsProxy))
        else {
            throw ServerError(.unauthorized, "this call needs the admin token: 'Authorization: Bearer TOKEN', the token in the file 'imprint-server init' made")
        }
        return "admin token from \(request.clientAddress(context, trustsProxy: deployment.trustsProxy))"
    }
}

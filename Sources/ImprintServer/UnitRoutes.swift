import Foundation
import Hummingbird
import ImprintWire

/// The unit API: nonces, identify, report.
struct UnitRoutes {
    let deployment: Deployment

    func add(to router: Router<ServerContext>) {
        router.post(RouterPath(ServerAPI.noncePath)) { _, _ in
            try json(NonceAnswer(nonce: await deployment.issueNonce()))
        }
        router.post(RouterPath(ServerAPI.identifyPath)) { request, context in
            var request = request
            let body = try await request.limitedBody()
            let identify = try decode(IdentifyRequest.self, from: body)
            let answer = try await deployment.identify(
                identify, signature: request.unitSignature, body: body, path: request.signedPath, address: request.clientAddress(context, trustsProxy: deployment.trustsProxy))
            return try json(answer)
        }
        router.post("/v1/units/:unit/reports") { request, context in
            var request = request
            let unit = try context.parameters.require("unit")
            let body = try await request.limitedBody()
            try await deployment.report(
                unit: unit, body: body, signature: request.unitSignature, path: request.signedPath, address: request.clientAddress(context, trustsProxy: deployment.trustsProxy))
            return Response(status: .noContent)
        }
    }
}

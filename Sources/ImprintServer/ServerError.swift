import Foundation

/// A refused request: the HTTP status and a message that names the bad value and what to do.
public struct ServerError: Error, Equatable, Sendable {
    public enum Status: Int, Sendable {
        case badRequest = 400, unauthorized = 401, forbidden = 403, notFound = 404, conflict = 409
        case contentTooLarge = 413, rangeNotSatisfiable = 416, unprocessable = 422, tooManyRequests = 429
        case internalError = 500
    }

    public var status: Status
    public var message: String

    public init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }
}

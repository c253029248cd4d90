import CCurl
import Foundation
import ImprintWire

/// What a download did.
public struct DownloadSummary: Equatable, Sendable {
    /// The bytes handed to the sink: the whole image.
    public var bytes: UInt64
    /// The image's strong ETag, which every resumed request asked for.
    public var etag: String
    /// How many times the download went on from where a broken connection left it.
    public var resumes: Int
}

extension ServerClient {
    /// Streams image `id` to `sink`, resuming a broken connection where it broke.
    ///
    /// Each request carries this client's credential (a unit signs every request over a fresh nonce; an admin sends
    /// the bearer token). When a connection breaks or stalls, the next request asks for `Range: bytes=N-` with
    /// `If-Range: ETAG`, N being the bytes already handed to the sink, so the sink sees every byte once and in
    /// order. A try that gets no byte further counts against `retries`, with a growing wait; one that did goes on
    /// at once.
    /// - Parameters:
    ///   - etag: the image's ETag as the server named it (the identify answer); nil takes the first answer's.
    ///   - sink: gets the body in order; what it throws stops the download and is thrown unchanged.
    ///   - progress: the bytes handed to the sink so far, and the image's size once known.
    /// - Throws: `RemoteError.imageChanged` when a resumed request gets the whole image (HTTP 200: the server holds
    ///   another image under that id now) or another ETag; `.downloadFailed` when every try in a row failed;
    ///   `.refused` for an error status the server will not change its mind about (401, 404, 416).
    @discardableResult
    public func download(
        image id: String, etag: String?, into sink: (UnsafeRawBufferPointer) throws -> Void,
        progress: ((_ received: UInt64, _ total: UInt64?) -> Void)? = nil
    ) throws -> DownloadSummary {
        let path = ServerAPI.imagePath(id: Self.pathComponent(id))
        var state = DownloadState(id: id, etag: etag)
        var failures = 0
        var resumes = 0
        var lastProblem = ""
        while true {
            let before = state.received
            do {
                if try attempt(path, state: &state, sink: sink, progress: progress) {
                    return DownloadSummary(bytes: state.received, etag: state.etag ?? "", resumes: resumes)
                }
                lastProblem = state.problem
            } catch let error as RemoteError {
                switch error {
                case .unreachable(_, let reason):
                    // The nonce request found no server: try again like a broken download.
                    lastProblem = reason
                default:
                    throw error
                }
            }
            if state.received > before {
                failures = 0
                resumes += 1
                continue
            }
            failures += 1
            guard failures < retries.attempts else {
                throw RemoteError.downloadFailed(url: server + path, attempts: failures, received: state.received, last: lastProblem)
            }
            Thread.sleep(forTimeInterval: retries.delay(after: failures))
            if state.received > 0 { resumes += 1 }
        }
    }

    /// Where a download stands between its tries.
    private struct DownloadState {
        let id: String
        var etag: String?
        var received: UInt64 = 0
        var total: UInt64?
        /// Why the last try ended early, for the error after the last one.
        var problem = ""
    }

    /// One request: the whole image, or the rest of it. True when the image is complete.
    private func attempt(
        _ path: String, state: inout DownloadState, sink: (UnsafeRawBufferPointer) throws -> Void,
        progress: ((UInt64, UInt64?) -> Void)?
    ) throws -> Bool {
        var request = try prepared("GET", path, body: Data(), signed: credential != nil)
        let resuming = state.received > 0
        if resuming, let etag = state.etag {
            request.headers += [(name: "Range", value: "bytes=\(state.received)-"), (name: "If-Range", value: etag)]
        }
        var errorBody = Data()
        var errorStatus: Int?
        let start = state
        var current = state
        let outcome = withoutActuallyEscaping(sink) { sink in
            HTTPExchange(curl: curl, timeouts: timeouts, authority: authority).perform(
                request, isDownload: true,
                onHead: { head in
                    guard (200..<300).contains(head.status) else {
                        errorStatus = head.status
                        return
                    }
                    try Self.check(head, against: start, url: request.url, into: &current)
                },
                onBody: { piece in
                    if errorStatus != nil {
                        if errorBody.count < 64 << 10 { errorBody.append(contentsOf: piece) }
                        return
                    }
                    try sink(piece)
                    current.received += UInt64(piece.count)
                    progress?(current.received, current.total)
                })
        }
        state = current
        if let error = outcome.callbackError { throw error }
        if outcome.untrusted { throw RemoteError.untrusted(url: request.url, reason: outcome.message, authority: authority) }
        if let status = errorStatus {
            let message = Self.problem(in: errorBody, status: status)
            // The server or a proxy in front of it is busy or restarting: worth another try.
            guard [500, 502, 503, 504].contains(status) else { throw RemoteError.refused(url: request.url, status: status, message: message) }
            state.problem = "HTTP \(status): \(message)"
            return false
        }
        if outcome.code == CURLE_OK, let total = state.total, state.received == total { return true }
        state.problem = outcome.code == CURLE_OK ? "the answer ended after \(state.received) bytes" : outcome.message
        return false
    }

    /// Checks an answer's head against what the download asked for, and learns the image's size and ETag.
    private static func check(_ head: HTTPHead, against start: DownloadState, url: String, into state: inout DownloadState) throws {
        let tag = head.header("ETag")
        if head.status == 206 {
            guard let range = head.header("Content-Range").flatMap(contentRange) else {
                throw RemoteError.unexpectedAnswer(url: url, reason: "a 206 answer without a valid Content-Range")
            }
            guard range.first == start.received else {
                throw RemoteError.unexpectedAnswer(url: url, reason: "asked for the bytes from \(start.received), got them from \(range.first)")
            }
            if let expected = start.etag, tag != expected {
                throw RemoteError.imageChanged(id: start.id, reason: "its ETag is \(tag ?? "gone"), not \(expected)")
            }
            if let total = start.total, total != range.size {
                throw RemoteError.imageChanged(id: start.id, reason: "it is \(range.size) bytes now, not \(total)")
            }
            state.total = range.size
            return
        }
        guard start.received == 0 else {
            throw RemoteError.imageChanged(
                id: start.id, reason: "asked for the rest from byte \(start.received), the server sent a whole image (HTTP \(head.status))")
        }
        guard let tag, !tag.hasPrefix("W/") else {
            throw RemoteError.unexpectedAnswer(url: url, reason: "the image has no strong ETag, so a broken download could not resume")
        }
        if let expected = start.etag, tag != expected {
            throw RemoteError.imageChanged(id: start.id, reason: "its ETag is \(tag), not \(expected) as the server named it")
        }
        guard let length = head.header("Content-Length").flatMap({ UInt64($0) }) else {
            throw RemoteError.unexpectedAnswer(url: url, reason: "the image's answer has no Content-Length")
        }
        state.etag = tag
        state.total = length
    }

    /// `bytes FIRST-LAST/SIZE`.
    static func contentRange(_ header: String) -> (first: UInt64, last: UInt64, size: UInt64)? {
        guard header.hasPrefix("bytes ") else { return nil }
        let spec = header.dropFirst("bytes ".count)
        let halves = spec.split(separator: "/")
        guard halves.count == 2, let size = UInt64(halves[1]) else { return nil }
        let ends = halves[0].split(separator: "-")
        guard ends.count == 2, let first = UInt64(ends[0]), let last = UInt64(ends[1]), first <= last, last < size else { return nil }
        return (first, last, size)
    }
}

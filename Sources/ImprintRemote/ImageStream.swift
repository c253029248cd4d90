import Foundation
import Glibc
import ImprintImage

/// An image read from the server as the restore engine reads a pipe: a thread downloads it (resuming broken
/// connections) into one end of a socket pair, and the engine reads the other end, checking every block and file
/// as it does from standard input.
public enum ImageStream {
    /// Runs `body` with an input that yields image `id` as the server sends it.
    ///
    /// When `body` fails because the download did (a truncated stream is what the engine sees), the download's
    /// error is thrown, which says why; when `body` stops reading for its own reason (the wrong model, a damaged
    /// block), its error is thrown and the download stops.
    public static func reading<T>(
        image id: String, etag: String?, from client: ServerClient, _ body: (ImageInput) throws -> T
    ) throws -> T {
        var ends: [Int32] = [-1, -1]
        // A socket, not a pipe: a write to it after the reader is gone fails with EPIPE under MSG_NOSIGNAL, where a
        // pipe would raise SIGPIPE and end the process.
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw ImageError.io(path: "socketpair", operation: "make a stream for the image", errno: errno)
        }
        let (reading, writing) = (ends[0], ends[1])
        let download = DownloadThread(client: client, image: id, etag: etag, descriptor: writing)
        download.start()
        let input = ImageInput(streaming: reading, name: "\(client.server) image \(id)")
        let result: Result<T, any Error>
        do {
            result = .success(try body(input))
        } catch {
            result = .failure(error)
        }
        // The download ends at its next write, if it has not ended already.
        shutdown(reading, Int32(SHUT_RDWR))
        close(reading)
        let downloaded = download.wait()
        switch (result, downloaded) {
        case (.failure, .failure(let error)) where !(error is ReaderGone):
            throw error
        default:
            return try result.get()
        }
    }

    /// Thrown by the download's sink when the engine closed its end.
    struct ReaderGone: Error {}

    private final class DownloadThread: @unchecked Sendable {
        // @unchecked: `outcome` is written by the thread before it signals `done`, and read only after `wait`.
        let client: ServerClient
        let image: String
        let etag: String?
        let descriptor: Int32
        private let done = DispatchSemaphore(value: 0)
        private var outcome: Result<DownloadSummary, any Error> = .failure(ReaderGone())

        init(client: ServerClient, image: String, etag: String?, descriptor: Int32) {
            self.client = client
            self.image = image
            self.etag = etag
            self.descriptor = descriptor
        }

        func start() {
            let thread = Thread { [self] in
                outcome = Result { try client.download(image: image, etag: etag, into: send) }
                // The engine reads the end of the stream as the end of the image.
                close(descriptor)
                done.signal()
            }
            thread.name = "imprint-download"
            thread.start()
        }

        func wait() -> Result<DownloadSummary, any Error> {
            done.wait()
            return outcome
        }

        private func send(_ bytes: UnsafeRawBufferPointer) throws {
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count {
                let count = Glibc.send(descriptor, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                if count < 0 {
                    if errno == EINTR { continue }
                    if errno == EPIPE || errno == ECONNRESET { throw ReaderGone() }
                    throw ImageError.io(path: "the image stream", operation: "write to", errno: errno)
                }
                offset += count
            }
        }
    }
}

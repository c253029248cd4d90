import Foundation
import ImprintCore

/// Errors of the deployment server's client: loading libcurl, reaching the server, its refusals, a download that
/// cannot resume, and what the server tells a unit not to do.
public enum RemoteError: Error, Sendable {
    /// libcurl (or one of its functions) cannot be loaded.
    case libraryMissing(library: String, reason: String)
    /// The server's address is not an http or https URL of the server's root.
    case invalidURL(String, reason: String)
    /// The request did not get an answer: the connection failed, timed out or broke off.
    case unreachable(url: String, reason: String)
    /// The https server's certificate is not signed by an authority the client trusts (`authority`, else the
    /// system's store), or that file cannot be read.
    case untrusted(url: String, reason: String, authority: String?)
    /// The server answered with an error status and its message.
    case refused(url: String, status: Int, message: String)
    /// The server's answer is not what the API says it sends.
    case unexpectedAnswer(url: String, reason: String)
    /// A resumed download got the whole image anew, or another image: the image was replaced on the server.
    case imageChanged(id: String, reason: String)
    /// Every attempt of a download failed; `last` is the last attempt's failure.
    case downloadFailed(url: String, attempts: Int, received: UInt64, last: String)
    /// The server gave this unit nothing to do now.
    case nothingToDo(reason: String)
    /// The server wants the admin to confirm first ("do you need the data on this computer?").
    case needsConfirmation(reason: String)
    /// The server said to personalize the unit as it is, where the restore lays a whole disk anew.
    case personalizeOnly(unit: String)
    /// A file the client reads or writes in the target root, or its credential, is unusable.
    case credential(path: String, reason: String)
}

extension RemoteError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .libraryMissing(library, reason):
            return "libcurl cannot be loaded (\(quoted(library)): \(reason)); install Debian's libcurl4 "
                + "('apt-get install libcurl4'), or name another libcurl in IMPRINT_LIBCURL (such as libcurl-gnutls.so.4)"
        case let .invalidURL(url, reason):
            return "\(quoted(url)) is not a server address: \(reason); give the server's root, such as 'https://imprint.example.org:8443'"
        case let .unreachable(url, reason):
            return "could not reach \(url): \(reason); check the address, the network and that imprint-server runs there"
        case let .untrusted(url, reason, authority):
            if let authority {
                return "the server at \(url) is not trusted: \(reason); is \(quoted(authority)) the certificate authority (PEM) that signed its certificate?"
            }
            return "the server at \(url) is not trusted: \(reason); give the site's certificate authority (PEM) with '--ca-file FILE', or add it to this system's store"
        case let .refused(url, status, message):
            return "the server refused \(url) (HTTP \(status)): \(message)"
        case let .unexpectedAnswer(url, reason):
            return "the server's answer to \(url) is not what the API says: \(reason); is that address an imprint-server of this version?"
        case let .imageChanged(id, reason):
            return "image \(quoted(id)) changed on the server during the download (\(reason)); nothing restored is usable: restore again"
        case let .downloadFailed(url, attempts, received, last):
            return "the download of \(url) failed \(attempts) times in a row after \(received) bytes (last: \(last)); "
                + "check the network and the server, then restore again"
        case .nothingToDo(let reason):
            return "the server gave this unit nothing to do: \(reason); nothing was written"
        case .needsConfirmation(let reason):
            return "the server asks first: \(reason); nothing was written"
        case .personalizeOnly(let unit):
            return "the server's window for unit \(unit) personalizes without restoring, and a disk is laid only from an image; "
                + "nothing was written: ask the admin for a window that restores, or personalize the unit's mounted root with '--root DIR'"
        case let .credential(path, reason):
            return "\(quoted(path)): \(reason)"
        }
    }
}

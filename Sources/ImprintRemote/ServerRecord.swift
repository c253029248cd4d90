import ImprintCore
import ImprintWire

/// A linked unit asking its server for its own record on the running system: the first-boot hooks take it (and the
/// secrets they need, a `realm join`'s one-time password) from the server rather than from the unit's disk, so they
/// get it only while a deployment window is open for the unit's group.
public enum ServerRecord {
    /// Asks `client`'s server who this unit is, signed with the token kept in `root` when there is one (a unit armed
    /// in this window hears its record again), else unsigned; a new token the answer holds is kept in `root`.
    /// - Returns: a directory holding the server's record, which reports the run it records to the server.
    /// - Throws: `RemoteError.nothingToDo` (no window open for the unit's group, or it only enrols) and
    ///   `.needsConfirmation` with the server's reason; `.unreachable` when the server cannot be reached.
    /// - Important: replaces the unit's credential in `root` when the server arms it anew.
    public static func ask(_ client: ServerClient, facts: HardwareFacts, root: TargetRoot) throws -> ServerDirectory {
        let kept = try ServerLink.credential(in: root)
        let answer = try (kept.map { client.signing(as: $0) } ?? client).identify(IdentifyRequest(facts: facts))
        let (unit, profile) = try record(in: answer, from: client.server)
        var credential = kept
        if let token = answer.token {
            let given = UnitCredential(unit: unit, token: token)
            try ServerLink.write(server: client.server, credential: given, into: root)
            credential = given
        }
        guard let credential, credential.unit.lowercased() == unit.lowercased() else {
            throw RemoteError.unexpectedAnswer(url: client.server + ServerAPI.identifyPath, reason: "the server named unit \(unit) without a token for it")
        }
        return ServerDirectory(profile: profile, enrolledInto: answer.enrolledInto, client: client.signing(as: credential))
    }

    /// The unit's name and record in an answer that tells it to restore or personalize.
    /// - Throws: `RemoteError.nothingToDo` and `.needsConfirmation` with the server's reason, and
    ///   `.unexpectedAnswer` for an answer to act on that holds no record.
    static func record(in answer: IdentifyAnswer, from server: String) throws(RemoteError) -> (unit: String, profile: UnitProfile) {
        switch answer.action {
        case .nothing: throw .nothingToDo(reason: answer.reason ?? "the server gave no reason")
        case .needsConfirmation: throw .needsConfirmation(reason: answer.reason ?? "the admin must approve this unit")
        case .restore, .personalize: break
        }
        guard let unit = answer.unit, let profile = answer.profile else {
            throw .unexpectedAnswer(url: server + ServerAPI.identifyPath, reason: "a \(answer.action.rawValue) answer without the unit's record")
        }
        return (unit, profile)
    }
}

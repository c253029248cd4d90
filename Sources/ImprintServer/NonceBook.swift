import Foundation
import ImprintWire

/// The nonces the server gave out and not yet seen back: each is good for one request within its lifetime, so a
/// request captured on the LAN cannot be sent again.
struct NonceBook: Sendable {
    static let lifetime: TimeInterval = 300
    /// More outstanding nonces than this and the oldest are forgotten, so asking for nonces cannot fill the memory.
    static let capacity = 100_000

    private var issued: [String: Date] = [:]
    /// Every nonce given out, oldest first, from `head` on; a redeemed one stays until it reaches the head.
    private var order: [String] = []
    private var head = 0

    /// How many nonces are given out, unused and not yet forgotten.
    var outstanding: Int { issued.count }

    /// A new nonce; forgets the expired ones and, beyond `capacity`, the oldest. Each call costs the same however
    /// many are outstanding: a flood of requests for nonces cannot slow the server down.
    mutating func issue(now: Date) -> String {
        let nonce = RequestSignature.randomToken(bytes: 18)
        issued[nonce] = now.addingTimeInterval(Self.lifetime)
        order.append(nonce)
        while head < order.count {
            let oldest = order[head]
            guard let expiry = issued[oldest] else {
                head += 1  // redeemed already
                continue
            }
            guard expiry <= now || issued.count > Self.capacity else { break }
            issued[oldest] = nil
            head += 1
        }
        // The array drops its forgotten half at once, so that costs one move per nonce at most.
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
        return nonce
    }

    /// Takes the nonce if it was issued, unused and not expired; false otherwise (a replay among them).
    mutating func redeem(_ nonce: String, now: Date) -> Bool {
        guard let expiry = issued.removeValue(forKey: nonce) else { return false }
        return expiry > now
    }
}

/// Counts events per client address in a sliding minute, to slow down guessing and floods.
struct RateLimit: Sendable {
    let perMinute: Int
    private var events: [String: [Date]] = [:]

    init(perMinute: Int) { self.perMinute = perMinute }

    /// Counts one event for `address`; false when the address already had `perMinute` in the last minute.
    mutating func allow(_ address: String, now: Date) -> Bool {
        let recent = (events[address] ?? []).filter { now.timeIntervalSince($0) < 60 }
        guard recent.count < perMinute else {
            events[address] = recent
            return false
        }
        events[address] = recent + [now]
        if events.count > 50_000 { events = events.filter { !$0.value.isEmpty && now.timeIntervalSince($0.value.last!) < 60 } }
        return true
    }

    /// Whether `address` is at its limit, without counting.
    func isExhausted(_ address: String, now: Date) -> Bool {
        (events[address] ?? []).filter { now.timeIntervalSince($0) < 60 }.count >= perMinute
    }
}

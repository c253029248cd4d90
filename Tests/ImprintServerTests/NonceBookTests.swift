import Foundation
@testable import ImprintServer
import Testing

@Suite struct NonceBookTests {
    /// A nonce is good once, within its lifetime; an unknown one never.
    @Test func goodOnceWithinItsLifetime() {
        var book = NonceBook()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let nonce = book.issue(now: start)
        let late = book.issue(now: start)
        let answers = [
            book.redeem(nonce, now: start.addingTimeInterval(10)),
            book.redeem(nonce, now: start.addingTimeInterval(11)),
            book.redeem(late, now: start.addingTimeInterval(NonceBook.lifetime + 1)),
            book.redeem("never-issued", now: start),
        ]
        #expect(answers == [true, false, false, false])
    }

    /// Expired nonces are forgotten as new ones are given out, and no more than `capacity` are ever kept: the
    /// newest stay good, the oldest are refused.
    @Test func forgetsTheExpiredAndTheOldest() {
        var book = NonceBook()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for _ in 0..<1000 { _ = book.issue(now: start) }
        _ = book.issue(now: start.addingTimeInterval(NonceBook.lifetime + 1))
        #expect(book.outstanding == 1)

        let first = book.issue(now: start.addingTimeInterval(400))
        var last = first
        for _ in 0..<(NonceBook.capacity + 5000) { last = book.issue(now: start.addingTimeInterval(400)) }
        #expect(book.outstanding == NonceBook.capacity)
        let answers = [book.redeem(first, now: start.addingTimeInterval(401)), book.redeem(last, now: start.addingTimeInterval(401))]
        #expect(answers == [false, true])
    }
}

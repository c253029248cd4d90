import Foundation
@testable import ImprintServer
import ImprintWire
import Testing

/// A clock a test moves by hand.
final class HandClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_800_000_000)
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}

@Suite struct PageSessionsTests {
    /// A session lives while it is used, ends after an idle hour, and never outlives its twelve hours.
    @Test func sessionsExpire() async {
        let clock = HandClock()
        let sessions = PageSessions(clock: { clock.now })
        let idle = await sessions.start()
        let busy = await sessions.start()
        for _ in 0..<12 {
            clock.advance(59 * 60)
            #expect(await sessions.session(cookie: busy) != nil)
        }
        #expect(await sessions.session(cookie: idle) == nil)
        clock.advance(13 * 60)
        #expect(await sessions.session(cookie: busy) == nil)
    }

    /// Logging out ends the session; an unknown cookie names none; each session has its own CSRF token.
    @Test func sessionsEndAndStayApart() async throws {
        let sessions = PageSessions()
        let one = await sessions.start()
        let two = await sessions.start()
        let first = try #require(await sessions.session(cookie: one))
        let second = try #require(await sessions.session(cookie: two))
        #expect(first.csrf != second.csrf && one != two)
        await sessions.end(cookie: one)
        #expect(await sessions.session(cookie: one) == nil)
        #expect(await sessions.session(cookie: "made-up") == nil)
        #expect(await sessions.session(cookie: two) != nil)
    }

    /// A notice is shown once.
    @Test func noticesAreShownOnce() async {
        let sessions = PageSessions()
        let cookie = await sessions.start()
        await sessions.setNotice(.init(kind: .done, text: "Window open"), cookie: cookie)
        #expect(await sessions.takeNotice(cookie: cookie)?.text == "Window open")
        #expect(await sessions.takeNotice(cookie: cookie) == nil)
    }

    /// The login form's token is bound to its cookie: another cookie's token does not match.
    @Test func loginTokensAreBoundToTheirCookie() {
        let sessions = PageSessions()
        #expect(sessions.loginCSRF(forCookie: "a") == sessions.loginCSRF(forCookie: "a"))
        #expect(sessions.loginCSRF(forCookie: "a") != sessions.loginCSRF(forCookie: "b"))
        #expect(sessions.loginCSRF(forCookie: "a") != PageSessions().loginCSRF(forCookie: "a"))
    }

    /// A form body decodes `+` and percent escapes, and keeps every value of a repeated name in order.
    @Test func formsDecode() {
        let form = PageForm(Data("group=room+%3Cb%3E&actions=enrol&actions=restore&image=&csrf=a%2Bb".utf8))
        #expect(form["group"] == "room <b>")
        #expect(form.all("actions") == ["enrol", "restore"])
        #expect(form["image"] == "")
        #expect(form["csrf"] == "a+b")
        #expect(form["missing"] == nil)
    }

    /// The state is said in words, with the percentage while restoring; the page only offers the actions that apply.
    @Test func statesAndActionsAsThePageShowsThem() {
        let view = FleetPageView(now: Date(timeIntervalSince1970: 1_800_000_000), timeZone: TimeZone(identifier: "UTC")!)
        func row(_ state: UnitState, percent: Int? = nil, protected: Bool = false) -> FleetRow {
            FleetRow(
                unit: "LAB-01", group: "lab", model: nil, serial: nil, state: state, percent: percent, image: nil,
                lastReport: nil, lastResult: nil, error: "kept", protected: protected)
        }
        func actions(_ values: [String: Any]) -> [String] {
            (values["actions"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
        }
        #expect(view.unit(row(.restoring, percent: 42))["stateText"] as? String == "restoring 42 %")
        #expect(view.unit(row(.pending))["stateText"] as? String == "needs approval")
        #expect(actions(view.unit(row(.pending))) == ["approve", "protect"])
        #expect(actions(view.unit(row(.idle, protected: true))) == ["unprotect"])
        #expect(actions(view.unit(row(.failed))) == ["arm", "protect"])
        #expect(view.unit(row(.failed))["error"] as? String == "kept")
        #expect(view.unit(row(.personalized))["error"] as? String == "")
        #expect(FleetPageView.groupLink("a b&c") == "/fleet?group=a%20b%26c")
    }
}

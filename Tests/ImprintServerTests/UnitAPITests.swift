import Foundation
import ImprintTestSupport
import ImprintWire
import Testing

@Suite(.serialized) struct UnitAPITests {
    static let lab: [[String]] = [
        ["inventory", "group", "add", "lab", "--naming-pattern", "LAB-{##}"],
        ["inventory", "add", "LAB-SEAT1", "--group", "lab", "--serial", "SEAT1SERIAL", "--mac", "52:54:00:00:00:01"],
    ]

    func identify(_ server: RunningServer, serial: String, mac: String? = nil, headers: [String: String] = [:]) throws -> (HTTPAnswer, IdentifyAnswer?) {
        let facts = HardwareFactsJSON(serial: serial, mac: mac)
        let answer = try httpRequest("POST", server.url + ServerAPI.identifyPath, headers: headers, body: Data(facts.utf8))
        return (answer, answer.status == 200 ? try JSONDecoder.server.decode(IdentifyAnswer.self, from: answer.body) : nil)
    }

    /// Outside a window a known unit gets `nothing` and none of its record.
    @Test func outsideAWindowAUnitGetsNothing() throws {
        let server = try RunningServer(setup: Self.lab)
        let (http, answer) = try identify(server, serial: "SEAT1SERIAL")
        #expect(http.status == 200)
        #expect(answer?.action == .nothing)
        #expect(answer?.profile == nil && answer?.token == nil && answer?.unit == nil)
    }
}

/// A facts body with a serial and one card.
func HardwareFactsJSON(serial: String, mac: String? = nil) -> String {
    let interfaces = mac.map { #"[{"name":"enp1s0","mac":"\#($0)","removable":false}]"# } ?? "[]"
    return #"{"facts":{"serial":"\#(serial)","interfaces":\#(interfaces)},"diskHoldsData":false}"#
}

import Foundation
import ImprintTestSupport
import ImprintWire
import Testing

@Suite(.serialized) struct EnrolmentTests {
    /// 200 unknown machines enrolling at once, each from its own process, get 200 distinct names and one audit line
    /// each; each asking again, all at once, keeps its name.
    @Test func twoHundredConcurrentEnrolmentsGetDistinctNames() throws {
        let server = try RunningServer(setup: [["inventory", "group", "add", "hall", "--naming-pattern", "HALL-{###}"]])
        #expect(try server.admin(
            "POST", ServerAPI.windowsPath, json: #"{"group":"hall","actions":["enrol"],"minutes":30,"maximumNewUnits":200}"#).status == 201)

        let first = try askAllAtOnce(server, count: 200)
        #expect(first.count == 200)
        #expect(Set(first.values).count == 200)
        #expect(first.values.allSatisfy { $0.hasPrefix("HALL-") })

        let again = try askAllAtOnce(server, count: 200)
        #expect(again == first)

        let audit = try JSONDecoder.server.decode([AuditEntry].self, from: try server.admin("GET", ServerAPI.auditPath + "?limit=1000").body)
        let enrolled = audit.filter { $0.event == "enrolled" }
        #expect(enrolled.count == 200)
        #expect(Set(enrolled.compactMap(\.unit)) == Set(first.values))
        // The window is full now: one more machine is refused and no unit is added.
        let (full, _) = try identify(server, serial: "SPARE0001")
        #expect(full.status == 409)
    }

    /// Starts one curl per machine, all at once, and reads the name each got, by serial.
    func askAllAtOnce(_ server: RunningServer, count: Int) throws -> [String: String] {
        let script = #"""
            url="$1"; count="$2"; out="$3"
            for i in $(seq -w 1 "$count"); do
              curl -s -m 60 -X POST -H 'Content-Type: application/json' \
                -d "{\"facts\":{\"serial\":\"MACHINE$i\",\"interfaces\":[]},\"diskHoldsData\":false}" \
                -o "$out/$i.json" "$url/v1/identify" &
            done
            wait
            """#
        let folder = try TemporaryDirectory("imprint-enrol")
        let result = try runProcess("/bin/bash", ["-c", script, "enrol", server.url, "\(count)", folder.path], timeout: .seconds(300))
        #expect(result.status == 0)
        var names: [String: String] = [:]
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let data = try Data(contentsOf: URL(fileURLWithPath: folder.file(file)))
            let answer = try JSONDecoder.server.decode(IdentifyAnswer.self, from: data)
            names[file] = answer.unit
        }
        return names
    }
}

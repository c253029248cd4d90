import Foundation
import ImprintTestSupport
import Testing

@Suite struct GroupNetworkCommandTests {
    /// `group set --netplan-file` gives the room its document: `group show` prints it, `inventory show` lists each
    /// unit's rendered cards; a document that does not fit a unit exits 65 naming it and changes nothing; one holding
    /// a Wi-Fi password is shown as `********`, in text and JSON; an empty file clears it.
    @Test func groupDocumentFromTheCommandLine() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let room = try folder.write("room.yaml", """
            network:
              version: 2
              bridges:
                br0:
                  interfaces: [lan]
                  addresses: ["{{address}}/24"]
              ethernets:
                lan:
                  match: {macaddress: "{{mac}}"}
            """)
        let set = imprint(["inventory", "group", "set", "RM204", "--netplan-file", room], in: folder)
        #expect(set.status == 0, "\(set.err)")
        let shown = imprint(["inventory", "group", "show", "RM204"], in: folder).out
        #expect(shown.contains("network doc     \n    network:") && shown.contains(#"addresses: ["{{address}}/24"]"#), "\(shown)")
        let unit = imprint(["inventory", "show", "RM204-09", "--json"], in: folder).out
        #expect(unit.contains("10.20.4.109/24") && unit.contains("br0"), "\(unit)")

        let before = imprint(["inventory", "show", "RM204-09", "--json"], in: folder).out
        let wrong = try folder.write("wrong.yaml", try String(contentsOfFile: room, encoding: .utf8).replacingOccurrences(of: "{{mac}}", with: "{{serial}}"))
        let refused = imprint(["inventory", "group", "set", "RM204", "--netplan-file", wrong], in: folder)
        #expect(refused.status == 65, "\(refused.out) \(refused.err)")
        #expect(refused.err.contains("network document of group RM204") && refused.err.contains("RM204-01"), "\(refused.err)")
        #expect(imprint(["inventory", "show", "RM204-09", "--json"], in: folder).out == before)

        let wifi = try folder.write("wifi.yaml", """
            network:
              version: 2
              wifis:
                wlan:
                  match: {macaddress: "{{mac}}"}
                  dhcp4: true
                  access-points: {"school": {password: "room-s3cret-psk"}}
            """)
        #expect(imprint(["inventory", "group", "set", "RM204", "--netplan-file", wifi], in: folder).status == 0)
        for arguments in [["inventory", "group", "show", "RM204"], ["inventory", "group", "show", "RM204", "--json"]] {
            let output = imprint(arguments, in: folder).out
            #expect(!output.contains("room-s3cret-psk") && output.contains(arguments.count == 4 ? "set (it holds a secret)" : "\"networkDocument\" : \"********\""), "\(output)")
        }
        let empty = try folder.write("empty.yaml", "\n")
        #expect(imprint(["inventory", "group", "set", "RM204", "--netplan-file", empty], in: folder).status == 0)
        #expect(imprint(["inventory", "group", "show", "RM204", "--json"], in: folder).out.contains("\"networkDocument\" : null"))
    }
}

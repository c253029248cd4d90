import Foundation
@testable import ImprintCommands
import ImprintTestSupport
import Testing

@Suite struct PrintersCommandTests {
    /// `imprint run --only printers` on a copy of the master root with the demo inventory: the dry run shows the new
    /// printers.conf and what waits for cupsd and writes nothing; the run writes a file the real cupsd loads with the
    /// group's queues and default; rollback takes it away again.
    @Test func runOnlyPrinters() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let root = try folder.copyFixture("roots/rm204-master")
        let facts = fixturePath("demo/facts/RM204-07.json")
        let arguments = ["run", "--root", root, "--facts", facts, "--only", "printers"]

        let planned = imprint(arguments + ["--dry-run"], in: folder)
        #expect(planned.status == 0, "\(planned.err)")
        #expect(planned.out.contains("# printers: the unit's queues rm204-laser, library-color; default rm204-laser"))
        #expect(planned.out.contains("+++ b/etc/cups/printers.conf\n"))
        #expect(planned.out.contains("+<DefaultPrinter rm204-laser>\n+Info HP LaserJet M507 in room 204\n+Location Room 204 by the door\n+DeviceURI ipp://10.20.4.5/ipp/print\n"))
        #expect(planned.out.contains("note: rm204-laser, library-color: driverless (IPP Everywhere) queues need cupsd up"))
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/cups"))

        let applied = imprint(arguments, in: folder)
        #expect(applied.status == 0, "\(applied.err)")
        #expect(applied.out.contains("  printers    /etc/cups/printers.conf"))
        let cupsd = try ThrowawayCupsd(copying: root + "/etc/cups")
        try cupsd.start()
        #expect(try cupsd.queues() == ThrowawayCupsd.Queues(names: ["library-color", "rm204-laser"], defaultPrinter: "rm204-laser"), "\(cupsd.log())")
        cupsd.stop()

        let json = imprint(arguments + ["--dry-run", "--force", "--json"], in: folder)
        let object = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
        #expect((object?["commands"] as? [Any])?.isEmpty == true, "offline: no lpadmin")

        let undone = imprint(["rollback", "--root", root], in: folder)
        #expect(undone.status == 0, "\(undone.err)")
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/cups/printers.conf"))
    }

    /// The inventory refuses a printer location that could end its block in printers.conf, with exit status 65.
    @Test func hostileLocationRefusedAtEntry() throws {
        let folder = try TemporaryDirectory()
        demo(folder)
        let refused = imprint(["inventory", "printer", "set", "rm204-laser", "--location", "Hall </Printer>"], in: folder)
        #expect(refused.status == ExitStatus.invalidInput.rawValue)
        #expect(refused.err.contains("printer location") && refused.err.contains("'<' or '>'"), "\(refused.err)")
        let shown = imprint(["inventory", "printer", "list"], in: folder)
        #expect(shown.out.contains("Room 204 by the door"))
    }
}

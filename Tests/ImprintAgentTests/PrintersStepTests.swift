import Foundation
@testable import ImprintAgent
import ImprintCore
import ImprintTestSupport
import Testing

/// A local USB printer set up by hand on the master, as cupsd wrote it: the default, with its own PPD.
let localUSBQueue = """
    <DefaultPrinter usb-desk>
    PrinterId 2
    UUID urn:uuid:60300663-9914-33cd-54f8-8d6c34052ed4
    Info Desk USB \\#1
    Location Office
    MakeModel Imprint Office Laser
    DeviceURI usb://HP/LaserJet%20P1102?serial=ABC123
    State Idle
    StateTime 1795280967
    Type 8392780
    Accepting Yes
    Shared No
    JobSheets none none
    QuotaPeriod 0
    PageLimit 0
    KLimit 0
    OpPolicy default
    ErrorPolicy retry-job
    </DefaultPrinter>

    """

let masterPrintersConf = "# Printer configuration file for CUPS v2.4.2\n# Written by cupsd\nNextPrinterId 3\n" + localUSBQueue

/// What CUPS 2.4's `cupsd -t` prints, whatever the log level, for a printers.conf it accepts: queues without a
/// driver, and queues with a PPD, are both deprecated in favour of IPP Everywhere.
let rawQueueNotice = "Raw queues are deprecated and will stop working in a future version of CUPS. See https://github.com/OpenPrinting/cups/issues/103"
let driverNotice = "Printer drivers are deprecated and will stop working in a future version of CUPS. See https://github.com/OpenPrinting/cups/issues/103"

/// A master root with CUPS: the local USB queue above (and its PPD), and a PPD for the unit's driver under /usr/share.
func cupsRoot(_ folder: TemporaryDirectory, printersConf: String? = masterPrintersConf) throws -> TargetRoot {
    let root = try masterRoot(folder)
    let ppd = try Data(contentsOf: URL(fileURLWithPath: fixturePath("cups/office-laser.ppd")))
    if let printersConf {
        try root.write(PrintersStep.confPath, Data(printersConf.utf8), metadata: FileMetadata(mode: 0o600, owner: 0, group: 7))
        try root.write("/etc/cups/ppd/usb-desk.ppd", ppd, metadata: FileMetadata(mode: 0o640, owner: 0, group: 7))
    }
    try root.write("/usr/share/ppd/imprint/office-laser.ppd", ppd)
    return root
}

func queue(_ name: String, _ uri: String, _ driver: String, location: String? = nil, description: String? = nil) throws -> PrinterQueue {
    try PrinterQueue(
        name: PrinterName(name), deviceURI: DeviceURI(uri), driver: PrinterDriver(driver), location: location,
        description: description)
}

/// RM204-07 with three queues: driverless, PPD and raw, the driverless one the default.
func printersProfile(revision: Int = 1, without: Set<String> = []) throws -> UnitProfile {
    var profile = try demoProfile(revision: revision)
    profile.printers = try [
        queue("rm204-laser", "ipp://10.20.4.5/ipp/print", "everywhere", location: "Room 204 by the door",
              description: "HP LaserJet M507 #2"),
        queue("office-mono", "ipp://10.20.4.6/ipp/print", "ppd:/usr/share/ppd/imprint/office-laser.ppd", location: "Office"),
        queue("label", "socket://10.20.4.9:9100", "raw"),
    ].filter { !without.contains($0.name.value) }
    profile.defaultPrinter = try PrinterName("rm204-laser")
    return profile
}

func text(_ root: TargetRoot, _ path: String) throws -> String? {
    try root.readFile(path).map { String(decoding: $0, as: UTF8.self) }
}

@Suite struct PrintersConfTests {
    /// A printers.conf is split into lines and queue blocks and written back byte for byte.
    @Test func roundTrip() throws {
        let text = masterPrintersConf + "<Printer lab>\r\nDeviceURI ipp://a/b\r\n</Printer>\r\n# trailing comment"
        let conf = try PrintersConf(parsing: text, path: "printers.conf")
        #expect(conf.text == text)
        #expect(conf.queues.map(\.name) == ["usb-desk", "lab"])
        #expect(conf.queues.map(\.isDefault) == [true, false])
        #expect(conf.queues[0].asDefault(false).text == localUSBQueue
            .replacingOccurrences(of: "<DefaultPrinter usb-desk>", with: "<Printer usb-desk>")
            .replacingOccurrences(of: "</DefaultPrinter>", with: "</Printer>"))
    }

    /// A block left open, or one inside another, is refused naming the line, not rewritten.
    @Test func brokenFileRefused() throws {
        #expect(throws: AgentError.self) { try PrintersConf(parsing: "<Printer a>\nInfo a\n", path: "printers.conf") }
        do {
            _ = try PrintersConf(parsing: "<Printer a>\n<Printer b>\n</Printer>\n", path: "printers.conf")
            Issue.record("a nested block was accepted")
        } catch {
            #expect("\(error)".contains("line 2 opens a queue inside queue 'a'"))
        }
    }
}

@Suite struct PrintersStepTests {
    /// Offline, printers.conf gets the unit's queues and default; the local USB queue stays byte for byte (only
    /// its default tag moves), its PPD untouched; the PPD queue gets its PPD; the plan says what waits for cupsd.
    @Test func offlineKeepsLocalQueue() throws {
        let folder = try TemporaryDirectory()
        let root = try cupsRoot(folder)
        let localPPD = try root.readFile("/etc/cups/ppd/usb-desk.ppd")
        let outcome = try Agent.run(request(try printersProfile(), steps: [.printers]), root: root)
        #expect(outcome.result == .applied)
        #expect(outcome.plan.commands.isEmpty)
        let conf = try #require(try text(root, PrintersStep.confPath))
        let parsed = try PrintersConf(parsing: conf, path: "printers.conf")
        #expect(parsed.queues.map(\.name) == ["usb-desk", "rm204-laser", "office-mono", "label"])
        #expect(parsed.queues.filter(\.isDefault).map(\.name) == ["rm204-laser"])
        #expect(parsed.queues[0] == (try PrintersConf(parsing: localUSBQueue, path: "").queues[0]).asDefault(false))
        #expect(conf.hasPrefix("# Printer configuration file for CUPS v2.4.2\n# Written by cupsd\nNextPrinterId 3\n"))
        #expect(conf.contains("Info HP LaserJet M507 \\#2\nLocation Room 204 by the door\nDeviceURI ipp://10.20.4.5/ipp/print\n"))
        let metadata = try #require(try root.metadata(PrintersStep.confPath))
        #expect(metadata.mode == 0o600 && metadata.group == 7)
        #expect(try root.readFile("/etc/cups/ppd/office-mono.ppd") == (try root.readFile("/usr/share/ppd/imprint/office-laser.ppd")))
        #expect(try root.readFile("/etc/cups/ppd/usb-desk.ppd") == localPPD)
        #expect(!root.exists("/etc/cups/ppd/rm204-laser.ppd") && !root.exists("/etc/cups/ppd/label.ppd"))
        let state = try ImprintQueues.read(root)
        #expect(state.queues.map(\.name) == ["rm204-laser", "office-mono", "label"])
        #expect(outcome.plan.notes.contains { $0.hasPrefix("rm204-laser: driverless (IPP Everywhere)") && $0.contains("--only printers") })
        #expect(outcome.plan.notes.contains { $0.contains("usb-desk kept, but no longer the default") })
    }

    /// The real cupsd loads the generated printers.conf: `cupsd -t` prints nothing but CUPS's own deprecation
    /// notices, and lpstat lists exactly the unit's queues, the local USB queue and the default.
    @Test func cupsdLoadsGeneratedFile() throws {
        let folder = try TemporaryDirectory()
        let root = try cupsRoot(folder)
        _ = try Agent.run(request(try printersProfile(), steps: [.printers]), root: root)
        let cupsd = try ThrowawayCupsd(copying: try root.resolve("/etc/cups"))
        let errors = try cupsd.check().split(separator: "\n").map(String.init)
        #expect(errors.sorted() == [driverNotice, rawQueueNotice], "\(errors)")
        try cupsd.start()
        let queues = try cupsd.queues()
        #expect(queues.names == ["label", "office-mono", "rm204-laser", "usb-desk"], "\(cupsd.log())")
        #expect(queues.defaultPrinter == "rm204-laser")
        let options = try runProcess("/usr/bin/lpoptions", ["-h", cupsd.server, "-p", "rm204-laser"], environment: cupsd.environment)
        #expect(options.output.contains("printer-info='HP LaserJet M507 #2'"))
        #expect(options.output.contains("printer-location='Room 204 by the door'"))
        let mono = try runProcess("/usr/bin/lpoptions", ["-h", cupsd.server, "-p", "office-mono"], environment: cupsd.environment)
        #expect(mono.output.contains("printer-make-and-model='Imprint Office Laser'"))
    }

    /// With only PPD queues (the local one included) `cupsd -t` prints CUPS's notice about drivers and nothing else.
    @Test func cupsdCheckWithDriverQueues() throws {
        let folder = try TemporaryDirectory()
        let root = try cupsRoot(folder)
        var profile = try printersProfile(without: ["rm204-laser", "label"])
        profile.defaultPrinter = try PrinterName("office-mono")
        _ = try Agent.run(request(profile, steps: [.printers]), root: root)
        let cupsd = try ThrowawayCupsd(copying: try root.resolve("/etc/cups"))
        #expect(try cupsd.check() == driverNotice + "\n")
        try cupsd.start()
        #expect(try cupsd.queues() == ThrowawayCupsd.Queues(names: ["office-mono", "usb-desk"], defaultPrinter: "office-mono"))
    }

    /// A second run after a printer left the group drops only Imprint's queue (and its PPD); rolling the runs back
    /// puts back each earlier printers.conf byte for byte.
    @Test func secondRunDropsOnlyImprintQueue() throws {
        let folder = try TemporaryDirectory()
        let root = try cupsRoot(folder)
        let original = try root.readFile(PrintersStep.confPath)
        _ = try Agent.run(request(try printersProfile(), steps: [.printers]), root: root)
        let afterFirst = try root.readFile(PrintersStep.confPath)
        var second = request(try printersProfile(revision: 2, without: ["office-mono"]), steps: [.printers])
        second.time = second.time.addingTimeInterval(60)
        let outcome = try Agent.run(second, root: root)
        #expect(outcome.plan.notes.contains { $0.hasPrefix("removed queue office-mono:") })
        #expect(!root.exists("/etc/cups/ppd/office-mono.ppd"))
        #expect(root.exists("/etc/cups/ppd/usb-desk.ppd"))
        let cupsd = try ThrowawayCupsd(copying: try root.resolve("/etc/cups"))
        try cupsd.start()
        #expect(try cupsd.queues() == ThrowawayCupsd.Queues(names: ["label", "rm204-laser", "usb-desk"], defaultPrinter: "rm204-laser"))
        cupsd.stop()

        _ = try Agent.rollBack(nil, root: root)
        #expect(try root.readFile(PrintersStep.confPath) == afterFirst)
        #expect(root.exists("/etc/cups/ppd/office-mono.ppd"))
        _ = try Agent.rollBack(nil, root: root)
        #expect(try root.readFile(PrintersStep.confPath) == original)
        #expect(!root.exists("/etc/cups/ppd/office-mono.ppd"))
        #expect(!root.exists(ImprintQueues.path))
    }

    /// A unit that loses every printer gets the master's printers.conf back byte for byte: Imprint's queue goes,
    /// the local queue it never made stays, default and all.
    @Test func lostPrintersLeaveLocalQueue() throws {
        let folder = try TemporaryDirectory()
        let root = try cupsRoot(folder)
        var profile = try printersProfile(without: ["office-mono", "label"])
        profile.defaultPrinter = nil
        _ = try Agent.run(request(profile, steps: [.printers]), root: root)
        let conf = try #require(try text(root, PrintersStep.confPath))
        #expect(conf.contains("<DefaultPrinter usb-desk>"), "no default in the inventory: the local default stays")
        profile.printers = []
        var again = request(profile, steps: [.printers])
        again.time = again.time.addingTimeInterval(60)
        _ = try Agent.run(again, root: root)
        #expect(try text(root, PrintersStep.confPath) == masterPrintersConf)
    }

    /// An admin's template under /etc/imprint/templates in the image shapes the blocks and is named in the plan; one
    /// that does not render a single block for the queue is refused before anything is written.
    @Test func templateOverride() throws {
        let folder = try TemporaryDirectory()
        let root = try cupsRoot(folder)
        let builtIn = try String(contentsOfFile: packageRoot.appendingPathComponent("Templates/cups/cups-printer.conf").path, encoding: .utf8)
        try root.write("/etc/imprint/templates/cups-printer.conf", Data(builtIn.replacingOccurrences(of: "Shared No", with: "Shared Yes").utf8))
        let result = try PrintersStep.plan(try printersProfile(), root: root)
        let conf = try #require(result.changes.first { $0.path == PrintersStep.confPath })
        #expect(conf.reason.hasSuffix("; blocks from /etc/imprint/templates/cups-printer.conf"))
        let text = String(decoding: try #require(conf.after), as: UTF8.self)
        #expect(text.components(separatedBy: "Shared Yes").count == 4, "three queues rendered from the override")

        try root.write("/etc/imprint/templates/cups-printer.conf", Data("<Printer {{name}}>\nInfo x\n".utf8))
        do {
            _ = try PrintersStep.plan(try printersProfile(), root: root)
            Issue.record("a template that leaves the block open was accepted")
        } catch {
            #expect("\(error)".contains("/etc/imprint/templates/cups-printer.conf' ends inside queue 'rm204-laser'"), "\(error)")
        }
    }

    /// An image without printers and a unit without printers: nothing is written at all.
    @Test func noPrintersNoFiles() throws {
        let folder = try TemporaryDirectory()
        let root = try masterRoot(folder)
        let result = try PrintersStep.plan(try demoProfile(), root: root)
        #expect(result.changes.isEmpty && result.commands.isEmpty)
    }

    /// Hostile values (a newline or `</Printer>` in a name, location or description, a URI with a space) are
    /// refused with an error naming the value, before anything is written.
    @Test func hostileValuesRefused() throws {
        #expect(throws: CoreError.self) { try PrinterName("rm204\n</Printer>") }
        #expect(throws: CoreError.self) { try PrinterName("</Printer>") }
        #expect(throws: CoreError.self) { try DeviceURI("ipp://10.20.4.5/ipp/print now") }
        #expect(throws: CoreError.self) { try queue("a", "ipp://h/p", "raw", location: "Hall\n<Printer evil>") }
        #expect(throws: CoreError.self) { try queue("a", "ipp://h/p", "raw", description: "Hall </Printer>") }
        let folder = try TemporaryDirectory()
        let root = try cupsRoot(folder)
        // The run lock is taken before planning; nothing else may appear.
        let before = try snapshot(root.path, excluding: ["var/lib/imprint"])
        for (field, value) in [("location", "Hall </Printer>"), ("description", "x\n<Printer evil>"), ("description", "a\u{2028}b")] {
            var profile = try printersProfile()
            if field == "location" { profile.printers[0].location = value } else { profile.printers[0].description = value }
            do {
                _ = try Agent.run(request(profile, steps: [.printers]), root: root)
                Issue.record("\(field) \(value) was accepted")
            } catch {
                #expect("\(error)".contains("printer \(field)"), "\(error)")
            }
        }
        #expect(try snapshot(root.path, excluding: ["var/lib/imprint"]) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path + "/var/lib/imprint") == ["lock"])
    }

    /// A `ppd:` driver whose file is not in the root is a clear error naming the printer and the path; nothing is written.
    @Test func missingPPDRefused() throws {
        let folder = try TemporaryDirectory()
        let root = try cupsRoot(folder)
        // The run lock is taken before planning; nothing else may appear.
        let before = try snapshot(root.path, excluding: ["var/lib/imprint"])
        var profile = try printersProfile()
        profile.printers[1].driver = try PrinterDriver("/usr/share/ppd/missing.ppd")
        do {
            _ = try Agent.run(request(profile, steps: [.printers]), root: root)
            Issue.record("a missing PPD was accepted")
        } catch {
            #expect("\(error)".contains("printer 'office-mono' uses the PPD '/usr/share/ppd/missing.ppd', which is not in"))
        }
        #expect(try snapshot(root.path, excluding: ["var/lib/imprint"]) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path + "/var/lib/imprint") == ["lock"])
    }

    /// On a live system the plan is lpadmin commands (checked as argument vectors, not run): each queue with its
    /// driver, the default, and -x only for a queue Imprint made that cupsd still has.
    @Test func liveCommands() throws {
        let folder = try TemporaryDirectory()
        let root = try cupsRoot(folder)
        try root.write(ImprintQueues.path, try ImprintQueues(queues: [
            .init(try queue("old-lab", "ipp://10.20.4.7/ipp/print", "raw")),
            .init(try queue("gone", "ipp://10.20.4.8/ipp/print", "raw")),
        ]).encoded())
        let cups = CupsScheduler(server: "127.0.0.1:631", queues: [
            "old-lab": .init(uri: "ipp://10.20.4.7/ipp/print", hasPPD: false), "usb-desk": .init(uri: "usb://HP/LaserJet", hasPPD: true),
        ])
        let result = try PrintersStep.plan(try printersProfile(), root: root, cups: cups)
        let host = ["-h", "127.0.0.1:631"]
        #expect(result.commands.map(\.executable) == Array(repeating: "lpadmin", count: 5))
        #expect(result.commands.map(\.arguments) == [
            host + ["-p", "rm204-laser", "-v", "ipp://10.20.4.5/ipp/print", "-m", "everywhere", "-D", "HP LaserJet M507 #2",
                    "-L", "Room 204 by the door", "-o", "printer-is-shared=false", "-E"],
            host + ["-p", "office-mono", "-v", "ipp://10.20.4.6/ipp/print", "-P", root.path + "/usr/share/ppd/imprint/office-laser.ppd",
                    "-D", "office-mono", "-L", "Office", "-o", "printer-is-shared=false", "-E"],
            host + ["-p", "label", "-v", "socket://10.20.4.9:9100", "-m", "raw", "-D", "label", "-L", "",
                    "-o", "printer-is-shared=false", "-E"],
            host + ["-d", "rm204-laser"],
            host + ["-x", "old-lab"],
        ])
        #expect(result.changes.map(\.path) == [ImprintQueues.path], "cupsd owns printers.conf while it runs")
        #expect(result.commands[0].description.hasPrefix("lpadmin -h 127.0.0.1:631 -p rm204-laser -v ipp://10.20.4.5/ipp/print -m everywhere -D 'HP LaserJet M507 #2'"))
    }

    /// A live run really sets the queues on a running cupsd with lpadmin, next to a queue made by hand, and a second
    /// live run removes only the queue Imprint made that the unit lost.
    @Test func liveRunWithLpadmin() throws {
        let folder = try TemporaryDirectory()
        let root = try cupsRoot(folder, printersConf: nil)
        let cupsd = try ThrowawayCupsd()
        try cupsd.start()
        let byHand = try runProcess(
            "/usr/sbin/lpadmin", ["-h", cupsd.server, "-p", "desk-local", "-v", "ipp://10.20.4.99/ipp/print", "-m", "raw", "-E"],
            environment: cupsd.environment)
        #expect(byHand.status == 0, "\(byHand.error)")
        // This machine's CUPS has only the ipp backend; a closed loopback port stands for a printer that is off.
        var profile = try printersProfile()
        profile.printers[0].deviceURI = try DeviceURI("ipp://127.0.0.1:9/ipp/print")
        profile.printers[2].deviceURI = try DeviceURI("ipp://127.0.0.1:9/label")
        var live = request(profile, steps: [.printers])
        live.live = true
        live.cupsServer = cupsd.server
        let outcome = try Agent.run(live, root: root)
        #expect(outcome.plan.commands.count == 4)
        #expect(!root.exists(PrintersStep.confPath), "with cupsd running, printers.conf is left to cupsd")
        #expect(try cupsd.queues() == ThrowawayCupsd.Queues(
            names: ["desk-local", "label", "office-mono", "rm204-laser"], defaultPrinter: "rm204-laser"), "\(cupsd.log())")
        let mono = try runProcess("/usr/bin/lpoptions", ["-h", cupsd.server, "-p", "office-mono"], environment: cupsd.environment)
        #expect(mono.output.contains("printer-make-and-model='Imprint Office Laser'"))

        profile.printers.remove(at: 1)
        profile.revision = 2
        var again = request(profile, steps: [.printers])
        again.live = true
        again.cupsServer = cupsd.server
        again.time = again.time.addingTimeInterval(60)
        let second = try Agent.run(again, root: root)
        #expect(second.plan.commands.last?.arguments.suffix(2) == ["-x", "office-mono"])
        #expect(try cupsd.queues().names == ["desk-local", "label", "rm204-laser"])
    }

    /// What happens on a unit: the agent writes the driverless queues before cupsd runs; once it runs, a live run
    /// (imprint-printers.service) has the printer that answers give its queue a real IPP Everywhere PPD, asks again
    /// for the one that is off, leaves the local USB queue and the default alone; once every queue has its driver,
    /// or is gone, a run runs nothing.
    @Test func driverlessQueuesOnceCupsdRuns() throws {
        let folder = try TemporaryDirectory()
        let root = try cupsRoot(folder)
        let printer = try AnsweringPrinter()
        var profile = try demoProfile()
        profile.printers = try [
            queue("rm204-laser", printer.uri, "everywhere", location: "Room 204", description: "Laser by the door"),
            // A closed loopback port: a printer that is switched off.
            queue("library-color", "ipp://127.0.0.1:9/ipp/print", "everywhere"),
        ]
        profile.defaultPrinter = try PrinterName("rm204-laser")
        let offline = try Agent.run(request(profile, steps: [.printers]), root: root)
        #expect(offline.plan.notes.contains { $0.contains("imprint-printers.service") })
        #expect(!root.exists("/etc/cups/ppd/rm204-laser.ppd"))

        let cupsd = try ThrowawayCupsd(copying: try root.resolve("/etc/cups"))
        try cupsd.start()
        func liveRun(_ profile: UnitProfile, minutes: Double) throws -> RunOutcome {
            var live = request(profile, steps: [.printers])
            live.live = true
            live.cupsServer = cupsd.server
            live.time = live.time.addingTimeInterval(minutes * 60)
            return try Agent.run(live, root: root)
        }
        func hasPPD(_ name: String) throws -> Bool {
            try cupsd.lpstat(["-l", "-p", name]).outputText.contains("Interface:")
        }
        let first = try liveRun(profile, minutes: 1)
        #expect(first.plan.commands.map { Array($0.arguments.prefix(4)) } == [
            ["-h", cupsd.server, "-p", "rm204-laser"], ["-h", cupsd.server, "-p", "library-color"],
        ], "the default is already rm204-laser")
        #expect(first.plan.notes.contains { $0.hasPrefix("rm204-laser, library-color: driverless (IPP Everywhere)") })
        // cupsd asks the printer after lpadmin returns.
        for _ in 0..<100 where try !hasPPD("rm204-laser") { usleep(100_000) }
        #expect(try hasPPD("rm204-laser"), "\(cupsd.log())")
        #expect(try !hasPPD("library-color"))
        let options = try runProcess("/usr/bin/lpoptions", ["-h", cupsd.server, "-p", "rm204-laser"], environment: cupsd.environment)
        // CUPS names a PPD it made from the printer's answer "... - IPP Everywhere".
        #expect(options.output.contains(" - IPP Everywhere'"), "\(options.output)")
        #expect(try cupsd.queues() == ThrowawayCupsd.Queues(
            names: ["library-color", "rm204-laser", "usb-desk"], defaultPrinter: "rm204-laser"))

        let second = try liveRun(profile, minutes: 2)
        #expect(second.result == .applied)
        #expect(second.plan.commands.map { $0.arguments[3] } == ["library-color"], "only the printer that did not answer")

        profile.printers.removeLast()
        profile.revision = 2
        let third = try liveRun(profile, minutes: 3)
        #expect(third.plan.commands.map { Array($0.arguments.suffix(2)) } == [["-x", "library-color"]])
        let fourth = try liveRun(profile, minutes: 4)
        #expect(fourth.result == .nothingToDo)
        #expect(try cupsd.queues() == ThrowawayCupsd.Queues(names: ["rm204-laser", "usb-desk"], defaultPrinter: "rm204-laser"))
    }
}

import Foundation
import ImprintRemote
import ImprintTestSupport
import ImprintWire
import Testing

/// The systemd unit and the nginx configuration README tells the admin to install, checked by the real tools.
@Suite(.serialized) struct DeploymentFilesTests {
    static let unitFile = packageRoot.appendingPathComponent("Templates/deploy/imprint-server.service").path
    static let nginxFile = packageRoot.appendingPathComponent("Templates/deploy/nginx-imprint-server.conf").path

    /// `systemd-analyze verify` finds nothing wrong with the server's unit (its ExecStart pointed at the built binary).
    @Test func systemdUnitVerifies() throws {
        let folder = try TemporaryDirectory("imprint-unit")
        let text = try String(contentsOfFile: Self.unitFile, encoding: .utf8)
        #expect(text.contains("ExecStart=/usr/local/bin/imprint-server serve"))
        let copy = try folder.write(
            "imprint-server.service", text.replacingOccurrences(of: "/usr/local/bin/imprint-server", with: RunningServer.binary))
        let result = try runProcess("/usr/bin/systemd-analyze", ["verify", copy])
        #expect(result.status == 0)
        #expect(result.error.isEmpty, "\(result.error)")
    }

    /// The unit is sandboxed: `systemd-analyze security` rates its exposure at most 4.0, and it runs as its own user.
    @Test func systemdUnitIsSandboxed() throws {
        let result = try runProcess("/usr/bin/systemd-analyze", ["security", "--offline=true", Self.unitFile])
        let line = try #require(result.output.split(separator: "\n").first { $0.contains("Overall exposure level") })
        let score = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) })
        #expect(score <= 4.0, "\(line)")
        let text = try String(contentsOfFile: Self.unitFile, encoding: .utf8)
        #expect(text.contains("User=imprint-server") && !text.contains("User=root"))
    }

    /// The example nginx configuration, with only its certificate paths and ports changed, serves the API over TLS,
    /// passes image ranges and ETags through, and the server (with --trust-proxy) names the unit's own address.
    @Test func nginxExampleServesTheAPIOverTLS() throws {
        let folder = try TemporaryDirectory("imprint-nginx")
        let server = try RunningServer(
            setup: [["inventory", "group", "add", "lab", "--naming-pattern", "LAB-{##}"]], extraArguments: ["--trust-proxy"])
        let certificate = folder.file("server.crt")
        let key = folder.file("server.key")
        let made = try runProcess("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
        ])
        try #require(made.status == 0, "\(made.error)")

        let tlsPort = try freeLoopbackPort()
        var site = try String(contentsOfFile: Self.nginxFile, encoding: .utf8)
        for (from, to) in [
            ("server 127.0.0.1:8080;", "server 127.0.0.1:\(server.port);"),
            ("listen 443 ssl;", "listen 127.0.0.1:\(tlsPort) ssl;"),
            ("listen [::]:443 ssl;", ""),
            ("/etc/ssl/imprint/server.crt", certificate),
            ("/etc/ssl/imprint/server.key", key),
        ] {
            #expect(site.contains(from), "the example no longer has \(from)")
            site = site.replacingOccurrences(of: from, with: to)
        }
        let siteFile = try folder.write("site.conf", site)
        let main = """
            daemon off;
            master_process off;
            user root;
            pid \(folder.file("nginx.pid"));
            error_log \(folder.file("error.log")) warn;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(folder.path)/body;
                proxy_temp_path \(folder.path)/proxy;
                fastcgi_temp_path \(folder.path)/fastcgi;
                uwsgi_temp_path \(folder.path)/uwsgi;
                scgi_temp_path \(folder.path)/scgi;
                include \(siteFile);
            }
            """
        let mainFile = try folder.write("nginx.conf", main)
        let checked = try runProcess("/usr/sbin/nginx", ["-t", "-p", folder.path, "-c", mainFile])
        try #require(checked.status == 0, "\(checked.error)")
        let nginx = try spawnDaemon(["/usr/sbin/nginx", "-p", folder.path, "-c", mainFile])
        defer {
            kill(nginx, SIGTERM)
            var status: Int32 = 0
            waitpid(nginx, &status, 0)
        }
        for _ in 0..<100 where !canConnect(port: tlsPort) { usleep(50_000) }

        // A unit from 127.0.0.2 asks over TLS; the audit log names 127.0.0.2, not nginx's 127.0.0.1, even though
        // the client claims another address in its own X-Real-IP.
        #expect(try server.admin(
            "POST", ServerAPI.windowsPath, json: #"{"group":"lab","actions":["enrol"],"minutes":30,"maximumNewUnits":1}"#).status == 201)
        let asked = try runProcess("/usr/bin/curl", [
            "-sS", "--cacert", certificate, "--interface", "127.0.0.2", "-H", "X-Real-IP: 10.9.9.9",
            "-H", "Content-Type: application/json", "-d", HardwareFactsJSON(serial: "TLSUNIT01"),
            "https://127.0.0.1:\(tlsPort)\(ServerAPI.identifyPath)",
        ])
        #expect(asked.status == 0, "\(asked.error)")
        #expect(asked.output.contains("\"unit\":\"LAB-01\""))
        let audit = try JSONDecoder.server.decode([AuditEntry].self, from: try server.admin("GET", ServerAPI.auditPath).body)
        #expect(audit.first { $0.event == "enrolled" }?.actor == "127.0.0.2")

        // An image through the proxy: a range comes back as 206 with the server's strong ETag.
        let image = URL(fileURLWithPath: server.library).appendingPathComponent("lab.img")
        let tree = try TemporaryDirectory("imprint-tree")
        _ = try tree.write("etc/hostname", "master\n")
        let captured = try runProcess(RunningServer.imprint, ["capture", "--root", tree.path, "--model", "Lab PC", "-o", image.path])
        try #require(captured.status == 0, "\(captured.error)")
        let ranged = try runProcess("/usr/bin/curl", [
            "-sS", "--cacert", certificate, "-D", "-", "-o", folder.file("part"), "-H", "Authorization: Bearer \(server.adminToken)",
            "-H", "Range: bytes=100-199", "https://127.0.0.1:\(tlsPort)\(ServerAPI.imagePath(id: "lab.img"))",
        ])
        #expect(ranged.output.contains("206"))
        #expect(ranged.output.lowercased().contains("etag: \""))
        let whole = try Data(contentsOf: image)
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder.file("part"))) == whole.subdata(in: 100..<200))

        // Imprint's own clients over TLS: without the site's authority they refuse the server at once (exit 69,
        // naming --ca-file); with it, an admin command works, and a unit restores, keeps the authority in its root
        // beside the server's address, and its later reports trust the server by it.
        let https = "https://127.0.0.1:\(tlsPort)"
        let admin = ["window", "list", "--server", https, "--admin-token-file", server.adminTokenFile]
        let untrusted = try runProcess(RunningServer.binary, admin)
        #expect(untrusted.status == 69 && untrusted.error.contains("is not trusted") && untrusted.error.contains("--ca-file"), "\(untrusted.error)")
        #expect(try runProcess(RunningServer.binary, admin + ["--ca-file", certificate]).status == 0)

        #expect(try server.admin(
            "POST", ServerAPI.windowsPath, json: #"{"group":"lab","actions":["enrol","restore"],"minutes":30,"maximumNewUnits":1}"#).status == 201)
        let facts = try folder.write("facts.json", #"{"serial":"TLSUNIT02","model":"Lab PC","interfaces":[]}"#)
        let unit = folder.file("unit")
        try FileManager.default.createDirectory(atPath: unit, withIntermediateDirectories: true)
        let restore = ["restore", "--server", https, "--root", unit, "--facts", facts]
        let refused = try runProcess(RunningServer.imprint, restore)
        #expect(refused.status == 69 && refused.error.contains("is not trusted"), "\(refused.error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: unit).isEmpty)
        let restored = try runProcess(RunningServer.imprint, restore + ["--ca-file", certificate])
        #expect(restored.status == 0, "\(restored.error)")
        #expect(try String(contentsOfFile: unit + "/etc/hostname", encoding: .utf8) == "LAB-02\n")
        #expect(FileManager.default.contents(atPath: unit + ServerLink.authorityPath) == FileManager.default.contents(atPath: certificate))

        _ = try folder.write("unit" + ReportQueue.folder + "/0000000001.json", #"{"event":"failed","message":"sent over TLS","time":"2026-12-01T10:00:00Z"}"#)
        let reported = try runProcess(RunningServer.imprint, ["report", "--root", unit, "--facts", facts])
        #expect(reported.status == 0 && reported.output.contains("sent 1 report of LAB-02"), "\(reported.output)\(reported.error)")
        try FileManager.default.removeItem(atPath: unit + ServerLink.authorityPath)
        _ = try folder.write("unit" + ReportQueue.folder + "/0000000002.json", #"{"event":"failed","message":"not sent","time":"2026-12-01T10:01:00Z"}"#)
        let alone = try runProcess(RunningServer.imprint, ["report", "--root", unit, "--facts", facts])
        #expect(alone.status == 69 && alone.error.contains("is not trusted"), "\(alone.error)")
    }
}

import Foundation
import ImprintCore

/// Runs a unit's offline hooks: in a chroot of the root, in private mount, PID and network namespaces (no network;
/// a /proc and a /dev with null, zero, full, random, urandom and tty of its own), so a hook sees the unit's files
/// and nothing of the host's but those device nodes.
enum HookRunner {
    /// The program that runs `hook` in `root`, as a value: tests check its argument vector.
    static func process(_ hook: Hook, root: TargetRoot, environment: [String: String]) -> ChildProcess {
        // A first-boot hook runs on the booted unit as it is: with its network, and with systemd as PID 1 (in a PID
        // namespace of its own systemctl refuses to work). timeout(1) kills its whole process group at the limit.
        if hook.phase == .firstBoot {
            return ChildProcess(
                "/usr/bin/timeout", ["-s", "KILL", String(hook.timeout), "/bin/sh", "-c", hook.command], environment: environment,
                timeout: .seconds(hook.timeout + 10))
        }
        // --kill-child: when the timeout kills unshare, everything the hook started dies with it.
        let isolate = ["--net", "--mount", "--pid", "--fork", "--kill-child"]
        if root.path == "/" {
            return ChildProcess(
                "/usr/bin/unshare", isolate + ["/bin/sh", "-c", hook.command], environment: environment,
                timeout: .seconds(hook.timeout))
        }
        let script = """
            set -e
            root="$0"
            if [ -d "$root/proc" ]; then mount -t proc proc "$root/proc"; fi
            if [ -d "$root/dev" ]; then
                mount -t tmpfs -o mode=0755 tmpfs "$root/dev"
                for node in null zero full random urandom tty; do : > "$root/dev/$node"; mount --bind "/dev/$node" "$root/dev/$node"; done
            fi
            exec /usr/sbin/chroot "$root" /bin/sh -c "$1"
            """
        return ChildProcess(
            "/usr/bin/unshare", isolate + ["/bin/sh", "-c", script, root.path, hook.command], environment: environment,
            timeout: .seconds(hook.timeout))
    }

    /// The environment a hook gets: a plain PATH, the unit's name, and each custom field as `IMPRINT_FIELD_NAME`
    /// (`join_otp` as `IMPRINT_FIELD_JOIN_OTP`), secrets included: a `realm join` takes its one-time password
    /// from there, and what the hook prints is kept with every secret value masked (`masked(_:profile:)`).
    static func environment(_ profile: UnitProfile) -> [String: String] {
        var environment = [
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "HOME": "/root",
            "IMPRINT_HOSTNAME": profile.hostname.value, "IMPRINT_FQDN": profile.fqdn,
            "IMPRINT_REVISION": String(profile.revision),
        ]
        environment["IMPRINT_GROUP"] = profile.group
        environment["IMPRINT_SEAT"] = profile.seat.map(String.init)
        for (name, field) in profile.fields { environment["IMPRINT_FIELD_" + name.uppercased()] = field.value }
        return environment
    }

    /// `output` with every secret field value of the unit replaced by `********`, longest first (a value that holds
    /// another is masked whole): what a hook prints goes into the identity line, the journal and the server's history.
    static func masked(_ output: String, profile: UnitProfile) -> String {
        let secrets = profile.fields.values.filter { $0.secret && !$0.value.isEmpty }.map(\.value)
        return secrets.sorted { $0.count > $1.count }.reduce(output) { $0.replacingOccurrences(of: $1, with: "********") }
    }

    /// Runs the hooks in order and stops at the first that fails; returns what each that ran did.
    static func run(_ hooks: [Hook], profile: UnitProfile, root: TargetRoot) -> [HookResult] {
        var results: [HookResult] = []
        for hook in hooks {
            let result: HookResult
            do {
                let ran = try process(hook, root: root, environment: environment(profile)).run()
                // timeout(1) says 137 (128 + SIGKILL) when it killed a first-boot hook at its limit.
                let killed = hook.phase == .firstBoot && ran.termination == .exited(137)
                result = HookResult(
                    name: hook.name, status: killed ? nil : ran.status,
                    output: killed ? "killed after \(hook.timeout) s" : masked(ran.outputText + ran.errorText, profile: profile))
            } catch .timedOut {
                result = HookResult(name: hook.name, status: nil, output: "killed after \(hook.timeout) s")
            } catch {
                result = HookResult(name: hook.name, status: 127, output: error.description)
            }
            results.append(result)
            if !result.succeeded { break }
        }
        return results
    }
}

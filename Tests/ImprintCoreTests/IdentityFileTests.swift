import ImprintCore
import Testing

@Suite struct IdentityFileTests {
    /// A plain pattern names one path; a trailing '/*' names everything below its folder; '/**/' any folders between.
    @Test func patternForms() {
        let exact = PathPattern("/home/*/.ssh")
        #expect(exact.matches(path: "/home/u/.ssh"))
        #expect(!exact.matches(path: "/home/u/.sshrc") && !exact.matches(path: "/home/u/.ssh/id_rsa") && !exact.matches(path: "/home/a/b/.ssh"))
        let below = PathPattern("/var/log/*")
        #expect(below.matches(path: "/var/log/syslog") && below.matches(path: "/var/log/journal/abc/system.journal"))
        #expect(!below.matches(path: "/var/log") && !below.matches(path: "/var/logs/x"))
        let wildBelow = PathPattern("/home/*/.cache/*")
        #expect(wildBelow.matches(path: "/home/u/.cache/a/b") && !wildBelow.matches(path: "/home/u/.cache"))
        let anyDepth = PathPattern("/etc/**/*~")
        #expect(anyDepth.matches(path: "/etc/fstab~") && anyDepth.matches(path: "/etc/default/grub~"))
        #expect(!anyDepth.matches(path: "/usr/share/x~") && !anyDepth.matches(path: "/etc/fstab"))
        #expect(PathPattern("/etc/ssh/ssh_host_*").folder == "/etc/ssh")
        #expect(PathPattern("/var/log/*").folder == "/var/log")
    }

    /// Names are unique and kebab-case; every entry generalization clears belongs to exactly one operation, an
    /// entry it keeps to none, and every operation clears something.
    @Test func tableIsConsistent() {
        let entryNames = IdentityFile.all.map(\.name)
        let operationNames = GeneralizeOperation.all.map(\.name)
        #expect(Set(entryNames).count == entryNames.count)
        #expect(Set(operationNames).count == operationNames.count)
        for name in entryNames + operationNames {
            #expect(name.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }, "\(name)")
        }
        for entry in IdentityFile.all {
            let clearedBy = GeneralizeOperation.all.filter { $0.entries.contains { $0.name == entry.name } }
            if case .kept = entry.clearing {
                #expect(clearedBy.isEmpty, "\(entry.name) is kept but \(clearedBy.map(\.name)) clears it")
            } else {
                #expect(clearedBy.count == 1, "\(entry.name) is cleared by \(clearedBy.map(\.name))")
            }
        }
        for operation in GeneralizeOperation.all { #expect(!operation.entries.isEmpty, "\(operation.name)") }
        for entry in GeneralizeOperation.all.flatMap(\.entries) {
            #expect(IdentityFile.all.contains { $0.name == entry.name }, "\(entry.name) is not in IdentityFile.all")
        }
    }

    /// What the agent renews from the master is also cleared by a default operation, unless the table says an
    /// image keeps it (hostname files, other stacks' network configuration).
    @Test func whatTheAgentRenewsIsGeneralizedByDefault() {
        for entry in IdentityFile.all where entry.renewal.step != nil {
            if case .kept = entry.clearing { continue }
            #expect(GeneralizeOperation.clearing(entry)?.isDefault == true, "\(entry.name)")
        }
    }

    /// An operation list is read left to right from none: names add, '-' removes, 'defaults' and 'all' are sets;
    /// the result keeps the table's order.
    @Test func operationsChosenByName() throws {
        let defaults = GeneralizeOperation.defaults.map(\.name)
        #expect(try GeneralizeOperation.chosen(by: ["defaults"]).map(\.name) == defaults)
        #expect(try GeneralizeOperation.chosen(by: ["defaults,-ssh-userdir"]).map(\.name) == defaults.filter { $0 != "ssh-userdir" })
        #expect(try GeneralizeOperation.chosen(by: ["defaults", "+user-caches"]).map(\.name) == defaults + ["user-caches"])
        #expect(try GeneralizeOperation.chosen(by: ["logfiles, machine-id"]).map(\.name) == ["machine-id", "logfiles"])
        #expect(try GeneralizeOperation.chosen(by: ["all,-defaults"]).map(\.name) == ["user-caches", "package-lists"])
        #expect(try GeneralizeOperation.chosen(by: ["machine-id,-all"]).isEmpty)
        #expect(throws: CoreError.invalidValue(field: "operation", value: "ssh-keys", reason: "no generalize operation has that name")) {
            try GeneralizeOperation.chosen(by: ["defaults,-ssh-keys"])
        }
    }
}

import Foundation
@testable import ImprintAgent
import ImprintTestSupport
import Testing

@Suite struct AgentBinaryTests {
    var debugBinary: String { packageRoot.appendingPathComponent(".build/debug/imprint").path }

    /// strip writes the stripped copy to the output it is given and leaves the input file as it is.
    @Test func stripCommandLine() {
        let command = AgentBinary.stripCommand(input: "/build/imprint", output: "/proc/42/fd/7")
        #expect(command.executable == "strip")
        #expect(command.arguments == ["--strip-unneeded", "-o", "/proc/42/fd/7", "/build/imprint"])
    }

    /// The built imprint comes back smaller, still an ELF executable needing the same libraries, and its file is
    /// not changed.
    @Test func stripsIntoMemory() throws {
        let original = try #require(FileManager.default.contents(atPath: debugBinary))
        let agent = try #require(AgentBinary.load(path: debugBinary))
        #expect(agent.notStripped == nil)
        #expect(agent.sourceSize == original.count)
        #expect(agent.contents.count < original.count)
        #expect(try ELFDependencies.needed(in: agent.contents) == ELFDependencies.needed(in: original))
        #expect(FileManager.default.contents(atPath: debugBinary) == original)
    }

    /// A file strip refuses is taken as it is, with strip's reason; a missing file or a folder is nil.
    @Test func unstrippableFiles() throws {
        let folder = try TemporaryDirectory()
        let text = try folder.write("not-elf", "#!/bin/sh\necho hi\n")
        let agent = try #require(AgentBinary.load(path: text))
        #expect(agent.contents == Data("#!/bin/sh\necho hi\n".utf8))
        #expect(agent.notStripped?.hasPrefix("strip failed with exit status") == true)
        #expect(AgentBinary.load(path: folder.file("missing")) == nil)
        #expect(AgentBinary.load(path: folder.path) == nil)
    }
}

import Foundation
import ImprintCommands
import Logging

// Built with the Swift runtime linked in, the executable reads its arguments from /proc/self/cmdline; without /proc
// (a bare chroot) they come back empty and the root command would only print its help and exit 0.
guard !CommandLine.arguments.isEmpty else {
    FileHandle.standardError.write(Data("imprint: cannot read the command line: /proc is not mounted; mount it first (mount -t proc proc /proc)\n".utf8))
    exit(ExitStatus.usage.rawValue)
}
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}
Imprint.main()

import CLinux
import Foundation
import ImprintServerCommands
import Logging

// Images go out in 1 MiB chunks, each read into a new buffer: glibc would map each from the kernel and unmap it once
// sent, and the next chunk would be faulted in zeroed (a fifth of a download's CPU went to page faults and zeroing).
// Freed chunks are kept for the next ones instead, as the imprint executable keeps its image blocks.
mallopt(M_MMAP_THRESHOLD, 32 << 20)
mallopt(M_TRIM_THRESHOLD, 64 << 20)

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .info
    return handler
}
await ServerMain.main()

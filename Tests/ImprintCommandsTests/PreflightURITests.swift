@testable import ImprintPreflight
import Testing

/// The driverless queue URIs preflight accepts are the ones `preflight --help` and README name: ipp:// and ipps://
/// with a host, and dnssd:// (a printer CUPS found by its DNS-SD name).
struct PreflightURITests {
    @Test(arguments: [
        "ipp://10.20.4.5/ipp/print", "ipps://printer.school.example:631/ipp/print", "IPP://10.20.4.5/ipp/print",
        "dnssd://Office%20Laser._ipp._tcp.local/?uuid=4509a320-00a0-008f-00b6-002507510eca",
    ])
    func accepted(_ uri: String) {
        #expect(Preflight.everywhereURIProblem(uri) == nil)
    }

    @Test(arguments: [
        ("socket://10.20.9.7:9100", "has the scheme socket; a driverless (everywhere) queue needs ipp://, ipps:// or dnssd://"),
        ("lpd://10.20.9.7/queue", "has the scheme lpd; a driverless (everywhere) queue needs ipp://, ipps:// or dnssd://"),
        ("ipp:///ipp/print", "names no host"),
        ("10.20.4.5", "is not a well-formed URI"),
    ])
    func refused(_ uri: String, reason: String) {
        #expect(Preflight.everywhereURIProblem(uri) == reason)
    }
}

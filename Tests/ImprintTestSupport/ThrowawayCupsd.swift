import Foundation
@_exported import ImprintPreflight

/// The real CUPS scheduler, run for one test: preflight's `ScratchCupsd` (`cupsd -f` on a loopback port with its
/// own ServerRoot in a temporary folder), so the tests check printers exactly as preflight does.
public typealias ThrowawayCupsd = ScratchCupsd

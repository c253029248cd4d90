import Foundation
import ImprintCore

/// Plans the unit's CUPS queues. (Issue 4: being built.)
enum PrintersStep {
    static func plan(_ profile: UnitProfile, root: TargetRoot) throws -> (changes: [FileChange], notes: [String]) {
        ([], [])
    }
}

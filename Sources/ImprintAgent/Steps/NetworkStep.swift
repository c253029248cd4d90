import Foundation
import ImprintCore

/// Plans the unit's network configuration for the stack the image uses. (Issue 4: being built.)
enum NetworkStep {
    static func plan(_ profile: UnitProfile, root: TargetRoot) throws -> (changes: [FileChange], notes: [String]) {
        ([], [])
    }
}

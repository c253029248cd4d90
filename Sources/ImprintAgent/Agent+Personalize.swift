import ImprintCore

extension Agent {
    /// Personalizes `root` as the unit `facts` name: the one entry point that `imprint run`, `restore --personalize`
    /// and the deployment server call.
    ///
    /// Finds the unit in `directory` (an unknown one enrols into `group`, or the one group that allows it, when it
    /// may), plans its identity and, unless a dry run, applies it under the root's lock, once per record revision;
    /// an applied run is kept in the directory's history, and a unit's own copy of the inventory then keeps the
    /// unit's record only.
    /// - Parameters:
    ///   - waiting: called once when another run holds the root's lock, before this one waits for it.
    /// - Important: changes files under `root` (each backed up for `rollback`) and, on a unit's copy, deletes every
    ///   other unit from `directory`.
    public static func personalize(
        _ facts: HardwareFacts, enrolling group: String? = nil, settings: RunSettings, directory: any UnitDirectory,
        root: TargetRoot, waiting: () -> Void = {}
    ) throws -> Personalization {
        // Refused before the directory is asked, so a half-restored root never enrols a unit.
        try root.checkRestoreFinished()
        let unit = try directory.assign(facts, enrolling: group, preview: settings.dryRun)
        let shrinks = try !settings.dryRun && settings.steps.contains(.identity) && directory.shrinksAfterRun()
        var request = RunRequest(unit: unit, shrinksInventory: shrinks, settings: settings)
        request.facts = facts
        let outcome = try run(request, root: root, waiting: waiting)
        if outcome.result == .applied, let identity = outcome.identity {
            try directory.recordRun(identity, source: settings.source)
        }
        return Personalization(unit: unit, outcome: outcome)
    }
}

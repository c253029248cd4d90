import Foundation
import Glibc
import ImprintCore

/// Applies a plan to a root under the target-root contract: every touched file backed up first, a journal written
/// before the first change and marked done after the last, so a killed run is undone by the next one.
///
/// A full disk must not leave a run half-applied either. Before the first change the run takes room for its last
/// journal write (the file `reserve` in its folder) and gives it back just before that write; a rollback that finds
/// no room for a file's temporary copy removes the file first (the journal still says `applying` until the rollback
/// is complete, so a kill in between is undone again by the next run).
enum Applier {
    /// What runs between the unit's files and the run's own records (the hooks), and the records it makes.
    typealias Finish = () throws -> (hooks: [HookResult], records: [FileChange])

    /// Backs up what `plan` touches, applies it, and returns the finished journal.
    /// - Parameters:
    ///   - finish: runs once the unit's files are in place, before the run's own records (identity line, state)
    ///     are written, and gives those records anew; a hook that failed rolls the whole run back.
    static func apply(_ plan: Plan, run: String, unit: String, root: TargetRoot, time: Date, finish: Finish? = nil) throws -> Journal {
        var journal = Journal(run: run, unit: unit, started: time, state: .applying, entries: [])
        do {
            for (index, change) in plan.changes.enumerated() {
                var entry = Journal.Entry(path: change.path)
                if let target = try root.linkTarget(change.path) {
                    entry.link = target
                } else if let contents = try root.readFile(change.path) {
                    let backup = "\(Journal.folder(run))/backup/\(index)"
                    try root.write(backup, contents, metadata: FileMetadata(mode: 0o600))
                    entry.backup = backup
                    entry.metadata = try root.metadata(change.path)
                }
                journal.entries.append(entry)
            }
            let journalSize = try journal.encoded().count
            try root.write(Journal.reserve(run), Data(count: (journalSize / 4096 + 2) * 4096), metadata: FileMetadata(mode: 0o600))
            try journal.save(root)
        } catch {
            // No file has changed yet; the backups of a run that could not start (a full disk) go too.
            try? root.removeTree(Journal.folder(run))
            throw error
        }
        do {
            for change in plan.changes where !Agent.records.contains(change.path) { try perform(change, root: root) }
            var records = plan.changes.filter { Agent.records.contains($0.path) }
            if let finish {
                let finished = try finish()
                journal.hooks = finished.hooks
                try journal.save(root)
                if let failed = finished.hooks.first(where: { !$0.succeeded }) {
                    throw AgentError.hookFailed(failed, timeout: plan.hooks.first { $0.name == failed.name }?.timeout ?? 0)
                }
                records = finished.records
            }
            for change in records { try perform(change, root: root) }
            try root.remove(Journal.reserve(run))
            journal.state = .done
            try journal.save(root)
        } catch {
            try? rollBack(&journal, root: root)
            throw error
        }
        return journal
    }

    /// How many finished runs keep their folder (backups and journal) for `rollback`.
    static let keptRuns = 5

    /// Removes the folders of finished runs older than the newest `keptRuns`, but the one `keeping` names (the run
    /// the state file points at). A run's backups hold the files it replaced, the unit's earlier private host keys
    /// among them: a unit should not keep every key it ever had.
    static func prune(root: TargetRoot, keeping: String?) throws(CoreError) {
        let runs = try Journal.runs(root)
        for run in runs.dropLast(keptRuns) where run != keeping {
            guard let journal = try? Journal.read(run, root: root), journal.state != .applying else { continue }
            try root.removeTree(Journal.folder(run))
        }
    }

    static func perform(_ change: FileChange, root: TargetRoot) throws(CoreError) {
        switch change.action {
        case let .write(contents, metadata):
            // A link in the image (say /etc/hostname -> /run/hostname) is replaced by the file, not followed.
            if try root.linkTarget(change.path) != nil { try root.remove(change.path) }
            try root.write(change.path, contents, metadata: metadata)
        case .symlink(let target):
            try root.symlink(change.path, to: target)
        case .remove:
            try root.remove(change.path)
        case .folder(let metadata):
            try root.makeFolder(change.path, metadata: metadata)
        }
    }

    /// Puts every file of the journal back as it was, last change first, and marks the journal rolled back.
    static func rollBack(_ journal: inout Journal, root: TargetRoot) throws {
        for entry in journal.entries.reversed() {
            if let link = entry.link {
                try root.symlink(entry.path, to: link)
            } else if let backup = entry.backup, let contents = try root.readFile(backup) {
                if try root.linkTarget(entry.path) != nil { try root.remove(entry.path) }
                try putBack(entry.path, contents, metadata: entry.metadata, root: root)
            } else {
                try root.remove(entry.path)
            }
        }
        try root.remove(Journal.reserve(journal.run))
        journal.state = .rolledBack
        try journal.save(root)
    }

    /// Writes a backed-up file back. With no room for its temporary copy, the file this run wrote (which holds the
    /// room its old self needs) is removed first.
    private static func putBack(_ path: String, _ contents: Data, metadata: FileMetadata?, root: TargetRoot) throws(CoreError) {
        do {
            try root.write(path, contents, metadata: metadata)
        } catch {
            guard error.isDiskFull else { throw error }
            try root.remove(path)
            try root.write(path, contents, metadata: metadata)
        }
    }

    /// Rolls back every run left `applying` by a process that was killed, and removes the backups of runs killed
    /// before their journal was written (those changed nothing); returns the names of the runs undone.
    static func recoverInterrupted(root: TargetRoot) throws -> [String] {
        var recovered: [String] = []
        for run in try Journal.runs(root) {
            guard var journal = try Journal.read(run, root: root) else {
                try root.removeTree(Journal.folder(run))
                continue
            }
            guard journal.state == .applying else { continue }
            try rollBack(&journal, root: root)
            recovered.append(run)
        }
        return recovered
    }
}

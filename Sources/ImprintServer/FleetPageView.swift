import Foundation
import ImprintWire

/// The values the fleet page's templates show, made from the deployment's rows: pure, so what a technician reads is
/// decided here and the templates only lay it out.
///
/// Every key a template reads is present in every row (an empty string, false or an empty list when there is
/// nothing), so Mustache never looks a missing key up in an enclosing section and shows another row's value.
struct FleetPageView {
    let now: Date
    let timeZone: TimeZone

    // MARK: - Rooms

    /// One entry per group, and a last one for the units in no group when there are any: they can get nothing
    /// from the server (a window opens for a group), but a technician must see that they exist.
    func rooms(groups: [String], fleet: [FleetRow], windows: [DeploymentWindow]) -> [[String: Any]] {
        func counts(_ units: [FleetRow]) -> [[String: Any]] {
            UnitState.allCases.filter { $0 != .idle }.compactMap { state in
                let count = units.filter { $0.state == state }.count
                return count == 0 ? nil : ["state": state.rawValue, "count": count, "word": Self.word(for: state)]
            }
        }
        var rooms = groups.map { name -> [String: Any] in
            let units = fleet.filter { $0.group?.lowercased() == name.lowercased() }
            return [
                "name": name, "link": Self.groupLink(name), "unitCount": Self.units(units.count), "counts": counts(units),
                "window": window(for: name, in: windows).map { self.window($0) } ?? false, "ungrouped": false,
            ]
        }
        let ungrouped = fleet.filter { $0.group == nil }
        if !ungrouped.isEmpty {
            rooms.append([
                "name": Self.ungroupedName, "link": Self.ungroupedLink, "unitCount": Self.units(ungrouped.count),
                "counts": counts(ungrouped), "window": false, "ungrouped": true,
            ])
        }
        return rooms
    }

    /// The page of the units in no group.
    static let ungroupedLink = "/fleet?ungrouped=1"
    static let ungroupedName = "Units in no room"

    // MARK: - One room

    func window(for group: String, in windows: [DeploymentWindow]) -> DeploymentWindow? {
        windows.first { $0.group.lowercased() == group.lowercased() }
    }

    func window(_ window: DeploymentWindow) -> [String: Any] {
        [
            "until": time(window.expires, seconds: false),
            "actions": Self.order(window.actions).map(\.rawValue).joined(separator: ", "),
            "image": window.image ?? "the newest for each unit's model",
            "enrols": window.allows(.enrol), "enrolled": window.enrolled, "maximumNewUnits": window.maximumNewUnits,
        ]
    }

    func unit(_ row: FleetRow) -> [String: Any] {
        var actions: [[String: Any]] = []
        if row.state == .pending {
            actions.append(["action": ServerAPI.UnitAction.approve.rawValue, "label": "Approve restore", "style": "primary"])
        }
        if [.armed, .restoring, .personalized, .failed, .stale].contains(row.state) {
            actions.append(["action": ServerAPI.UnitAction.arm.rawValue, "label": "Arm again", "style": ""])
        }
        actions.append(
            row.protected
                ? ["action": ServerAPI.UnitAction.unprotect.rawValue, "label": "Unprotect", "style": ""]
                : ["action": ServerAPI.UnitAction.protect.rawValue, "label": "Protect", "style": ""])
        let reported = row.lastReport
        return [
            "name": row.unit, "model": row.model ?? "", "serial": row.serial ?? "", "state": row.state.rawValue,
            "stateText": Self.stateText(row.state, percent: row.percent),
            "restoring": row.state == .restoring && row.percent != nil, "percent": row.percent ?? 0,
            "image": row.image ?? "",
            "reported": reported != nil,
            "reportedAt": reported.map { time($0) } ?? "", "age": reported.map(age) ?? "",
            "reportedISO": reported.map { $0.formatted(.iso8601) } ?? "",
            "result": row.lastResult ?? "",
            "error": row.state == .failed ? (row.error ?? "failed without a message") : "",
            "protected": row.protected, "actions": actions,
        ]
    }

    /// The open-window form, filled with the current window's settings when there is one.
    func windowForm(current: DeploymentWindow?, images: [ImageReference]) -> [String: Any] {
        let labels: [WindowAction: String] = [
            .restore: "restore the image, then personalize",
            .personalize: "personalize (no restore)",
            .enrol: "enrol unknown machines into this room",
        ]
        let remaining = current.map { Int(($0.expires.timeIntervalSince(now) / 60).rounded(.up)) }
        return [
            "actions": Self.order(WindowAction.allCases).map { action -> [String: Any] in
                ["value": action.rawValue, "label": labels[action] ?? action.rawValue,
                 "checked": current?.allows(action) ?? (action == .personalize)]
            },
            "images": images.map { image -> [String: Any] in
                ["id": image.id, "models": image.models.joined(separator: ", "), "hasModels": !image.models.isEmpty,
                 "selected": image.id == current?.image]
            },
            "minutes": min(max(remaining ?? 60, 1), maximumWindowMinutes),
            "maximumMinutes": maximumWindowMinutes,
            "maximumNewUnits": current?.maximumNewUnits ?? 0,
            "submit": current == nil ? "Open window" : "Open again with these settings",
        ]
    }

    // MARK: - Words

    /// The state as the page says it: a word (and the percentage while restoring), never a colour alone.
    static func stateText(_ state: UnitState, percent: Int?) -> String {
        switch state {
        case .restoring: return percent.map { "restoring \($0) %" } ?? "restoring"
        case .personalized: return "✓ personalized"
        case .failed: return "✗ failed"
        case .pending: return "needs approval"
        default: return state.rawValue
        }
    }

    /// "1 unit", "30 units".
    static func units(_ count: Int) -> String { count == 1 ? "1 unit" : "\(count) units" }

    static func word(for state: UnitState) -> String {
        state == .pending ? "need approval" : state.rawValue
    }

    /// The page of one room; the name is a query value, percent-encoded whatever it holds.
    static func groupLink(_ group: String) -> String {
        "/fleet?group=" + encoded(group)
    }

    static func encoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// Restore first: the order a technician reads a window's actions in, most destructive first.
    static func order(_ actions: [WindowAction]) -> [WindowAction] {
        let rank: [WindowAction: Int] = [.restore: 0, .personalize: 1, .enrol: 2]
        return actions.sorted { rank[$0, default: 9] < rank[$1, default: 9] }
    }

    /// A time of day, with the date when it is not today.
    /// - Parameters:
    ///   - seconds: whether a time today shows its seconds (a report's does, a window's end does not need to).
    func time(_ date: Date, seconds: Bool = true) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = calendar.isDate(date, inSameDayAs: now) ? (seconds ? "HH:mm:ss" : "HH:mm") : "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    func age(_ date: Date) -> String {
        let seconds = Int(now.timeIntervalSince(date))
        switch seconds {
        case ..<10: return "just now"
        case ..<60: return "\(seconds) s ago"
        case ..<3600: return "\(seconds / 60) min ago"
        case ..<86_400: return "\(seconds / 3600) h ago"
        default: return "\(seconds / 86_400) days ago"
        }
    }
}

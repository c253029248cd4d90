import Foundation

extension PreflightReport {
    /// The report as one self-contained page (inline style, no script, nothing fetched): the failing units first,
    /// each failure with what to fix, then the passing units. Every row is `tr.unit` with `data-unit` and
    /// `data-result` (`pass` or `fail`), for a script or a test to read. When a unit was booted, a Boot column
    /// says `pass`, `fail` or `not booted` (`td.boot` with `data-boot`), and the booted unit's row lists what its
    /// console showed.
    public func html() -> String {
        let ordered = units.filter { !$0.passed } + units.filter(\.passed)
        let booted = units.contains { $0.boot != nil }
        let models = models.isEmpty ? "no model" : models.joined(separator: ", ")
        var rows: [String] = []
        for unit in ordered {
            let result = unit.passed ? "pass" : "fail"
            let details: String
            let bootShown = unit.boot.map { "booted in \($0.seconds) s: " + $0.checked.joined(separator: ", ") }
            if unit.passed {
                details = "<td class=\"checked\">checked by \(escape(unit.checkedBy.joined(separator: ", ")))"
                    + (bootShown.map { "<div class=\"booted\">\(escape($0))</div>" } ?? "") + "</td>"
            } else {
                let items = unit.failures.map { failure in
                    "<li><span class=\"check\">\(escape(failure.check))</span> \(escape(failure.message))"
                        + "<div class=\"fix\">To fix: \(escape(failure.fix))</div></li>"
                }
                details = "<td><ul class=\"failures\">\(items.joined())</ul></td>"
            }
            let bootState = unit.boot.map { $0.passed ? "pass" : "fail" } ?? "not booted"
            let bootCell = !booted ? "" : "<td class=\"boot\" data-boot=\"\(bootState)\">"
                + (unit.boot.map { $0.passed ? "✓ pass" : "✗ fail" } ?? "not booted") + "</td>"
            rows.append(
                "<tr class=\"unit \(result)\" data-unit=\"\(escape(unit.unit))\" data-result=\"\(result)\">"
                    + "<th scope=\"row\">\(escape(unit.unit))</th><td>\(escape(unit.model ?? "none"))</td>"
                    + "<td class=\"result\">\(unit.passed ? "✓ pass" : "✗ fail")</td>\(bootCell)\(details)</tr>")
        }
        let imageLine = imageFailures.isEmpty
            ? "checked by \(imageCheckedBy.joined(separator: ", "))"
            : imageFailures.map { "\($0.check): \($0.message) To fix: \($0.fix)" }.joined(separator: " ")
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Preflight of \(escape(image)) for \(escape(group))</title>
            <style>
            body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1b1b; }
            h1 { font-size: 1.4em; margin: 0 0 .3em; }
            .summary { font-size: 1.1em; margin: .2em 0 1em; }
            .summary.fail { color: #a40000; } .summary.pass { color: #176b00; }
            .image { color: #444; margin-bottom: 1em; }
            table { border-collapse: collapse; width: 100%; }
            th, td { text-align: left; vertical-align: top; padding: .45em .6em; border-bottom: 1px solid #ddd; }
            thead th { background: #f1f1f1; }
            tbody th { white-space: nowrap; }
            tr.fail { background: #fff2f2; } tr.fail .result { color: #a40000; font-weight: 600; white-space: nowrap; }
            tr.pass .result { color: #176b00; white-space: nowrap; }
            ul.failures { margin: 0; padding-left: 1.1em; }
            .check { font-family: ui-monospace, monospace; background: #eee; padding: 0 .3em; border-radius: 3px; }
            .fix { color: #333; margin-top: .2em; font-style: italic; }
            .checked { color: #555; }
            .booted { color: #555; margin-top: .2em; }
            td.boot[data-boot="fail"] { color: #a40000; font-weight: 600; } td.boot[data-boot="pass"] { color: #176b00; }
            td.boot[data-boot="not booted"] { color: #777; }
            </style>
            </head>
            <body>
            <h1>Preflight: \(escape(image)) for group \(escape(group))</h1>
            <p class="summary \(failed > 0 || units.isEmpty ? "fail" : "pass")">\(passed) of \(units.count) units pass, \(failed) fail</p>
            <p class="image">Image for \(escape(models)): \(escape(imageLine))</p>
            <table>
            <thead><tr><th scope="col">Unit</th><th scope="col">Model</th><th scope="col">Result</th>\(booted ? "<th scope=\"col\">Boot</th>" : "")<th scope="col">What is wrong, and what to fix</th></tr></thead>
            <tbody>
            \(rows.joined(separator: "\n"))
            </tbody>
            </table>
            </body>
            </html>

            """
    }

    private func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

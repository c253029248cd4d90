import Foundation
import ImprintCore
import Mustache

/// A file Imprint renders from a template: the systemd unit, and the network and CUPS files.
///
/// The built-in templates are the files under the package's `Templates/` folder, embedded in the binary. An admin
/// overrides one by placing a file of the same name under `/etc/imprint/templates/` in the target root. Templates
/// are Mustache, rendered as plain text (nothing is HTML-escaped): callers validate every value before rendering,
/// so a value can never break the syntax of the file it lands in.
public struct Template: Sendable {
    /// The file name, such as `imprint-agent.service`.
    public let name: String
    /// Where the text came from: `built-in`, or the override's path as the unit sees it.
    public let source: String
    private let template: MustacheTemplate

    /// Where a root's admin keeps overrides.
    public static let overrideFolder = "/etc/imprint/templates"

    /// The names of the built-in templates.
    public static var builtInNames: [String] { builtIn.keys.sorted() }

    /// Loads template `name`: the override under `root`'s /etc/imprint/templates when there is one, else the
    /// built-in one.
    /// - Parameters:
    ///   - root: the target root to look for an override in; nil for the built-in template only.
    public static func load(_ name: String, root: TargetRoot?) throws -> Template {
        guard let bytes = builtIn[name] else {
            throw TemplateError.unknown(name: name, known: builtInNames)
        }
        let overridePath = overrideFolder + "/" + name
        if let root, let data = try root.readFile(overridePath) {
            guard let text = String(data: data, encoding: .utf8) else {
                throw TemplateError.invalid(name: name, source: overridePath, reason: "the file is not UTF-8 text")
            }
            return try Template(name: name, source: overridePath, text: text)
        }
        return try Template(name: name, source: "built-in", text: String(decoding: bytes, as: UTF8.self))
    }

    /// Parses `text` as a template named `name` (tests, and overrides read elsewhere).
    public init(name: String, source: String, text: String) throws {
        self.name = name
        self.source = source
        do {
            template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text)
        } catch {
            throw TemplateError.invalid(name: name, source: source, reason: "not a valid Mustache template (\(error))")
        }
    }

    /// The text with `values` filled in. Values are dictionaries, arrays, strings, numbers and booleans; a missing
    /// key renders as nothing, as Mustache defines.
    public func render(_ values: [String: Any]) -> String {
        template.render(values)
    }

    /// Every built-in template, by file name. The names are unique across Templates/'s subfolders.
    private static let builtIn: [String: [UInt8]] = [
        "imprint-agent.service": PackageResources.imprint_agent_service,
        "imprint-printers.service": PackageResources.imprint_printers_service,
        "imprint-hooks.service": PackageResources.imprint_hooks_service,
        "imprint-report.service": PackageResources.imprint_report_service,
        "imprint-report.timer": PackageResources.imprint_report_timer,
        "imprint-netplan.yaml": PackageResources.imprint_netplan_yaml,
        "imprint.nmconnection": PackageResources.imprint_nmconnection,
        "imprint.network": PackageResources.imprint_network,
        "imprint.link": PackageResources.imprint_link,
        "imprint.netdev": PackageResources.imprint_netdev,
        "interfaces-imprint": PackageResources.interfaces_imprint,
        "ifcfg-imprint": PackageResources.ifcfg_imprint,
        "keys-imprint": PackageResources.keys_imprint,
        "cups-printer.conf": PackageResources.cups_printer_conf,
    ]
}

/// A template that cannot be used.
public enum TemplateError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknown(name: String, known: [String])
    case invalid(name: String, source: String, reason: String)

    public var description: String {
        switch self {
        case let .unknown(name, known):
            return "no template named \(quoted(name)); the templates are \(known.joined(separator: ", "))"
        case let .invalid(name, source, reason):
            return "template \(quoted(name)) from \(source) cannot be used: \(reason); fix or remove the override"
        }
    }
}

extension Template {
    /// Renders a template the admin keeps in the inventory (an attached file, a group's network document) with one
    /// unit's values (`UnitFile.values(of:)`), a list as a Mustache list.
    /// - Parameters:
    ///   - missing: the error for a value the template inserts outside a section that tests it, which the unit lacks.
    /// - Throws: `missing(name)` for the first such value in name order, before anything is rendered.
    public static func renderUnitValues(
        _ text: String, name: String, source: String, values: [String: TemplateValue], missing: (String) -> CoreError
    ) throws -> String {
        for wanted in try TemplateNames.scan(text).required.sorted() where values[wanted] == nil { throw missing(wanted) }
        var context: [String: Any] = [:]
        for (key, value) in values {
            switch value {
            case .text(let text): context[key] = text
            case .list(let items): context[key] = items
            }
        }
        return try Template(name: name, source: source, text: text).render(context)
    }
}

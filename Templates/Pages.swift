import Foundation
import Mustache

/// The deployment server's fleet page: the HTML templates under the package's `Templates/server/` folder, embedded
/// in the binary.
///
/// Unlike `Template`, these render as HTML: every `{{value}}` is escaped (`<`, `>`, `&`, `"`, `'`), so a unit or
/// group name holding markup shows as text. The templates never use triple braces or `{{&value}}` (a test checks).
/// Pages share the partials `{{> top}}`, `{{> bottom}}` and `{{> window-form}}`, named by file name without `.html`.
public struct PageTemplates: Sendable {
    private let library: MustacheLibrary

    /// Parses every built-in page.
    public init() throws {
        var library = MustacheLibrary()
        for (file, bytes) in Self.builtIn {
            let name = String(file.dropLast(".html".count))
            do {
                library.register(try MustacheTemplate(string: String(decoding: bytes, as: UTF8.self)), named: name)
            } catch {
                throw TemplateError.invalid(name: file, source: "built-in", reason: "not a valid Mustache template (\(error))")
            }
        }
        self.library = library
    }

    /// The page `name` (a file name without `.html`, such as `group`) with `values` filled in, HTML-escaped.
    public func render(_ name: String, _ values: [String: Any]) throws -> String {
        guard let text = library.render(values, withTemplate: name) else {
            throw TemplateError.unknown(name: name + ".html", known: Self.builtIn.keys.sorted())
        }
        return text
    }

    /// The pages' style sheet, served as a file so the Content-Security-Policy can forbid inline styles and scripts.
    public static var stylesheet: [UInt8] { PackageResources.fleet_css }

    /// Every built-in page's text, by file name (for tests that read the templates themselves).
    public static var sources: [String: String] {
        builtIn.mapValues { String(decoding: $0, as: UTF8.self) }
    }

    private static let builtIn: [String: [UInt8]] = [
        "top.html": PackageResources.top_html,
        "bottom.html": PackageResources.bottom_html,
        "login.html": PackageResources.login_html,
        "fleet.html": PackageResources.fleet_html,
        "group.html": PackageResources.group_html,
        "window.html": PackageResources.window_html,
        "window-form.html": PackageResources.window_form_html,
        "problem.html": PackageResources.problem_html,
    ]
}

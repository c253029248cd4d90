import Foundation
import ImprintCore
import ImprintTemplates
import ImprintTestSupport
import Testing

@Suite struct TemplateTests {
    /// Values are inserted as plain text: nothing is HTML-escaped.
    @Test func rendersPlainText() throws {
        let template = try Template(name: "t", source: "test", text: "a={{a}} b={{{b}}}\n{{#list}}- {{.}}\n{{/list}}")
        #expect(template.render(["a": "x<y&z", "b": "\"q\"", "list": ["one", "two"]]) == "a=x<y&z b=\"q\"\n- one\n- two\n")
    }

    /// An override under /etc/imprint/templates in the root wins over the built-in template, and says where it came from.
    @Test func overrideInRootWins() throws {
        let folder = try TemporaryDirectory()
        let root = try TargetRoot(folder.path)
        let builtIn = try Template.load("imprint-agent.service", root: root)
        #expect(builtIn.source == "built-in")
        #expect(builtIn.render(["binary": "/b", "inventory": "/i"]).contains("ExecStart=/b run --root / --inventory /i"))
        _ = try folder.write("etc/imprint/templates/imprint-agent.service", "[Service]\nExecStart={{binary}} own\n")
        let override = try Template.load("imprint-agent.service", root: root)
        #expect(override.source == "/etc/imprint/templates/imprint-agent.service")
        #expect(override.render(["binary": "/b"]) == "[Service]\nExecStart=/b own\n")
    }

    /// An unknown name and a broken override are errors that name the template and what to do.
    @Test func badTemplatesAreErrors() throws {
        let folder = try TemporaryDirectory()
        #expect(throws: TemplateError.self) { try Template.load("nope.conf", root: nil) }
        _ = try folder.write("etc/imprint/templates/imprint-agent.service", "{{#open}} never closed")
        do {
            _ = try Template.load("imprint-agent.service", root: try TargetRoot(folder.path))
            Issue.record("a broken override was accepted")
        } catch let error as TemplateError {
            #expect("\(error)".contains("/etc/imprint/templates/imprint-agent.service"))
            #expect("\(error)".contains("fix or remove the override"))
        }
    }
}

@Suite struct PageTemplateTests {
    /// The fleet page's values are HTML-escaped, quotes too, so text can break neither an element nor an attribute.
    @Test func pagesEscapeValues() throws {
        let pages = try PageTemplates()
        let html = try pages.render("problem", [
            "title": "t", "heading": "<h1>", "message": "a & \"b\" 'c'", "link": "/x\" onclick=\"y", "linkText": "go",
        ])
        #expect(html.contains("&lt;h1&gt;"))
        #expect(html.contains("a &amp; &quot;b&quot; &#39;c&#39;"))
        #expect(html.contains("href=\"/x&quot; onclick=&quot;y\""))
    }

    /// No page template inserts a value unescaped (triple braces or `{{&`), and none carries a script or inline style.
    @Test func pagesNeverInsertRawValues() {
        #expect(!PageTemplates.sources.isEmpty)
        for (name, text) in PageTemplates.sources {
            #expect(!text.contains("{{{") && !text.contains("{{&"), "\(name) inserts a value unescaped")
            #expect(!text.lowercased().contains("<script") && !text.contains("style=") && !text.lowercased().contains("<style"), "\(name)")
        }
    }

    /// Every form of the fleet page carries the CSRF token in a hidden field.
    @Test func everyFormCarriesTheCSRFToken() {
        for (name, text) in PageTemplates.sources {
            let forms = text.components(separatedBy: "<form").dropFirst()
            for form in forms {
                let body = form.components(separatedBy: "</form>")[0]
                #expect(body.contains("<input type=\"hidden\" name=\"csrf\""), "a form of \(name) has no CSRF field")
            }
        }
    }
}

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

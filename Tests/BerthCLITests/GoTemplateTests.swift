import CommandLineParsing
import JSON
import Testing
@testable import berth

/// `--format` templates: the part of Go's text/template that Docker users write.
@Suite("Go templates") struct GoTemplateTests {
    static let container = """
        {"Name": "/web", "State": {"Running": true, "Pid": 42, "Status": "running"},
         "Config": {"Labels": {"tier": "front", "app": "shop"}, "Env": ["A=1", "B=2"], "Empty": []},
         "NetworkSettings": {"Networks": {"front": {"IPAddress": "10.0.0.2"}, "back": {"IPAddress": "10.1.0.2"}}}}
        """

    func render(_ format: String) throws -> String {
        try GoTemplate(format).render(try JSON.parse(Self.container))
    }

    @Test("what Docker users write", arguments: [
        ("{{.Name}} {{.State.Pid}}", "/web 42"),
        ("{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", "10.1.0.2 10.0.0.2 "),
        ("{{range $name, $net := .NetworkSettings.Networks}}{{$name}}={{$net.IPAddress}};{{end}}", "back=10.1.0.2;front=10.0.0.2;"),
        ("{{range $i, $e := .Config.Env}}{{$i}}:{{$e}} {{end}}", "0:A=1 1:B=2 "),
        ("{{range $i,$e:=.Config.Env}}{{$i}}{{end}}", "01"),
        ("{{range $v := .Config.Env}}[{{$v}}]{{end}}", "[A=1][B=2]"),
        ("{{range .Config.Empty}}x{{else}}none{{end}}", "none"),
        ("{{index .Config.Labels \"tier\"}}", "front"),
        ("{{index .Config.Labels \"missing\"}}|", "|"),
        ("{{index .Config.Env 1}}", "B=2"),
        ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
        ("{{if not .State.Running}}down{{else}}up{{end}}", "up"),
        ("{{if eq .State.Status \"running\"}}yes{{end}}", "yes"),
        ("{{if ne .State.Pid 42}}other{{else}}same{{end}}", "same"),
        ("{{with .State}}{{.Status}}{{end}}", "running"),
        ("{{len .Config.Env}} {{len .Config.Labels}}", "2 2"),
        ("{{join .Config.Env \",\"}}", "A=1,B=2"),
        ("{{.Name | upper}} {{lower \"ABC\"}}", "/WEB abc"),
        ("{{json .Config.Labels}}", "{\"tier\":\"front\",\"app\":\"shop\"}"),
        ("{{range .Config.Env}}{{println .}}{{end}}", "A=1\nB=2\n"),
        ("{{print \"a\" 1 2 \"b\"}}", "a1 2b"),
        ("{{/* a comment */}}{{.State.Pid}}", "42"),
        ("a  {{- .State.Pid -}}  b", "a42b"),
        ("{{range .Config.Env}}{{$.Name}}{{end}}", "/web/web"),
        ("{{range $k, $v := .Config.Labels}}{{$k}}{{end}}{{.Name}}", "apptier/web"),
    ])
    func renders(_ format: String, _ expected: String) throws {
        #expect(try render(format) == expected)
    }

    @Test("bad templates name what is wrong", arguments: [
        ("{{range .Config.Env}}x", "is not closed with {{end}}"),
        ("{{end}}", "{{end}} has no {{range}}, {{if}} or {{with}} to close"),
        ("{{title .Name}}", "the function \"title\" is not supported"),
        ("{{.Name", "is not closed with }}"),
        ("{{index .Config.Labels \"tier}}", "a string that is not closed"),
        ("{{range $a, $b, $c := .Config.Env}}{{end}}", "range declares $v or $i, $v"),
        ("{{.Name .State}}", ".Name is not a function"),
    ])
    func refusesBadTemplates(_ format: String, _ words: String) {
        let error = #expect(throws: UsageError.self) { try GoTemplate(format) }
        #expect(error?.message.contains(words) == true, "\(error?.message ?? "")")
    }

    @Test("errors while rendering name the field or the value", arguments: [
        ("{{.Nope}}", "no field .Nope"),
        ("{{range .Name}}{{end}}", "range over /web, which is not a list or a map"),
        ("{{$x}}", "undefined variable $x"),
        ("{{index .Config.Env 5}}", "index 5 out of range (2 items)"),
        ("{{len .State.Pid}}", "len of 42"),
    ])
    func renderingErrors(_ format: String, _ words: String) throws {
        let template = try GoTemplate(format)
        let error = #expect(throws: UsageError.self) { try template.render(try JSON.parse(Self.container)) }
        #expect(error?.message.contains(words) == true, "\(error?.message ?? "")")
    }

    @Test("a table's header names each top-level field")
    func tableHeader() throws {
        let template = try GoTemplate("table {{.Name}}\t{{json .State}}\t{{range .Config.Env}}{{.}}{{end}}")
        #expect(template.isTable)
        #expect(template.header(["Name": "NAMES"]) == "NAMES\tSTATE\t")
    }
}

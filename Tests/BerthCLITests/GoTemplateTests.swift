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

    @Test("Go's and Docker's other functions, and parenthesised pipelines", arguments: [
        ("{{if and .State.Running (eq .State.Status \"running\")}}up{{end}}", "up"),
        ("{{and .State.Running .State.Pid}} {{and .Config.Empty .State.Pid}}", "42 []"),
        ("{{or .Config.Empty .Name}} {{or \"\" 0}}", "/web 0"),
        ("{{if or (eq .State.Status \"exited\") (gt .State.Pid 40)}}yes{{end}}", "yes"),
        ("{{lt 1 2}} {{le 2 2}} {{gt 1.5 2}} {{ge \"b\" \"a\"}}", "true true false true"),
        ("{{eq .State.Status \"exited\" \"running\"}}", "true"),
        ("{{if eq .State.Running true}}on{{end}}{{if ne .State.Running false}}!{{end}} {{eq nil nil}}", "on! true"),
        ("{{(index .Config.Env 0)}}", "A=1"),
        ("{{upper (index .Config.Labels \"tier\")}}", "FRONT"),
        ("{{index (split (index .Config.Env 1) \"=\") 1}}", "2"),
        ("{{printf \"%s has pid %d\" .Name .State.Pid}}", "/web has pid 42"),
        ("{{printf \"%.3s|%-6s|%6s|%05d|%x|%X|%q|%t|%v\" \"abcdef\" \"ab\" \"ab\" 42 255 \"hi\" \"a\\\"b\" .State.Running .Config.Env}}",
         "abc|ab    |    ab|00042|ff|6869|\"a\\\"b\"|true|[A=1 B=2]"),
        ("{{printf \"%.2f %f %+d %d%%\" 3.14159 2 5 -7}}", "3.14 2.000000 +5 -7%"),
        ("{{printf \"%d\" .Name}}|{{printf \"%s %s\" \"a\"}}|{{printf \"x\" 1}}", "%!d(string=/web)|a %!s(MISSING)|x%!(EXTRA int=1)"),
        ("{{.State.Pid | printf \"pid=%d\"}}", "pid=42"),
        ("{{split \"a,b,,c\" \",\"}} {{len (split \"\" \",\")}}", "[a b  c] 1"),
        ("{{title \"hello wide-world foo_bar\"}}", "Hello Wide-World Foo_bar"),
        ("{{truncate \"abcdef\" 3}}|{{truncate \"ab\" 5}}", "abc|ab"),
        ("[{{pad .State.Status 1 2}}][{{pad \"\" 1 2}}]", "[ running  ][]"),
        ("{{slice \"abcdef\" 1 3}} {{slice .Config.Env 1}} {{slice \"abc\" 1}}", "bc [B=2] bc"),
    ])
    func functions(_ format: String, _ expected: String) throws {
        #expect(try render(format) == expected)
    }

    @Test("bad templates name what is wrong", arguments: [
        ("{{range .Config.Env}}x", "is not closed with {{end}}"),
        ("{{end}}", "{{end}} has no {{range}}, {{if}} or {{with}} to close"),
        ("{{html .Name}}", "the function \"html\" is not supported"),
        ("{{upper (index .Config.Env 0}}", "a parenthesis that is not closed"),
        ("{{upper index .Config.Env 0)}}", "closes a parenthesis it did not open"),
        ("{{(index .Config.Env 0).Name}}", "a field of a parenthesised value is not supported"),
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
        ("{{lt .Name 1}}", "lt compares two numbers or two strings"),
        ("{{slice .Name 3 1}}", "slice 3:1 out of range"),
        ("{{truncate .Name \"x\"}}", "truncate takes a string and a length"),
        ("{{printf .State.Pid}}", "printf takes a format string first"),
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

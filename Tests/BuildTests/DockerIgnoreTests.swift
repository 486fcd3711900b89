@testable import Build
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// `.dockerignore` with Docker's pattern rules.
@Suite(".dockerignore") struct DockerIgnoreTests {
    @Test(arguments: [
        ("*.log", "a.log", true), ("*.log", "sub/a.log", false), ("**/*.log", "sub/deep/a.log", true), ("**/*.log", "a.log", true),
        ("build", "build/x/y", true), ("/build/", "build", true), ("b?t", "bat", true), ("[a-c]x", "dx", false),
        ("# comment", "# comment", false), ("./dir/../x", "x", true), ("docs/**", "docs/a/b", true),
    ])
    func patterns(pattern: String, path: String, excluded: Bool) {
        #expect(DockerIgnore.parse(pattern).excludes(path) == excluded)
    }

    @Test func lastMatchWinsWithExceptions() {
        let ignore = DockerIgnore.parse("*.md\n!README.md\nREADME*.md\n!README-keep.md\n")
        #expect(ignore.excludes("a.md"))
        #expect(ignore.excludes("README.md"))
        #expect(!ignore.excludes("README-keep.md"))
        let dir = DockerIgnore.parse("logs\n!logs/keep.txt\n")
        #expect(dir.excludes("logs/x.txt"))
        #expect(!dir.excludes("logs/keep.txt"))
        #expect(!dir.prunes("logs"))
        #expect(DockerIgnore.parse("logs\n").prunes("logs"))
    }

    @Test func contextPaths() {
        #expect(ContextSources.staysInside("a/../b"))
        #expect(!ContextSources.staysInside("a/../../b"))
        #expect(!ContextSources.staysInside("../x"))
        #expect(ContextPath.clean("/a/./b//c/") == "a/b/c")
    }

    @Test func durationsAndPorts() throws {
        #expect(try Builder.duration("1m30s", flag: "interval") == 90_000_000_000)
        #expect(try Builder.duration("500ms", flag: "interval") == 500_000_000)
        #expect(throws: BuildError.self) { try Builder.duration("5 s", flag: "interval") }
        #expect(try Builder.exposedPorts("80") == ["80/tcp"])
        #expect(try Builder.exposedPorts("53/UDP") == ["53/udp"])
        #expect(try Builder.exposedPorts("7000-7002/udp") == ["7000/udp", "7001/udp", "7002/udp"])
        #expect(throws: BuildError.self) { try Builder.exposedPorts("70000") }
        #expect(throws: BuildError.self) { try Builder.exposedPorts("90-80") }
        #expect(throws: BuildError.self) { try Builder.exposedPorts("80/icmp") }
    }

    @Test func cacheKeysDifferByEveryPart() {
        let a = BuildCache.key(parent: nil, ["RUN x", "y"])
        #expect(a == BuildCache.key(parent: nil, ["RUN x", "y"]))
        #expect(a != BuildCache.key(parent: nil, ["RUN xy"]))
        #expect(a != BuildCache.key(parent: a, ["RUN x", "y"]))
    }
}

/// COPY's sources in a real context directory (no root needed).
@Suite("Build context sources") struct ContextSourcesTests {
    @Test func globsIgnoreLinksAndTheContextsBounds() throws {
        let base = "/tmp/berth-context-test-\(getpid())"
        defer { _ = system("rm -rf '\(base)'") }
        #expect(system("mkdir -p '\(base)/ctx/sub' && cd '\(base)/ctx' && echo a > a.txt && echo b > b.txt && echo l > x.log "
                       + "&& echo s > sub/s.txt && ln -s /etc outside && ln -s a.txt alias") == 0)
        let context = ContextSources(root: base + "/ctx", ignore: DockerIgnore.parse("*.log\n"))
        #expect(try context.resolve(["*.txt"]).sorted() == ["a.txt", "b.txt"])
        #expect(try context.resolve(["*"]).sorted() == ["a.txt", "alias", "b.txt", "outside", "sub"])
        #expect(try context.resolve(["sub/../a.txt", "alias"]) == ["a.txt", "alias"])
        #expect(throws: BuildError.self) { try context.resolve(["x.log"]) }
        #expect(throws: BuildError.self) { try context.resolve(["../ctx/a.txt/../../x"]) }
        #expect(throws: BuildError.self) { try context.resolve(["outside/passwd"]) }
        #expect(throws: BuildError.self) { try context.resolve(["*.none"]) }
        #expect(context.walk("").sorted() == ["", "a.txt", "alias", "b.txt", "outside", "sub", "sub/s.txt"])

        let before = try context.digest(["a.txt", "sub"])
        #expect(system("touch -d '2001-01-01' '\(base)/ctx/a.txt'") == 0)
        #expect(try context.digest(["a.txt", "sub"]) == before, "times do not matter")
        #expect(system("echo A > '\(base)/ctx/a.txt'") == 0)
        #expect(try context.digest(["a.txt", "sub"]) != before, "bytes do")
        let contents = try context.digest(["a.txt", "sub"])
        #expect(system("chmod 600 '\(base)/ctx/sub/s.txt'") == 0)
        #expect(try context.digest(["a.txt", "sub"]) != contents, "modes do")
    }
}

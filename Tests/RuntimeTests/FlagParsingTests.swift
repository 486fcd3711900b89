#if canImport(Glibc)
import Glibc
#endif
import Testing
import Runtime

/// Docker-style flag values: `--ulimit name=soft[:hard]` and `-v /host:/container[:ro|rw]`.
@Suite("Flag parsing") struct FlagParsingTests {
    @Suite("--ulimit") struct Ulimit {
        /// RLIMIT_* from <sys/resource.h>, written out independently of the code under test.
        @Test(arguments: [
            ("nofile=1024:2048", ResourceLimit(resource: 7, soft: 1024, hard: 2048)),
            ("nofile=1024", ResourceLimit(resource: 7, soft: 1024, hard: 1024)),
            ("nproc=512", ResourceLimit(resource: 6, soft: 512, hard: 512)),
            ("core=0", ResourceLimit(resource: 4, soft: 0, hard: 0)),
            ("core=-1", ResourceLimit(resource: 4, soft: .max, hard: .max)),
            ("memlock=unlimited", ResourceLimit(resource: 8, soft: .max, hard: .max)),
            ("stack=8388608:unlimited", ResourceLimit(resource: 3, soft: 8_388_608, hard: .max)),
            ("nofile=0:-1", ResourceLimit(resource: 7, soft: 0, hard: .max)),
            ("cpu=10:10", ResourceLimit(resource: 0, soft: 10, hard: 10)),
            ("fsize=1", ResourceLimit(resource: 1, soft: 1, hard: 1)),
            ("data=1", ResourceLimit(resource: 2, soft: 1, hard: 1)),
            ("rss=1", ResourceLimit(resource: 5, soft: 1, hard: 1)),
            ("as=1", ResourceLimit(resource: 9, soft: 1, hard: 1)),
            ("locks=1", ResourceLimit(resource: 10, soft: 1, hard: 1)),
            ("sigpending=1", ResourceLimit(resource: 11, soft: 1, hard: 1)),
            ("msgqueue=1", ResourceLimit(resource: 12, soft: 1, hard: 1)),
            ("nice=1", ResourceLimit(resource: 13, soft: 1, hard: 1)),
            ("rtprio=1", ResourceLimit(resource: 14, soft: 1, hard: 1)),
            ("rttime=1", ResourceLimit(resource: 15, soft: 1, hard: 1)),
        ])
        func good(text: String, limit: ResourceLimit) throws {
            #expect(try ResourceLimit.parse(text) == limit)
        }

        @Test func resourceNumbersMatchTheKernel() throws {
            #expect(try ResourceLimit.parse("nofile=1").resource == Int32(RLIMIT_NOFILE.rawValue))
            #expect(try ResourceLimit.parse("core=1").resource == Int32(RLIMIT_CORE.rawValue))
            #expect(try ResourceLimit.parse("stack=1").resource == Int32(RLIMIT_STACK.rawValue))
            #expect(try ResourceLimit.parse("as=1").resource == Int32(RLIMIT_AS.rawValue))
        }

        static let known = "as, core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, "
            + "rtprio, rttime, sigpending, stack"

        @Test(arguments: [
            ("nofile", "use name=soft[:hard], e.g. nofile=1024:2048"),
            ("", "use name=soft[:hard], e.g. nofile=1024:2048"),
            ("nofile=", "use name=soft[:hard], e.g. nofile=1024:2048"),
            ("=1024", "use name=soft[:hard], e.g. nofile=1024:2048"),
            // Found by Fuzz/ (run-flags): a leading "=" was dropped and this read as nproc=5.
            ("=nproc=5", "use name=soft[:hard], e.g. nofile=1024:2048"),
            ("==nofile=1", "use name=soft[:hard], e.g. nofile=1024:2048"),
            ("files=1024", "unknown resource \"files\" (known: \(known))"),
            ("NOFILE=1024", "unknown resource \"NOFILE\" (known: \(known))"),
            ("nofile=abc", "\"abc\" is not a number"),
            ("nofile=-2", "\"-2\" is not a number"),
            ("nofile=1.5", "\"1.5\" is not a number"),
            ("nofile=:2048", "\"\" is not a number"),
            ("nofile=1024:", "\"\" is not a number"),
            ("nofile=1024:x", "\"x\" is not a number"),
            ("nofile=1024=2048", "\"1024=2048\" is not a number"),
            ("nofile=1:2:3", "use soft[:hard]"),
            ("nofile=2048:1024", "the soft limit is above the hard limit"),
            ("core=unlimited:0", "the soft limit is above the hard limit"),
        ])
        func bad(text: String, why: String) {
            let error = #expect(throws: RuntimeError.self) { try ResourceLimit.parse(text) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.errno == nil)
            #expect(error?.description == "invalid ulimit \"\(text)\": \(why)")
        }
    }

    @Suite("-v") struct Volume {
        /// /tmp and / exist on every host the tests run on.
        @Test(arguments: [
            ("/tmp:/data", BindMount(source: "/tmp", destination: "/data", readOnly: false)),
            ("/tmp:/data:ro", BindMount(source: "/tmp", destination: "/data", readOnly: true)),
            ("/tmp:/data:rw", BindMount(source: "/tmp", destination: "/data", readOnly: false)),
            ("/:/host:ro", BindMount(source: "/", destination: "/host", readOnly: true)),
            ("/tmp:/a/b/c", BindMount(source: "/tmp", destination: "/a/b/c", readOnly: false)),
            // "..b" is a name, not the parent directory.
            ("/tmp:/a/..b", BindMount(source: "/tmp", destination: "/a/..b", readOnly: false)),
            ("/dev/null:/etc/motd:ro", BindMount(source: "/dev/null", destination: "/etc/motd", readOnly: true)),
            // U+06DD joins the character after it: the ':' is still the separator (found by fuzzing).
            ("/tmp:/a/\u{06DD}:ro", BindMount(source: "/tmp", destination: "/a/\u{06DD}", readOnly: true)),
        ])
        func good(text: String, bind: BindMount) throws {
            #expect(try BindMount.parse(text) == bind)
        }

        @Test(arguments: [
            ("/tmp", "use /host/path:/container/path[:ro|rw]"),
            ("", "use /host/path:/container/path[:ro|rw]"),
            ("/tmp:/data:ro:extra", "use /host/path:/container/path[:ro|rw]"),
            ("tmp:/data", "the host path must be absolute"),
            (":/data", "the host path must be absolute"),
            ("./tmp:/data", "the host path must be absolute"),
            ("/tmp:data", "the container path must be absolute"),
            ("/tmp:", "the container path must be absolute"),
            ("/tmp:/a/../etc", "the container path must not contain \"..\""),
            ("/tmp:/..", "the container path must not contain \"..\""),
            ("/tmp:/data/..", "the container path must not contain \"..\""),
            ("/tmp:/a\u{06DD}/../etc", "the container path must not contain \"..\""),
            ("/tmp:/data:rx", "unknown option \"rx\" (use ro or rw)"),
            ("/tmp:/data:RO", "unknown option \"RO\" (use ro or rw)"),
            ("/tmp:/data:", "unknown option \"\" (use ro or rw)"),
        ])
        func bad(text: String, why: String) {
            let error = #expect(throws: RuntimeError.self) { try BindMount.parse(text) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.description == "invalid volume \"\(text)\": \(why)")
        }

        @Test func missingHostPathIsNotFound() {
            let text = "/nonexistent-berth-test-path/x:/data:ro"
            let error = #expect(throws: RuntimeError.self) { try BindMount.parse(text) }
            #expect(error?.code == .notFound)
            #expect(error?.errno == ENOENT)
            #expect(error?.description
                == "volume \"\(text)\": the host path /nonexistent-berth-test-path/x does not exist: no such file or directory")
        }

        @Test func syntaxIsCheckedBeforeTheHostPath() {
            // A bad option is reported even when the host path is also missing.
            let error = #expect(throws: RuntimeError.self) { try BindMount.parse("/nonexistent-berth-x:/d:bad") }
            #expect(error?.code == .invalidArgument)
            #expect(error?.description == "invalid volume \"/nonexistent-berth-x:/d:bad\": unknown option \"bad\" (use ro or rw)")
        }
    }
}

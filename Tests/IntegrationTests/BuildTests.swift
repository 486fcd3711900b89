import Foundation
import Testing

extension Containers {
    /// `berth build` end to end (issue 16) on the fixture's busybox, offline: every RUN step
    /// runs with `--network none` under the fixture's cgroup parent, in a state root of its own.
    @Suite("Build")
    struct Build {
        let fixture = Fixture.shared

        /// A state root with busybox imported, and a context directory beside it.
        struct BuildRoot {
            let store: ImageStoreRoot
            let context: String

            init(_ fixture: Fixture, files: [String: String]) throws {
                store = try ImageStoreRoot(fixture)
                let imported = try store.berth(["import", fixture.rootfs, "busybox:latest"])
                guard imported.status == 0 else { throw FixtureError(message: "import: \(imported.stderr)") }
                context = store.path + "-context"
                try write(files)
            }

            func write(_ files: [String: String]) throws {
                for (name, content) in files {
                    let file = context + "/" + name
                    try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                            withIntermediateDirectories: true)
                    try content.write(toFile: file, atomically: false, encoding: .utf8)
                }
            }

            func build(_ args: [String], stdin: String? = nil) throws -> Command.Result {
                try store.berth(["build", "--network", "none", "--cgroup-parent", store.fixture.cgroupParent, "--progress=plain"] + args,
                                stdin: stdin, timeout: 120)
            }

            func run(_ args: [String]) throws -> Command.Result {
                try store.run(["--rm", "--network", "none"] + args)
            }

            /// What must be gone after any build: containers, their mounts.
            func leftovers() throws -> String {
                let ps = try store.berth(["ps", "-a", "-q"])
                // Without the spare directories kept for the next containers (RUN steps that wrote nothing).
                let containers = Kernel.containerEntries(store.path + "/containers")
                let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
                let ours = mounts.split(separator: "\n").filter { $0.contains(store.path + "/") }
                return ps.output + containers.joined(separator: " ") + ours.joined(separator: "\n")
            }

            /// `system df`'s Build Cache TOTAL.
            func buildCacheCount() throws -> Int? {
                let df = try store.berth(["system", "df"])
                let line = df.stdout.split(separator: "\n").first { $0.hasPrefix("Build Cache ") }
                return line.flatMap { Int($0.split(separator: " ")[2]) }
            }

            func destroy() {
                store.destroy()
                try? FileManager.default.removeItem(atPath: context)
            }
        }

        static let multiStage = """
            # syntax=docker/dockerfile:1
            ARG BASE=busybox
            FROM ${BASE} AS build
            WORKDIR /src
            COPY app.txt lib/ ./
            RUN echo "built from $(cat app.txt)" > out.txt && cat lib.txt

            FROM busybox:latest
            ENV GREETING="hello there" \\
                MODE=prod
            WORKDIR /app
            COPY --from=build /src/out.txt ./
            COPY --chown=1000:1000 app.txt owned.txt
            RUN adduser -D -u 1000 app 2>/dev/null || echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd
            USER app
            CMD ["sh", "-c", "echo $GREETING $MODE; id -u; pwd; cat out.txt; stat -c %u owned.txt"]
            """

        @Test("a multi-stage build runs with its files, env, workdir and user")
        func multiStage() throws {
            let root = try BuildRoot(fixture, files: ["Dockerfile": Self.multiStage, "app.txt": "v1\n", "lib/lib.txt": "the lib\n"])
            defer { root.destroy() }
            let iid = root.context + "-iid"
            let built = try root.build(["-t", "me/app:1", "--iidfile", iid, root.context])
            try #require(built.status == 0, "\(built.stderr)")
            #expect(built.stderr.firstMatch(of: /Step 4\/\d+ : RUN echo/) != nil, "\(built.stderr)")
            #expect(built.stderr.contains(" ---> Running in ") && built.stderr.contains("Removing intermediate container "))
            #expect(built.stderr.contains("the lib"), "RUN output is streamed: \(built.stderr)")
            #expect(built.stdout.contains("Successfully tagged me/app:1"))
            let id = try String(contentsOfFile: iid, encoding: .utf8)
            #expect(id.wholeMatch(of: /sha256:[0-9a-f]{64}/) != nil)

            let ran = try root.run(["me/app:1"])
            #expect(ran.status == 0, "\(ran.stderr)")
            #expect(ran.stdout == "hello there prod\n1000\n/app\nbuilt from v1\n1000\n")
            let leftovers = try root.leftovers()
            #expect(leftovers.isEmpty, "\(leftovers)")
            let history = try root.store.berth(["history", "--no-trunc", "me/app:1"])
            #expect(history.stdout.contains("COPY --from=build /src/out.txt ./"), "\(history.stdout)")
        }

        @Test("an unchanged rebuild is all cache hits, fast, the same image; one changed file rebuilds from its COPY")
        func cache() throws {
            let root = try BuildRoot(fixture, files: ["Dockerfile": Self.multiStage, "app.txt": "v1\n", "lib/lib.txt": "lib\n"])
            defer { root.destroy() }
            let first = try root.build(["-q", "-t", "me/app:1", root.context])
            try #require(first.status == 0, "\(first.stderr)")
            let started = Date()
            let second = try root.build(["-t", "me/app:1", root.context])
            let elapsed = Date().timeIntervalSince(started)
            try #require(second.status == 0, "\(second.stderr)")
            #expect(cachedSteps(second.stderr).count == 10, "\(second.stderr)")
            #expect(!second.stderr.contains("Running in"), "no step ran: \(second.stderr)")
            #expect(elapsed < 1.0, "a cached rebuild took \(elapsed) s")
            let again = try root.build(["-q", root.context])
            #expect(again.output == first.output)

            // image prune keeps the build cache; builder prune removes it.
            let pruned = try root.store.berth(["image", "prune", "-f"])
            #expect(pruned.status == 0, "\(pruned.stderr)")
            #expect(try root.store.berth(["images", "-a", "-q"]).output.split(separator: "\n").count == 2, "busybox and the result")
            let afterPrune = try root.build(["-t", "me/app:1", root.context])
            #expect(cachedSteps(afterPrune.stderr).count == 10, "\(afterPrune.stderr)")
            #expect(try root.buildCacheCount() == 9, "one image per step that is not ARG or FROM, less the tagged result")
            let builder = try root.store.berth(["builder", "prune", "-f"])
            #expect(builder.status == 0 && builder.stdout.hasPrefix("Deleted build cache objects: "), "\(builder.stdout) \(builder.stderr)")
            #expect(try root.buildCacheCount() == 0)
            let afterBuilderPrune = try root.build(["-t", "me/app:1", root.context])
            #expect(afterBuilderPrune.stderr.contains("Step 3/") && cachedSteps(afterBuilderPrune.stderr).isEmpty, "\(afterBuilderPrune.stderr)")
            #expect(try root.run(["me/app:1"]).stdout.hasPrefix("hello there prod\n"))

            // lib/lib.txt feeds only the first stage's COPY: everything from there on runs again.
            try root.write(["lib/lib.txt": "lib 2\n"])
            let third = try root.build(["-t", "me/app:1", root.context])
            try #require(third.status == 0, "\(third.stderr)")
            #expect(cachedSteps(third.stderr).contains(2), "WORKDIR before the COPY is cached: \(third.stderr)")
            #expect(!cachedSteps(third.stderr).contains(3), "the COPY of the changed file runs: \(third.stderr)")
            #expect(cachedSteps(third.stderr).contains(7), "the second stage's steps before COPY --from: \(third.stderr)")
            #expect(!cachedSteps(third.stderr).contains(8), "COPY --from of a rebuilt stage: \(third.stderr)")
            #expect(third.stderr.contains("lib 2"))

            let none = try root.build(["--no-cache", "-t", "me/app:1", root.context])
            #expect(none.status == 0)
            #expect(!none.stderr.contains("Using cache"), "\(none.stderr)")
            #expect(try root.leftovers().isEmpty)
        }

        @Test(".dockerignore keeps files out of COPY, with exceptions")
        func dockerignore() throws {
            let root = try BuildRoot(fixture, files: [
                "Dockerfile": "FROM busybox\nCOPY . /ctx/\nCMD [\"sh\", \"-c\", \"cd /ctx && find . -type f | sort\"]\n",
                ".dockerignore": "*.log\n!keep.log\nsecrets/\n", "a.txt": "a", "drop.log": "x", "keep.log": "k",
                "secrets/key": "s", "sub/b.txt": "b",
            ])
            defer { root.destroy() }
            let built = try root.build(["-t", "ctx:1", root.context])
            try #require(built.status == 0, "\(built.stderr)")
            let ran = try root.run(["ctx:1"])
            #expect(ran.stdout == "./.dockerignore\n./Dockerfile\n./a.txt\n./keep.log\n./sub/b.txt\n", "\(ran.stdout)")
            try root.write(["Dockerfile": "FROM busybox\nCOPY drop.log /\n"])
            // A Dockerfile's own ignore file comes first.
            try root.write(["deploy/Dockerfile": "FROM busybox\nCOPY . /ctx/\n", "deploy/Dockerfile.dockerignore": "*.txt\nsub\ndeploy\n"])
            let own = try root.build(["-f", root.context + "/deploy/Dockerfile", "-t", "own:1", root.context])
            try #require(own.status == 0, "\(own.stderr)")
            let listed = try root.run(["own:1", "sh", "-c", "cd /ctx && find . -type f | sort"])
            #expect(listed.stdout == "./.dockerignore\n./Dockerfile\n./drop.log\n./keep.log\n./secrets/key\n", "\(listed.stdout)")
            let refused = try root.build([root.context])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("Dockerfile:2: COPY drop.log is not in the build context (or .dockerignore excludes it)"),
                    "\(refused.stderr)")
        }

        @Test("COPY into a directory that is a link in the image writes through it and keeps the link; ADD unpacks a tar")
        func copyThroughLinks() throws {
            let root = try BuildRoot(fixture, files: ["a.txt": "a\n", "tree/d/f.txt": "f\n"])
            defer { root.destroy() }
            let tar = try Command.run("/bin/tar", ["-czf", root.context + "/tree.tar.gz", "-C", root.context + "/tree", "d"])
            try #require(tar.status == 0)
            try root.write(["Dockerfile": """
                FROM busybox
                RUN mkdir -p /usr/lib/real && ln -s /usr/lib/real /libx
                COPY a.txt /libx/
                COPY --chmod=600 a.txt /libx/nested/b.txt
                ADD tree.tar.gz /opt/
                CMD ["sh", "-c", "readlink /libx; ls /usr/lib/real; stat -c %a /usr/lib/real/nested/b.txt; cat /opt/d/f.txt"]
                """])
            let built = try root.build(["-t", "links:1", root.context])
            try #require(built.status == 0, "\(built.stderr)")
            #expect(try root.run(["links:1"]).stdout == "/usr/lib/real\na.txt\nnested\n600\nf\n")
        }

        @Test("a failing RUN says its step and exit code and leaves no image, tag or container")
        func failingRun() throws {
            let root = try BuildRoot(fixture, files: ["Dockerfile": "FROM busybox\nRUN echo first\nRUN echo oops; exit 3\nCMD [\"true\"]\n"])
            defer { root.destroy() }
            let before = try root.store.berth(["images", "-a", "-q"]).output
            let built = try root.build(["-t", "bad:1", root.context])
            #expect(built.status == 1)
            #expect(built.stderr.contains("berth: Dockerfile:3: RUN failed: process \"/bin/sh -c echo oops; exit 3\" did not complete "
                                          + "successfully: exit code 3"), "\(built.stderr)")
            #expect(built.stderr.contains("oops"))
            #expect(try root.store.berth(["images", "-q", "bad"]).output.isEmpty)
            let leftovers = try root.leftovers()
            #expect(leftovers.isEmpty, "\(leftovers)")
            // No image is left to list; the step that worked is kept as build cache only.
            #expect(try root.store.berth(["images", "-a", "-q"]).output == before)
            let entries = try FileManager.default.contentsOfDirectory(atPath: root.store.path + "/build-cache")
            #expect(entries.count == 1, "\(entries)")
            let again = try root.build(["-t", "bad:1", root.context])
            #expect(cachedSteps(again.stderr).contains(2), "\(again.stderr)")
        }

        @Test("a build killed during a RUN leaves a container the next build removes")
        func killedBuild() throws {
            let root = try BuildRoot(fixture, files: ["Dockerfile": "FROM busybox\nRUN sleep 30\n"])
            defer { root.destroy() }
            let args = ["--root", root.store.path, "build", "--network", "none", "--cgroup-parent", fixture.cgroupParent, root.context]
            let build = Process()
            build.executableURL = URL(fileURLWithPath: fixture.berth)
            build.arguments = args
            build.standardOutput = FileHandle.nullDevice
            build.standardError = FileHandle.nullDevice
            try build.run()
            // Until the step's container exists (10 s at most), then the builder dies at once.
            var waited = 0
            while waited < 100, (try root.store.berth(["ps", "-a", "-q"])).output.isEmpty {
                usleep(100_000)
                waited += 1
            }
            #expect(!(try root.store.berth(["ps", "-a", "-q"])).output.isEmpty, "the RUN step's container was never made")
            kill(build.processIdentifier, SIGKILL)
            build.waitUntilExit()
            try root.write(["Dockerfile": "FROM busybox\nCMD [\"true\"]\n"])
            let next = try root.build([root.context])
            #expect(next.status == 0, "\(next.stderr)")
            let leftovers = try root.leftovers()
            #expect(leftovers.isEmpty, "\(leftovers)")
        }

        @Test("a Ctrl-C during a RUN stops the build at that step and leaves nothing")
        func interruptedBuild() throws {
            let root = try BuildRoot(fixture, files: ["Dockerfile": "FROM busybox\nRUN echo start; sleep 3; echo end\nRUN echo after\n"])
            defer { root.destroy() }
            let errors = root.context + "-stderr"
            _ = FileManager.default.createFile(atPath: errors, contents: nil)
            let build = Process()
            build.executableURL = URL(fileURLWithPath: fixture.berth)
            build.arguments = ["--root", root.store.path, "build", "--network", "none", "--cgroup-parent", fixture.cgroupParent, root.context]
            build.standardOutput = FileHandle.nullDevice
            build.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
            try build.run()
            // Once the step's command runs (10 s at most).
            var waited = 0
            while waited < 100, !((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "").contains("start\n") {
                usleep(100_000)
                waited += 1
            }
            kill(build.processIdentifier, SIGINT)
            build.waitUntilExit()
            let stderr = try String(contentsOfFile: errors, encoding: .utf8)
            #expect(build.terminationStatus == 130, "128 + SIGINT, as Docker's")
            #expect(stderr.contains("Dockerfile:2: RUN was interrupted (SIGINT)"), "\(stderr)")
            #expect(!stderr.contains("\nend\n"), "\(stderr)")
            #expect(!stderr.contains("#3 "), "\(stderr)")
            let leftovers = try root.leftovers()
            #expect(leftovers.isEmpty, "\(leftovers)")
        }

        /// A debootstrap root's /etc/resolv.conf is empty: a RUN on the host's network reads the
        /// host's name files, as Docker's does, or `apt-get update` cannot resolve the mirror.
        @Test("RUN --network host reads the host's /etc/resolv.conf and /etc/hosts, not the image's")
        func hostNetworkNameFiles() throws {
            let root = try BuildRoot(fixture, files: ["Dockerfile": """
                FROM busybox
                RUN cat /etc/resolv.conf /etc/hosts > /names
                CMD ["cat", "/names"]
                """])
            defer { root.destroy() }
            let built = try root.store.berth(["build", "--network", "host", "--cgroup-parent", fixture.cgroupParent, "-t", "names:1",
                                              root.context], timeout: 120)
            try #require(built.status == 0, "\(built.stderr)")
            let expected = try String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8) + String(contentsOfFile: "/etc/hosts", encoding: .utf8)
            #expect(try root.run(["names:1"]).stdout == expected)
            #expect(try root.leftovers().isEmpty)
        }

        @Test("HEALTHCHECK, EXPOSE, VOLUME, LABEL, STOPSIGNAL, ENTRYPOINT and --label in berth inspect")
        func configInInspect() throws {
            let root = try BuildRoot(fixture, files: ["Dockerfile": """
                FROM busybox
                EXPOSE 8080 53/udp
                VOLUME /data
                RUN echo discarded > /data/file
                SHELL ["/bin/sh", "-xc"]
                RUN echo traced
                LABEL org.example.name="the app" version=1
                STOPSIGNAL SIGINT
                HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD wget -q -O- http://localhost:8080/ || exit 1
                ENTRYPOINT ["/bin/echo"]
                CMD ["hi"]
                """])
            defer { root.destroy() }
            let built = try root.build(["-t", "cfg:1", "--label", "extra=yes", root.context])
            try #require(built.status == 0, "\(built.stderr)")
            let inspected = try root.store.berth(["inspect", "cfg:1"])
            let object = try #require((try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [[String: Any]])?.first)
            let config = try #require(object["Config"] as? [String: Any])
            #expect((config["ExposedPorts"] as? [String: Any])?.keys.sorted() == ["53/udp", "8080/tcp"])
            #expect((config["Volumes"] as? [String: Any])?.keys.sorted() == ["/data"])
            #expect(config["Labels"] as? [String: String] == ["org.example.name": "the app", "version": "1", "extra": "yes"])
            #expect(config["StopSignal"] as? String == "SIGINT")
            #expect(config["Entrypoint"] as? [String] == ["/bin/echo"])
            #expect(config["Cmd"] as? [String] == ["hi"])
            #expect(config["Shell"] as? [String] == ["/bin/sh", "-xc"])
            #expect(built.stderr.contains("+ echo traced"), "RUN used the SHELL: \(built.stderr)")
            let health = try #require(config["Healthcheck"] as? [String: Any])
            #expect(health["Test"] as? [String] == ["CMD-SHELL", "wget -q -O- http://localhost:8080/ || exit 1"])
            #expect(health["Interval"] as? Int == 5_000_000_000)
            #expect(health["Timeout"] as? Int == 2_000_000_000)
            #expect(health["Retries"] as? Int == 4)
            #expect(try root.run(["cfg:1"]).stdout == "hi\n")
            #expect(try root.run(["--entrypoint", "ls", "cfg:1", "/data"]).stdout == "", "a RUN's writes under a VOLUME are dropped")
            #expect(try root.store.berth(["volume", "ls", "-q"]).output.isEmpty, "the RUN step's anonymous volume is removed")
            let leftovers = try root.leftovers()
            #expect(leftovers.isEmpty, "\(leftovers)")
        }

        @Test("heredocs, ARG and --build-arg, ONBUILD, a Dockerfile from stdin")
        func heredocsArgsOnbuild() throws {
            let root = try BuildRoot(fixture, files: [:])
            defer { root.destroy() }
            let base = """
                FROM busybox
                ARG WHO=nobody
                ENV LEVEL=base
                RUN <<EOF
                echo "script for $WHO" > /who
                echo second line >> /who
                EOF
                COPY <<-CONF /etc/app.conf
                \tlevel=${LEVEL}
                \tCONF
                ONBUILD RUN echo triggered > /trigger
                """
            let built = try root.build(["-t", "base:1", "--build-arg", "WHO=ada", "-"], stdin: base)
            try #require(built.status == 0, "\(built.stderr)")
            #expect(try root.run(["base:1", "cat", "/who", "/etc/app.conf"]).stdout == "script for ada\nsecond line\nlevel=base\n")
            #expect(try root.run(["base:1", "ls", "/trigger"]).status != 0, "the trigger runs only in a child build")
            let child = try root.build(["-t", "child:1", "-"], stdin: "FROM base:1\nRUN cat /trigger\n")
            try #require(child.status == 0, "\(child.stderr)")
            #expect(try root.run(["child:1", "cat", "/trigger"]).stdout == "triggered\n")
            let other = try root.build(["-", "--build-arg", "WHO=bob"], stdin: base)
            #expect(!cachedSteps(other.stderr).contains(4), "a changed ARG misses the RUN that sees it: \(other.stderr)")
            #expect(try root.leftovers().isEmpty)
        }
    }
}

/// The numbers of the steps a build's output reports as cache hits: a `Step N/M : ...` line
/// followed by ` ---> Using cache`, as Docker's builder prints them.
func cachedSteps(_ output: String) -> Set<Int> {
    var step: Int?
    var cached = Set<Int>()
    for line in output.split(separator: "\n") {
        if line.hasPrefix("Step "), let number = line.dropFirst(5).split(separator: "/").first.flatMap({ Int($0) }) {
            step = number
        } else if line == " ---> Using cache", let step {
            cached.insert(step)
        }
    }
    return cached
}

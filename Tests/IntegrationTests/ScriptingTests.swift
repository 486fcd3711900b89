import Foundation
import Testing

/// The scripting flags of issue 14: `ps --filter`, `images --filter`, `--label`/`--label-file`
/// and `--env-file` on run and create.
extension Containers {
    @Suite("Scripting")
    struct Scripting {
        let fixture = Fixture.shared

        /// `ps -a -q --no-trunc` with `filters`: the ids, as a set.
        func ps(_ root: LifecycleRoot, _ filters: [String], all: Bool = true) throws -> Set<String> {
            let args = ["ps", "-q", "--no-trunc"] + (all ? ["-a"] : []) + filters.flatMap { ["--filter", $0] }
            let r = try root.berth(args)
            guard r.status == 0 else { throw FixtureError(message: "ps \(filters): \(r.stderr)") }
            return Set(r.stdout.split(separator: "\n").map(String.init))
        }

        @Test("ps --filter: status, name, label, ancestor, id, exited, alone and together")
        func psFilters() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let labelFile = root.path + "/labels"
            try "# tiers\ntier=db\nbackup\n".write(toFile: labelFile, atomically: false, encoding: .utf8)
            let web = try root.runDetached(["--name", "flt-web", "--label", "tier=web"], ["true"])
            let db = try root.runDetached(["--name", "flt-db", "--label-file", labelFile], ["sh", "-c", "exit 3"])
            #expect(try root.waitForExit("flt-web") == "0" && root.waitForExit("flt-db") == "3")
            let live = try root.runDetached(["--name", "live-web", "-l", "tier=web", "-l", "owner=me"], ["sleep", "1000"])

            let table: [([String], Set<String>)] = [
                ([], [web, db, live]),
                (["status=exited"], [web, db]),
                (["status=running"], [live]),
                (["status=exited", "status=running"], [web, db, live]),
                (["name=flt"], [web, db]),
                (["name=web"], [web, live]),
                (["label=tier"], [web, db, live]),
                (["label=tier=web"], [web, live]),
                (["label=backup"], [db]),
                (["label=tier=web", "status=running"], [live]),
                (["exited=3"], [db]),
                (["exited=0"], [web]),
                (["id=\(web.prefix(10))"], [web]),
                (["ancestor=busybox"], [web, db, live]),
                (["ancestor=\(LifecycleRoot.image)"], [web, db, live]),
                (["ancestor=alpine"], []),
                (["name=nothing-like-it"], []),
            ]
            for (filters, expected) in table {
                #expect(try ps(root, filters) == expected, "ps --filter \(filters)")
            }
            // A status filter lists stopped containers without -a, as Docker does.
            #expect(try ps(root, ["status=exited"], all: false) == [web, db])
            #expect(try ps(root, [], all: false) == [live])

            let labels = try root.inspect("flt-db")["Config"] as? [String: Any]
            #expect(labels?["Labels"] as? [String: String] == ["tier": "db", "backup": ""], "\(String(describing: labels?["Labels"]))")

            for (bad, message) in [
                ("colour=red", "berth: unknown filter \"colour\": use one of status, name, label, ancestor, id, exited\n"),
                ("status=sleeping", "berth: unknown status \"sleeping\" in filter: use one of "
                    + "created, restarting, running, removing, paused, exited, dead\n"),
                ("exited=x", "berth: filter exited=x: give an exit code\n"),
                ("name", "berth: bad filter \"name\": give KEY=VALUE (keys: status, name, label, ancestor, id, exited)\n"),
            ] {
                let r = try root.berth(["ps", "--filter", bad])
                #expect(r.status == 125 && r.stderr == message, "\(bad): \(r.stderr)")
            }
        }

        @Test("images --filter: reference patterns, dangling, label")
        func imageFilters() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            #expect(try root.berth(["tag", LifecycleRoot.image, "other:2"]).status == 0)
            func repositories(_ filters: [String]) throws -> [String] {
                let r = try root.berth(["images", "--format", "json"] + filters.flatMap { ["--filter", $0] })
                guard r.status == 0 else { throw FixtureError(message: "images \(filters): \(r.stderr)") }
                return r.stdout.split(separator: "\n").compactMap { line in
                    let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                    return object?["Repository"] as? String
                }.sorted()
            }
            #expect(try repositories([]) == ["busybox", "other"])
            #expect(try repositories(["reference=busy*"]) == ["busybox"])
            #expect(try repositories(["reference=other:2"]) == ["other"])
            #expect(try repositories(["reference=busybox", "reference=other"]) == ["busybox", "other"])
            #expect(try repositories(["dangling=false"]) == ["busybox", "other"])
            #expect(try repositories(["dangling=true"]) == [])
            #expect(try repositories(["label=maintainer"]) == [])
            let bad = try root.berth(["images", "--filter", "size=1"])
            #expect(bad.status == 125 && bad.stderr == "berth: unknown filter \"size\": use one of dangling, reference, label\n")
        }

        @Test("logs --since and --until: by the entries' own times, by durations, and a bad bound refused")
        func logsSinceUntil() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "talker"], ["sh", "-c", "echo early; sleep 1; echo late"])
            #expect(try root.waitForExit("talker") == "0")
            let stamped = try root.berth(["logs", "-t", "talker"])
            let lines = stamped.stdout.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1).map(String.init) }
            try #require(lines.count == 2 && lines.allSatisfy { $0.count == 2 }, "\(stamped.stdout)")
            let (early, late) = (lines[0][0], lines[1][0])
            #expect(try root.berth(["logs", "--since", late, "talker"]).stdout == "late\n")
            #expect(try root.berth(["logs", "--until", early, "talker"]).stdout == "early\n")
            #expect(try root.berth(["logs", "--since", early, "--until", late, "talker"]).stdout == "early\nlate\n")
            #expect(try root.berth(["logs", "--since", "1h", "talker"]).stdout == "early\nlate\n")
            #expect(try root.berth(["logs", "--until", "1h", "talker"]).stdout == "")
            let bad = try root.berth(["logs", "--since", "yesterday", "talker"])
            #expect(bad.status == 125 && bad.stderr.hasPrefix("berth: --since \"yesterday\": give a duration"), "\(bad.stderr)")
        }

        @Test("--env-file: NAME=value as written, NAME from berth's environment, comments skipped; -e wins")
        func envFile() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let file = root.path + "/env"
            try "# settings\nA=from file\n\n  B=two  words\nPATH_FROM_HOST\nC=file\n".write(toFile: file, atomically: false, encoding: .utf8)
            let shell = "echo \"[$A][$B][$C][$PATH_FROM_HOST]\""
            let r = try Command.run("/usr/bin/env", [
                "PATH_FROM_HOST=passed", fixture.berth, "--root", root.path, "run", "--rm", "--network", "none",
                "--cgroup-parent", fixture.cgroupParent, "--env-file", file, "-e", "C=flag", LifecycleRoot.image, "sh", "-c", shell,
            ])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout == "[from file][two  words][flag][passed]\n", "\(r.stdout)")

            let missing = try root.berth(["create", "--env-file", root.path + "/none", LifecycleRoot.image])
            #expect(missing.status == 125 && missing.stderr.hasPrefix("berth: cannot read \(root.path)/none: "), "\(missing.stderr)")
            try "=x\n".write(toFile: file, atomically: false, encoding: .utf8)
            let bad = try root.berth(["create", "--env-file", file, LifecycleRoot.image])
            #expect(bad.status == 125 && bad.stderr == "berth: \(file) line 1: no variable name before \"=\"\n", "\(bad.stderr)")
            #expect(try ps(root, []).isEmpty, "a refused create made a container")
        }
    }
}

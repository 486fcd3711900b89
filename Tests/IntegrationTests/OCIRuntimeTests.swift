import Foundation
import Testing

extension Containers {
    /// berth-oci, the runc-compatible runtime (issue 18), driven as containerd and podman drive
    /// runc: the create/start/state/kill/delete state machine on the busybox root, hooks with
    /// their stdin state, a network namespace joined by path, and the spec's resources in the
    /// cgroup files.
    @Suite("OCIRuntime")
    struct OCI {
        let fixture = Fixture.shared

        @Test("create holds the process before its command; start runs it; state follows; kill and delete end it")
        func stateMachine() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            try world.writeSpec(id: "sm", args: ["sh", "-c", "echo started; exec sleep 100"])
            let pidFile = world.directory + "/sm.pid"
            let created = try world.create("sm", ["--pid-file", pidFile])
            #expect(created.status == 0, "create failed: \(created.stderr)")
            let state = try #require(try world.state("sm"))
            #expect(state["status"] as? String == "created")
            #expect(state["id"] as? String == "sm")
            #expect(state["ociVersion"] as? String == "1.2.0")
            #expect(state["bundle"] as? String == URL(fileURLWithPath: world.bundle).resolvingSymlinksInPath().path)
            let pid = try #require(state["pid"] as? Int)
            // Written before create returned.
            let written = try String(contentsOfFile: pidFile, encoding: .utf8)
            #expect(written == "\(pid)")
            #expect(Kernel.isAlive(Int32(pid)))
            // In its cgroup already, its command not yet run.
            let cgroups = Kernel.read("/proc/\(pid)/cgroup") ?? ""
            #expect(cgroups.contains(world.cgroupsPath("sm")), "not in its cgroup: \(cgroups)")
            #expect(!world.output(of: "sm").contains("started"))
            #expect(try world.oci(["start", "sm"]).status == 0)
            #expect(eventually { world.output(of: "sm").contains("started") })
            #expect(try world.status("sm") == "running")
            #expect(try world.state("sm")?["pid"] as? Int == pid)
            // A second start is refused.
            let again = try world.oci(["start", "sm"])
            #expect(again.status != 0 && again.stderr.contains("not created"))
            // delete of a running container needs --force.
            let refused = try world.oci(["delete", "sm"])
            #expect(refused.status != 0 && refused.stderr.contains("is running"))
            #expect(try world.oci(["kill", "sm", "KILL"]).status == 0)
            #expect(try eventually { try world.status("sm") == "stopped" })
            #expect(try world.state("sm")?["pid"] as? Int == 0)
            #expect(try world.oci(["delete", "sm"]).status == 0)
            #expect(try world.state("sm") == nil)
            #expect(!FileManager.default.fileExists(atPath: world.root + "/sm"))
            #expect(!FileManager.default.fileExists(atPath: world.cgroupDirectory("sm", controller: "pids")))
        }

        @Test("kill works on a created container, and delete of a created one removes its process, cgroup and state")
        func createdContainers() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            try world.writeSpec(id: "k", args: ["sh", "-c", "echo ran"])
            #expect(try world.create("k").status == 0)
            let pid = try #require(try world.state("k")?["pid"] as? Int)
            #expect(try world.oci(["kill", "k", "SIGKILL"]).status == 0)
            #expect(eventually { !Kernel.isAlive(Int32(pid)) })
            #expect(try world.status("k") == "stopped")
            #expect(try world.oci(["delete", "k"]).status == 0)
            #expect(!world.output(of: "k").contains("ran"), "the command ran without a start")

            try world.writeSpec(id: "d", args: ["sh", "-c", "echo ran"])
            #expect(try world.create("d").status == 0)
            let held = try #require(try world.state("d")?["pid"] as? Int)
            let cgroup = world.cgroupDirectory("d", controller: "pids")
            #expect(FileManager.default.fileExists(atPath: cgroup))
            let deleted = try world.oci(["delete", "d"])
            #expect(deleted.status == 0, "delete of a created container failed: \(deleted.stderr)")
            #expect(eventually { !Kernel.isAlive(Int32(held)) })
            #expect(!FileManager.default.fileExists(atPath: cgroup))
            #expect(!FileManager.default.fileExists(atPath: world.root + "/d"))
            #expect(!world.output(of: "d").contains("ran"))
        }

        @Test("run waits and passes the exit status through; list shows containers as a table and as JSON")
        func runAndList() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            try world.writeSpec(id: "r", args: ["sh", "-c", "echo in $(hostname); exit 7"])
            let ran = try world.create("r", command: "run")
            #expect(ran.status == 7)
            #expect(world.output(of: "r").contains("in berth-oci"))
            #expect(try world.state("r") == nil, "run left the container behind")

            try world.writeSpec(id: "l", args: ["sleep", "100"])
            #expect(try world.create("l").status == 0)
            let table = try world.oci(["list"])
            #expect(table.stdout.hasPrefix("ID"))
            #expect(table.stdout.contains("l ") && table.stdout.contains("created"))
            let json = try world.oci(["list", "--format", "json"])
            let items = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
            #expect(items?.count == 1)
            #expect(items?.first?["id"] as? String == "l")
            #expect(items?.first?["status"] as? String == "created")
        }

        @Test("run forwards the signals it gets to the container's process, even SIGTERM that its parent ignored")
        func runForwardsSignals() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            try world.writeSpec(id: "sig", args: ["sh", "-c", "trap 'echo got USR1' USR1; trap 'echo got TERM; exit 9' TERM; "
                                                  + "echo ready; while :; do sleep 0.1; done"])
            // The test process ignores SIGTERM, and so does this child at first: berth-oci must
            // take it anyway, as runc does.
            let out = world.directory + "/sig.out"
            let run = Process()
            run.executableURL = URL(fileURLWithPath: "/bin/sh")
            run.arguments = ["-c", "exec \"$0\" \"$@\" < /dev/null > '\(out)' 2>&1", world.berthOCI, "--root", world.root,
                             "run", "--bundle", world.bundle, "sig"]
            try run.run()
            defer { if run.isRunning { kill(run.processIdentifier, SIGKILL) } }
            #expect(eventually(within: 20) { world.output(of: "sig").contains("ready") })
            kill(run.processIdentifier, SIGUSR1)
            #expect(eventually(within: 20) { world.output(of: "sig").contains("got USR1") })
            #expect(run.isRunning, "SIGUSR1 ended berth-oci instead of reaching the container")
            kill(run.processIdentifier, SIGTERM)
            #expect(eventually(within: 20) { !run.isRunning })
            run.waitUntilExit()
            #expect(run.terminationStatus == 9)
            #expect(world.output(of: "sig").contains("got TERM"))
            #expect(try world.state("sig") == nil, "run left the container behind")
        }

        @Test("hooks get the state on stdin: prestart while creating, poststart running, poststop stopped")
        func hooks() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            func hook(_ name: String) -> [String: Any] {
                ["path": "/bin/sh", "args": ["sh", "-c", "cat > '\(world.directory)/\(name).json'"], "timeout": 10]
            }
            func read(_ name: String) throws -> [String: Any]? {
                let data = try Data(contentsOf: URL(fileURLWithPath: world.directory + "/\(name).json"))
                return try JSONSerialization.jsonObject(with: data) as? [String: Any]
            }
            try world.writeSpec(id: "h", args: ["sleep", "100"]) { spec in
                spec["hooks"] = ["prestart": [hook("prestart")], "createRuntime": [hook("createRuntime")],
                                 "poststart": [hook("poststart")], "poststop": [hook("poststop")]]
            }
            #expect(try world.create("h").status == 0)
            let pid = try #require(try world.state("h")?["pid"] as? Int)
            for name in ["prestart", "createRuntime"] {
                let state = try read(name)
                #expect(state?["status"] as? String == "creating", "\(name)")
                #expect(state?["pid"] as? Int == pid, "\(name)")
                #expect(state?["id"] as? String == "h")
            }
            #expect(try world.oci(["start", "h"]).status == 0)
            #expect(try read("poststart")?["status"] as? String == "running")
            #expect(try world.oci(["delete", "--force", "h"]).status == 0)
            #expect(try read("poststop")?["status"] as? String == "stopped")

            // A failing hook fails create, and nothing is left of the container.
            try world.writeSpec(id: "f", args: ["sleep", "100"]) { spec in
                spec["hooks"] = ["createRuntime": [["path": "/bin/false"]]]
            }
            let failed = try world.create("f")
            #expect(failed.status != 0 && failed.stderr.contains("createRuntime hook"))
            #expect(!FileManager.default.fileExists(atPath: world.root + "/f"))
            #expect(!FileManager.default.fileExists(atPath: world.cgroupDirectory("f", controller: "pids")))
        }

        @Test("createContainer runs in the container's mount namespace before pivot_root, startContainer in the container before its command")
        func containerHooks() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            // A host path that the busybox root does not have: found only in the runtime's view.
            let script = world.directory + "/create-container.sh"
            let rootfs = URL(fileURLWithPath: fixture.rootfs).resolvingSymlinksInPath().path
            try """
                #!/bin/sh
                cat > '\(world.directory)/cc.json'
                readlink /proc/self/ns/mnt > '\(world.directory)/cc.mnt'
                awk '$5 == "\(rootfs)/proc"' /proc/self/mountinfo | wc -l > '\(world.directory)/cc.proc'
                """.write(toFile: script, atomically: true, encoding: .utf8)
            chmod(script, 0o755)
            // /bin/busybox run as "sh": its argv[0] is not its path. Inside the container, /dev/shm is writable.
            let start: [String: Any] = ["path": "/bin/busybox", "timeout": 10, "args": [
                "sh", "-c", "cat > /dev/shm/sc.json; readlink /proc/self/exe > /dev/shm/sc.exe; readlink /proc/self/ns/mnt > /dev/shm/sc.mnt",
            ]]
            try world.writeSpec(id: "ch", args: ["sh", "-c", "cat /dev/shm/sc.exe; exec sleep 100"]) { spec in
                spec["hooks"] = ["createContainer": [["path": script, "timeout": 10]], "startContainer": [start]]
            }
            let created = try world.create("ch")
            #expect(created.status == 0, "\(created.stderr)")
            let pid = try #require(try world.state("ch")?["pid"] as? Int)
            let containerNamespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/mnt")
            func json(_ path: String) throws -> [String: Any]? {
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
            }
            let createState = try json(world.directory + "/cc.json")
            #expect(createState?["status"] as? String == "creating")
            #expect(createState?["pid"] as? Int == pid)
            #expect(createState?["id"] as? String == "ch")
            #expect(Kernel.read(world.directory + "/cc.mnt") == containerNamespace + "\n")
            // The container's /proc was mounted (below its root, not yet pivoted) when the hook ran.
            #expect(Kernel.read(world.directory + "/cc.proc")?.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
            #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid)/root/dev/shm/sc.json"), "startContainer ran at create")

            #expect(try world.oci(["start", "ch"]).status == 0)
            let shm = "/proc/\(pid)/root/dev/shm/"
            let startState = try json(shm + "sc.json")
            #expect(startState?["status"] as? String == "created")
            #expect(startState?["pid"] as? Int == pid)
            #expect(Kernel.read(shm + "sc.exe") == "/bin/busybox\n")
            #expect(Kernel.read(shm + "sc.mnt") == containerNamespace + "\n")
            // The hook had run when the command started.
            #expect(eventually { world.output(of: "ch").contains("/bin/busybox") }, "\(world.output(of: "ch"))")
        }

        @Test("a createContainer or startContainer hook that fails or passes its timeout fails create or start, leaving nothing behind")
        func failingContainerHooks() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            for (id, hook, expected) in [
                ("exit", ["path": "/bin/sh", "args": ["sh", "-c", "exit 3"]], "createContainer hook /bin/sh failed (exit status 3)"),
                ("slow", ["path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1] as [String: Any],
                 "createContainer hook /bin/sleep did not finish within its timeout"),
                ("missing", ["path": "/nonexistent/hook"], "cannot run the createContainer hook /nonexistent/hook"),
            ] {
                try world.writeSpec(id: id, args: ["sh", "-c", "echo ran"]) { spec in spec["hooks"] = ["createContainer": [hook]] }
                let failed = try world.create(id)
                #expect(failed.status == 1 && failed.stderr.contains(expected), "\(id): \(failed.stderr)")
                #expect(!FileManager.default.fileExists(atPath: world.root + "/" + id))
                #expect(!FileManager.default.fileExists(atPath: world.cgroupDirectory(id, controller: "pids")))
                #expect(!world.output(of: id).contains("ran"))
            }

            try world.writeSpec(id: "sc", args: ["sh", "-c", "echo ran; exec sleep 100"]) { spec in
                spec["hooks"] = ["startContainer": [["path": "/bin/busybox", "args": ["sh", "-c", "exit 4"]]]]
            }
            #expect(try world.create("sc").status == 0)
            let pid = try #require(try world.state("sc")?["pid"] as? Int)
            let started = try world.oci(["start", "sc"])
            #expect(started.status == 1 && started.stderr.contains("startContainer hook /bin/busybox failed (exit status 4)"),
                    "\(started.stderr)")
            // The spec's rule: the container is stopped, its command never run; delete removes the rest.
            #expect(eventually { !Kernel.isAlive(Int32(pid)) })
            #expect(try world.status("sc") == "stopped")
            #expect(!world.output(of: "sc").contains("ran"))
            #expect(try world.oci(["delete", "sc"]).status == 0)
            #expect(!FileManager.default.fileExists(atPath: world.cgroupDirectory("sc", controller: "pids")))
        }

        @Test("a network namespace given by path is joined, as containerd and CNI give it; exec enters it too")
        func networkNamespaceByPath() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            // A stand-in for CNI's namespace: a process of its own holds it.
            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
            holder.arguments = ["--net", "--", "sleep", "60"]
            try holder.run()
            // SIGKILL: a signal mask the test process blocks is the holder's too.
            defer { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() }
            let namespace = "/proc/\(holder.processIdentifier)/ns/net"
            #expect(eventually {
                (try? FileManager.default.destinationOfSymbolicLink(atPath: namespace))
                    != (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net"))
            })
            let expected = try FileManager.default.destinationOfSymbolicLink(atPath: namespace)
            try world.writeSpec(id: "n", args: ["sh", "-c", "readlink /proc/self/ns/net; exec sleep 100"]) { spec in
                var linux = spec["linux"] as? [String: Any] ?? [:]
                linux["namespaces"] = ["pid", "ipc", "uts", "mount"].map { ["type": $0] }
                    + [["type": "network", "path": namespace]]
                spec["linux"] = linux
            }
            #expect(try world.create("n").status == 0)
            #expect(try world.oci(["start", "n"]).status == 0)
            #expect(eventually { world.output(of: "n").contains(expected) }, "\(world.output(of: "n"))")
            let exec = try world.oci(["exec", "n", "readlink", "/proc/self/ns/net"])
            #expect(exec.status == 0, "\(exec.stderr)")
            #expect(exec.output == expected)
        }

        @Test("the spec's memory, pids and cpu limits are in the cgroup files; update changes them")
        func resources() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            try world.writeSpec(id: "res", args: ["sleep", "100"]) { spec in
                var linux = spec["linux"] as? [String: Any] ?? [:]
                var resources = linux["resources"] as? [String: Any] ?? [:]
                resources["memory"] = ["limit": 64 << 20]
                resources["pids"] = ["limit": 42]
                resources["cpu"] = ["quota": 50_000, "period": 100_000, "shares": 512]
                linux["resources"] = resources
                spec["linux"] = linux
            }
            #expect(try world.create("res").status == 0)
            func file(_ controller: String, _ v1: String, _ v2: String) -> String {
                (Kernel.read(world.cgroupDirectory("res", controller: controller) + "/" + (Host.isCgroupV2 ? v2 : v1)) ?? "")
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            #expect(file("memory", "memory.limit_in_bytes", "memory.max") == "\(64 << 20)")
            #expect(file("pids", "pids.max", "pids.max") == "42")
            if Host.isCgroupV2 {
                #expect(file("cpu", "", "cpu.max") == "50000 100000")
            } else {
                #expect(file("cpu", "cpu.cfs_quota_us", "") == "50000")
            }
            // v2 has a weight instead of shares: runc's conversion, 1 + (shares - 2) * 9999 / 262142.
            #expect(file("cpu", "cpu.shares", "cpu.weight") == (Host.isCgroupV2 ? "20" : "512"))
            #expect(try world.oci(["update", "--memory", "\(96 << 20)", "--pids-limit", "17", "--cpu-share", "1024", "res"])
                .status == 0)
            #expect(file("memory", "memory.limit_in_bytes", "memory.max") == "\(96 << 20)")
            #expect(file("pids", "pids.max", "pids.max") == "17")
            #expect(file("cpu", "cpu.shares", "cpu.weight") == (Host.isCgroupV2 ? "39" : "1024"))
            let outOfRange = try world.oci(["update", "--cpu-share", "1", "res"])
            #expect(outOfRange.status == 1 && outOfRange.stderr.contains("CPU shares must be between 2 and 262144, not 1"))
            #expect(file("cpu", "cpu.shares", "cpu.weight") == (Host.isCgroupV2 ? "39" : "1024"))
        }

        @Test("cpu.cpus/mems, memory.reservation and swappiness reach the cgroup (swappiness on v1 only)")
        func cpusetAndMemoryProtection() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            try world.writeSpec(id: "set", args: ["sleep", "100"]) { spec in
                var linux = spec["linux"] as? [String: Any] ?? [:]
                var resources = linux["resources"] as? [String: Any] ?? [:]
                resources["memory"] = ["reservation": 32 << 20, "swappiness": 10]
                resources["cpu"] = ["cpus": "0", "mems": "0"]
                linux["resources"] = resources
                spec["linux"] = linux
            }
            let created = try world.create("set")
            #expect(created.status == 0)
            func file(_ controller: String, _ name: String) -> String {
                (Kernel.read(world.cgroupDirectory("set", controller: controller) + "/" + name) ?? "")
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            #expect(file("cpuset", "cpuset.cpus") == "0")
            #expect(file("cpuset", "cpuset.mems") == "0")
            if Host.isCgroupV2 {
                #expect(file("memory", "memory.low") == "\(32 << 20)")
                // No v2 file: runc's warning, and the container is made without it.
                #expect(created.stderr.contains("linux.resources.memory.swappiness 10 not applied"))
            } else {
                #expect(file("memory", "memory.soft_limit_in_bytes") == "\(32 << 20)")
                #expect(file("memory", "memory.swappiness") == "10")
            }
            // The container's process runs in the cpuset (and an exec joins it too).
            let pid = try #require(try world.state("set")?["pid"] as? Int)
            let cgroups = Kernel.read("/proc/\(pid)/cgroup") ?? ""
            #expect(cgroups.contains(world.cgroupsPath("set")))
            let allowed = Kernel.read("/proc/\(pid)/status")?.split(separator: "\n")
                .first { $0.hasPrefix("Cpus_allowed_list:") }?.split(separator: "\t").last
            #expect(allowed == "0")
            #expect(try world.oci(["start", "set"]).status == 0)
            let exec = try world.oci(["exec", "set", "grep", "Cpus_allowed_list", "/proc/self/status"])
            #expect(exec.status == 0 && exec.stdout.hasSuffix("\t0\n"), "\(exec.stderr)")
            #expect(try world.oci(["delete", "--force", "set"]).status == 0)
            #expect(Kernel.read(world.cgroupDirectory("set", controller: "cpuset") + "/cpuset.cpus") == nil)
            try world.writeSpec(id: "badset", args: ["true"]) { spec in
                var linux = spec["linux"] as? [String: Any] ?? [:]
                linux["resources"] = ["cpu": ["cpus": "3-1"]]
                spec["linux"] = linux
            }
            let bad = try world.create("badset")
            #expect(bad.status == 1 && bad.stderr.contains("cpuset cpus \"3-1\" is not a list"))
            #expect(Kernel.read(world.cgroupDirectory("badset", controller: "cpuset") + "/cpuset.cpus") == nil)
        }

        @Test("domainname is set in the container's own UTS namespace, never the host's; refused without one")
        func domainname() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            let hosts = Kernel.read("/proc/sys/kernel/domainname")
            try world.writeSpec(id: "dn", args: ["cat", "/proc/sys/kernel/domainname"]) { spec in
                spec["domainname"] = "berth.example"
            }
            let ran = try world.create("dn", command: "run")
            #expect(ran.status == 0)
            #expect(world.output(of: "dn").contains("berth.example"))
            #expect(Kernel.read("/proc/sys/kernel/domainname") == hosts)
            try world.writeSpec(id: "dnhost", args: ["true"]) { spec in
                spec["hostname"] = nil
                var linux = spec["linux"] as? [String: Any] ?? [:]
                linux["namespaces"] = (linux["namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "uts" }
                spec["linux"] = linux
            }
            let refused = try world.create("dnhost")
            #expect(refused.status == 1 && refused.stderr.contains("sets domainname without a uts namespace"), "\(refused.stderr)")
            #expect(Kernel.read("/proc/sys/kernel/domainname") == hosts)
        }

        @Test("linux.sysctl: net.* and the IPC namespace's keys are written inside the container, never the host's")
        func sysctls() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            let files = ["/proc/sys/kernel/msgmax", "/proc/sys/fs/mqueue/msg_max", "/proc/sys/net/ipv4/ip_forward"]
            let hosts = files.map(Kernel.read)
            try world.writeSpec(id: "sc", args: ["cat"] + files) { spec in
                var linux = spec["linux"] as? [String: Any] ?? [:]
                linux["sysctl"] = ["kernel.msgmax": "12345", "fs.mqueue.msg_max": "20", "net.ipv4.ip_forward": "1"]
                spec["linux"] = linux
            }
            let ran = try world.create("sc", command: "run")
            #expect(ran.status == 0)
            // After berth-oci's own warnings (the default spec's ambient capabilities), the container's lines.
            #expect(world.output(of: "sc").split(separator: "\n").suffix(3) == ["12345", "20", "1"])
            #expect(files.map(Kernel.read) == hosts)

            // A key no namespace keeps is the host's: refused, naming it.
            try world.writeSpec(id: "host", args: ["true"]) { spec in
                var linux = spec["linux"] as? [String: Any] ?? [:]
                linux["sysctl"] = ["kernel.pid_max": "4096"]
                spec["linux"] = linux
            }
            let hostKey = try world.create("host")
            #expect(hostKey.status == 1 && hostKey.stderr.contains("linux.sysctl kernel.pid_max"))
            #expect(hostKey.stderr.contains("not kept per namespace"))

            // An IPC key while sharing the host's IPC namespace: refused, as runc refuses it.
            try world.writeSpec(id: "shared", args: ["true"]) { spec in
                var linux = spec["linux"] as? [String: Any] ?? [:]
                linux["sysctl"] = ["kernel.shmmni": "100"]
                linux["namespaces"] = (linux["namespaces"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "ipc" }
                spec["linux"] = linux
            }
            let shared = try world.create("shared")
            #expect(shared.status == 1 && shared.stderr.contains("linux.sysctl kernel.shmmni, an IPC namespace setting"))
            #expect(files.map(Kernel.read) == hosts)
            #expect(try world.state("shared") == nil)
        }

        @Test("what berth-oci cannot do is refused with a clear error, in runc's JSON log when asked")
        func refusals() throws {
            let world = try OCIBundleFixture(fixture)
            defer { world.removeAll() }
            try world.writeSpec(id: "s", args: ["true"]) { spec in
                var linux = spec["linux"] as? [String: Any] ?? [:]
                linux["cgroupsPath"] = "system.slice:berth:s"
                spec["linux"] = linux
            }
            let systemd = try world.create("s")
            #expect(systemd.status == 1 && systemd.stderr.contains("systemd's slice:prefix:name form"))
            #expect(!FileManager.default.fileExists(atPath: world.root + "/s"))
            let flag = try world.oci(["list"], global: ["--systemd-cgroup"])
            #expect(flag.status == 1 && flag.stderr.contains("--systemd-cgroup is not supported"))
            let log = world.directory + "/log.json"
            let missing = try world.oci(["state", "nothing"], global: ["--log", log, "--log-format", "json"])
            #expect(missing.status == 1)
            let line = try #require(Kernel.read(log)?.split(separator: "\n").first)
            let entry = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(entry?["level"] as? String == "error")
            #expect((entry?["msg"] as? String)?.contains("container nothing does not exist") == true)
            #expect(entry?["time"] is String)
        }
    }
}

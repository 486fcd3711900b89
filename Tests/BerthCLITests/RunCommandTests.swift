import CommandLineParsing
import Foundation
import Runtime
import Testing
@testable import berth

/// A temporary container root with an /etc/passwd, removed when the value goes away.
final class TemporaryRootfs {
    let path: String

    init() throws {
        var template = Array("/tmp/berth-ut-cli-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        path = String(cString: made)
        try FileManager.default.createDirectory(atPath: path + "/etc", withIntermediateDirectories: true)
        try """
            root:x:0:0:root:/root:/bin/sh
            alice:x:1000:1000:Alice:/home/alice:/bin/sh

            """.write(toFile: path + "/etc/passwd", atomically: false, encoding: .utf8)
        try "root:x:0:\nwheel:x:10:alice\n".write(toFile: path + "/etc/group", atomically: false, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// `berth run`'s flags: how they parse, what validation rejects, and the config they become.
@Suite("berth run") struct RunCommandTests {
    struct NotARun: Error {}

    /// Parses a whole berth command line that must be a `run`.
    static func parse(_ arguments: [String]) throws -> Run {
        guard case .run(let run) = try Berth.parse(arguments) else { throw NotARun() }
        return run
    }

    /// Parses `berth run <arguments>`.
    static func run(_ arguments: [String]) throws -> Run {
        try parse(["run"] + arguments)
    }

    /// Parses `berth run --rootfs <temp root> <arguments>` and builds its config.
    static func config(_ arguments: [String], in root: TemporaryRootfs) throws -> ContainerConfig {
        try run(["--rootfs", root.path] + arguments).makeConfig()
    }

    static func env(_ config: ContainerConfig, _ name: String) -> [String] {
        config.env.filter { $0.hasPrefix(name + "=") }
    }

    @Suite("parsing") struct Parsing {
        @Test(arguments: [["-it"], ["-ti"], ["-i", "-t"], ["--interactive", "--tty"]])
        func interactiveTerminalFlagsCombine(flags: [String]) throws {
            let run = try RunCommandTests.run(["--rootfs", "/r"] + flags + ["sh"])
            #expect(run.interactive)
            #expect(run.tty)
            #expect(run.command == ["sh"])
        }

        @Test func separateFlagsStayApart() throws {
            let onlyI = try RunCommandTests.run(["--rootfs", "/r", "-i", "sh"])
            #expect(onlyI.interactive && !onlyI.tty)
            let onlyT = try RunCommandTests.run(["--rootfs", "/r", "-t", "sh"])
            #expect(!onlyT.interactive && onlyT.tty)
        }

        @Test func commandAfterDoubleDashKeepsItsFlags() throws {
            let root = try TemporaryRootfs()
            let run = try RunCommandTests.run(["--rootfs", root.path, "--", "sh", "-c", "echo x"])
            #expect(run.command == ["sh", "-c", "echo x"])
            #expect(try run.makeConfig().args == ["sh", "-c", "echo x"])
        }

        @Test func commandWithoutDoubleDashKeepsItsFlags() throws {
            let root = try TemporaryRootfs()
            let run = try RunCommandTests.run(["--rootfs", root.path, "sh", "-c", "echo x"])
            #expect(try run.makeConfig().args == ["sh", "-c", "echo x"])
        }

        @Test func berthFlagsAfterTheCommandBelongToTheCommand() throws {
            let root = try TemporaryRootfs()
            let run = try RunCommandTests.run(["--rootfs", root.path, "-e", "A=1", "env", "-e", "B=2",
                                               "--rootfs", "/elsewhere", "-it"])
            #expect(run.env == ["A=1"])
            #expect(run.rootfs == root.path)
            #expect(!run.interactive && !run.tty)
            #expect(try run.makeConfig().args == ["env", "-e", "B=2", "--rootfs", "/elsewhere", "-it"])
        }

        @Test func aSecondDoubleDashIsPartOfTheCommand() throws {
            let root = try TemporaryRootfs()
            let run = try RunCommandTests.run(["--rootfs", root.path, "--", "--", "x"])
            #expect(try run.makeConfig().args == ["--", "x"])
            let inside = try RunCommandTests.run(["--rootfs", root.path, "grep", "--", "-v"])
            #expect(try inside.makeConfig().args == ["grep", "--", "-v"])
        }

        @Test func repeatedOptionsAccumulateInOrder() throws {
            let run = try RunCommandTests.run([
                "--rootfs", "/r", "-e", "A=1", "--env", "B=2", "-e", "A=3",
                "-v", "/a:/b", "--volume", "/c:/d:ro",
                "--cap-add", "NET_ADMIN", "--cap-add", "sys_time", "--cap-drop", "MKNOD", "--cap-drop", "NET_RAW",
                "--ulimit", "nofile=1:2", "--ulimit", "nproc=3",
                "--security-opt", "seccomp=unconfined", "--security-opt", "no-new-privileges=false",
                "sh",
            ])
            #expect(run.env == ["A=1", "B=2", "A=3"])
            #expect(run.volume == ["/a:/b", "/c:/d:ro"])
            #expect(run.capAdd == ["NET_ADMIN", "sys_time"])
            #expect(run.capDrop == ["MKNOD", "NET_RAW"])
            #expect(run.ulimit == ["nofile=1:2", "nproc=3"])
            #expect(run.securityOpt == ["seccomp=unconfined", "no-new-privileges=false"])
        }

        @Test func defaults() throws {
            let run = try RunCommandTests.run(["--rootfs", "/r", "sh"])
            #expect(run.network == "bridge")
            #expect(run.cgroupParent == "berth")
            #expect(!run.privileged && !run.readOnly && !run.useInit)
            #expect(run.memory == nil && run.cpus == nil && run.pidsLimit == nil)
            #expect(run.global.root == nil)
            #expect(run.global.logLevel == "warning")
            #expect(!run.global.debug)
        }

        @Test func globalOptionsBeforeTheSubcommandReachRun() throws {
            let run = try RunCommandTests.parse(["--root", "/state", "--debug", "--log-level", "info",
                                                 "run", "--rootfs", "/r", "sh"])
            #expect(run.global.root == "/state")
            #expect(run.global.debug)
            #expect(run.global.logLevel == "info")
            #expect(run.global.stateRoot == "/state")
            #expect(run.global.runRoot == "/state/run")
        }

        @Test func shortAndLongSpellings() throws {
            let run = try RunCommandTests.run(["--rootfs", "/r", "-m", "64m", "-w", "/srv", "-u", "alice",
                                               "--pids-limit", "5", "--cpus", "0.5", "--hostname", "web", "sh"])
            #expect(run.memory == "64m")
            #expect(run.workdir == "/srv")
            #expect(run.user == "alice")
            #expect(run.pidsLimit == 5)
            #expect(run.cpus == 0.5)
            #expect(run.hostname == "web")
            let long = try RunCommandTests.run(["--rootfs", "/r", "--memory", "1g", "--workdir", "/", "--user", "0", "sh"])
            #expect(long.memory == "1g" && long.workdir == "/" && long.user == "0")
        }
    }

    @Suite("validation") struct Validation {
        static let noCommand = "no command given: berth run --rootfs DIR [options] -- COMMAND [ARG...]"

        @Test(arguments: [
            (["run", "--rootfs", "/r"], noCommand),
            (["run", "--rootfs", "/r", "--"], noCommand),
            (["run", "--rootfs", "/r", "-it"], noCommand),
            (["run", "--rootfs", "/r", "--network", "", "sh"],
             "--network needs a value: bridge, none, host, container:NAME or a network's name"),
            (["run", "--rootfs", "/r", "--cpus", "0", "sh"], "--cpus must be a number of cores from 0.01 to 1024"),
            (["run", "--rootfs", "/r", "--cpus=-1", "sh"], "--cpus must be a number of cores from 0.01 to 1024"),
            (["run", "--rootfs", "/r", "--pids-limit=-5", "sh"], "--pids-limit must be at least 1"),
            (["run", "--rootfs", "/r", "--cpus", "nan", "sh"], "--cpus must be a number of cores from 0.01 to 1024"),
            (["run", "--rootfs", "/r", "--pids-limit", "0", "sh"], "--pids-limit must be at least 1"),
            (["run", "--rootfs", "/r", "-w", "srv", "sh"], "--workdir must be an absolute path inside the container"),
            (["run", "--rootfs", "/r", "--workdir", "./srv", "sh"], "--workdir must be an absolute path inside the container"),
            (["run"], "no image given: berth run [options] IMAGE [COMMAND...], or berth run --rootfs DIR [options] -- COMMAND"),
            (["run", "-it"], "no image given: berth run [options] IMAGE [COMMAND...], or berth run --rootfs DIR [options] -- COMMAND"),
            (["run", "--rootfs", "/r", "--cpus", "lots", "sh"], "--cpus: \"lots\" is not a number"),
            (["run", "--rootfs", "/r", "--cpus", "inf", "sh"], "--cpus must be a number of cores from 0.01 to 1024"),
            (["run", "--rootfs", "/r", "--cpus", "1e300", "sh"], "--cpus must be a number of cores from 0.01 to 1024"),
            (["run", "--rootfs", "/r", "--cpus", "0.000001", "sh"], "--cpus must be a number of cores from 0.01 to 1024"),
            (["run", "--rootfs", "/r", "--detach-keys", "x", "sh"],
             "unknown option \"--detach-keys\" for berth run (put the command after --, or see berth run --help)"),
            (["run", "--rootfs", "/r", "--memmory", "64m", "sh"],
             "unknown option \"--memmory\" for berth run (put the command after --, or see berth run --help)"),
            (["run", "--rootfs", "/r", "--pids-limit", "many", "sh"], "--pids-limit: \"many\" is not a whole number"),
            (["run", "--rootfs", "/r", "-m"], "missing value for -m"),
            (["run", "--debug", "--rootfs", "/r", "sh"],
             "unknown option \"--debug\" for berth run (put the command after --, or see berth run --help)"),
            (["--rootfs", "/r", "run", "sh"], "unknown option \"--rootfs\" for berth (see berth --help)"),
            (["begin", "--rootfs", "/r", "sh"], "unknown command \"begin\" for berth (see berth --help)"),
            (["--log-level", "loud", "run", "--rootfs", "/r", "sh"],
             "unknown log level \"loud\": use trace, debug, info, notice, warning or error"),
            // Issue 11: limits and names checked before anything is created.
            (["run", "--rootfs", "/r", "--pids-limit", "9223372036854775807", "sh"],
             "--pids-limit 9223372036854775807 is more than the kernel allows (4194304)"),
            (["run", "--rootfs", "/r", "--memory", "1k", "sh"], "--memory 1k is below the smallest limit a container can start with, 6m"),
            (["run", "--rootfs", "/r", "--cpus", "1000", "sh"],
             "--cpus 1000.0 is more than this machine has (\(sysconf(Int32(_SC_NPROCESSORS_ONLN))))"),
            (["run", "--rootfs", "/r", "--hostname", "a\nb", "sh"],
             "--hostname \"a\nb\" is not a host name: use letters, digits, '-', '_' and '.', at most 64 characters"),
            (["run", "--rootfs", "/r", "-e", "=x", "sh"], "-e \"=x\" names no variable: use NAME=value or NAME"),
            // Issue 11: an empty --root was the current directory, silently.
            (["--root", "", "run", "--rootfs", "/r", "sh"], "--root is empty: give berth's state directory, or leave --root out"),
        ])
        func rejected(arguments: [String], message: String) {
            let error = #expect(throws: UsageError.self) { try Berth.parse(arguments) }
            #expect(error?.message == message)
            #expect(error.map { Output.exitCode(for: $0) } == 125)
        }
    }

    @Suite("help") struct Help {
        @Test(arguments: [["--help"], ["-h"], ["run", "--help"], ["--root", "/x", "run", "--rootfs", "/r", "-h"],
                          ["run", "-it", "-h"], []])
        func helpIsAnAnswerNotAnError(arguments: [String]) throws {
            guard case .help(let text) = try Berth.parse(arguments) else {
                Issue.record("\(arguments) did not ask for help")
                return
            }
            #expect(text.hasPrefix("USAGE: berth"))
        }

        @Test func runsHelpListsEveryOption() throws {
            guard case .help(let text) = try Berth.parse(["run", "--help"]) else {
                Issue.record("no help")
                return
            }
            #expect(text.hasPrefix("USAGE: berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n"
                                   + "  or:  berth run --rootfs <dir> [OPTIONS] [--] COMMAND [ARG...]\n"))
            for option in Run.spec.options {
                #expect(text.contains("--" + option.long), "--\(option.long) missing from the help")
            }
            #expect(text.contains("  -m, --memory <size>"))
            #expect(text.contains("  -e, --env <var>..."))
        }

        @Test func aHelpFlagInTheCommandIsTheCommands() throws {
            let run = try RunCommandTests.run(["--rootfs", "/r", "sh", "--help"])
            #expect(run.command == ["sh", "--help"])
        }
    }

    @Suite("config") struct Config {
        @Test("malformed --security-opt and out-of-range ids are refused, not crashes",
              arguments: [["--security-opt", ""], ["--security-opt", "="], ["--security-opt", ":"],
                          ["-u", "4294967295"], ["-u", "1000:4294967295"], ["-v", "/tmp:/"]])
        func refusedInput(flags: [String]) throws {
            let root = try TemporaryRootfs()
            let error = #expect(throws: RuntimeError.self) { try RunCommandTests.config(flags + ["sh"], in: root) }
            #expect(error?.code == .invalidArgument)
        }

        @Test func defaultsFollowDocker() throws {
            let root = try TemporaryRootfs()
            let config = try RunCommandTests.config(["sh"], in: root)
            #expect(config.id.count == 64)
            #expect(config.id.allSatisfy { "0123456789abcdef".contains($0) })
            #expect(config.hostname == String(config.id.prefix(12)))
            #expect(config.env == [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOSTNAME=\(config.id.prefix(12))",
                "HOME=/root",
            ])
            #expect(config.rootfs == root.path)
            #expect(config.args == ["sh"])
            #expect(config.workingDirectory == "/")
            #expect(config.user == ProcessUser(uid: 0, gid: 0))
            #expect(!config.terminal && !config.readOnlyRootfs && !config.useInit)
            #expect(config.namespaces == .containerDefault)
            #expect(config.bindMounts.isEmpty && config.rlimits.isEmpty)
            #expect(config.resources.isEmpty)
            #expect(config.maskedPaths == ContainerConfig.defaultMaskedPaths)
            #expect(config.readOnlyPaths == ContainerConfig.defaultReadOnlyPaths)
            #expect(config.capabilities == ProcessCapabilities.forUser(uid: 0, set: .containerDefault))
            #expect(config.seccomp == SeccompProfile.default(for: .containerDefault))
            #expect(config.noNewPrivileges)
        }

        @Test func everyRunGetsANewId() throws {
            let root = try TemporaryRootfs()
            let run = try RunCommandTests.run(["--rootfs", root.path, "sh"])
            #expect(try run.makeConfig().id != run.makeConfig().id)
        }

        @Test func ttyAddsTERMAndATerminal() throws {
            let root = try TemporaryRootfs()
            let config = try RunCommandTests.config(["-t", "sh"], in: root)
            #expect(config.terminal)
            #expect(config.env.last == "TERM=xterm")
            #expect(config.env.count == 4)
            #expect(RunCommandTests.env(try RunCommandTests.config(["-i", "sh"], in: root), "TERM").isEmpty)
        }

        @Test func hostnameFlagIsUsedForHOSTNAME() throws {
            let root = try TemporaryRootfs()
            let config = try RunCommandTests.config(["--hostname", "web", "sh"], in: root)
            #expect(config.hostname == "web")
            #expect(RunCommandTests.env(config, "HOSTNAME") == ["HOSTNAME=web"])
        }

        @Test func userEnvOverridesTheDefaultsAndEarlierValues() throws {
            let root = try TemporaryRootfs()
            let config = try RunCommandTests.config([
                "-e", "PATH=/opt/bin", "-e", "HOME=/tmp", "-e", "A=1", "-e", "A=2", "-e", "EQ=a=b", "-e", "EMPTY=",
                "-t", "-e", "TERM=dumb", "sh",
            ], in: root)
            #expect(RunCommandTests.env(config, "PATH") == ["PATH=/opt/bin"])
            #expect(RunCommandTests.env(config, "HOME") == ["HOME=/tmp"])
            #expect(RunCommandTests.env(config, "A") == ["A=2"])
            #expect(RunCommandTests.env(config, "EQ") == ["EQ=a=b"])
            #expect(RunCommandTests.env(config, "EMPTY") == ["EMPTY="])
            #expect(RunCommandTests.env(config, "TERM") == ["TERM=dumb"])
            #expect(config.env.count == 7)
            // The container's PATH is the one the command is looked up in.
            #expect(config.searchPath == "/opt/bin")
        }

        @Test(.enabled(if: getenv("PATH") != nil, "needs PATH in the test's own environment"))
        func nameAloneTakesTheHostValue() throws {
            let root = try TemporaryRootfs()
            let hostPath = String(cString: try #require(getenv("PATH")))
            let config = try RunCommandTests.config(["-e", "PATH", "sh"], in: root)
            #expect(RunCommandTests.env(config, "PATH") == ["PATH=\(hostPath)"])
        }

        @Test func nameAloneUnsetOnTheHostIsLeftOut() throws {
            let root = try TemporaryRootfs()
            let name = "BERTH_UT_UNSET_\(getpid())_VARIABLE"
            try #require(getenv(name) == nil)
            let config = try RunCommandTests.config(["-e", name, "sh"], in: root)
            #expect(RunCommandTests.env(config, name).isEmpty)
            #expect(config.env.count == 3)
        }

        @Test func userIsResolvedInTheRootAndSetsHOME() throws {
            let root = try TemporaryRootfs()
            let alice = try RunCommandTests.config(["-u", "alice:wheel", "sh"], in: root)
            #expect(alice.user == ProcessUser(uid: 1000, gid: 10))
            #expect(RunCommandTests.env(alice, "HOME") == ["HOME=/home/alice"])
            #expect(alice.capabilities == ProcessCapabilities.forUser(uid: 1000, set: .containerDefault))
            #expect(alice.capabilities?.effective == .empty)

            let unknownUid = try RunCommandTests.config(["-u", "4242", "sh"], in: root)
            #expect(unknownUid.user == ProcessUser(uid: 4242, gid: 0))
            #expect(RunCommandTests.env(unknownUid, "HOME") == ["HOME=/"])

            let error = #expect(throws: RuntimeError.self) { try RunCommandTests.config(["-u", "mallory", "sh"], in: root) }
            #expect(error?.description == "user \"mallory\" is not in the container's /etc/passwd")
        }

        @Test func hostNetworkRemovesOnlyTheNetworkNamespace() throws {
            let root = try TemporaryRootfs()
            let config = try RunCommandTests.config(["--network", "host", "sh"], in: root)
            #expect(config.namespaces == [.mount, .pid, .uts, .ipc, .cgroup])
            let none = try RunCommandTests.config(["--network", "none", "sh"], in: root)
            #expect(none.namespaces == .containerDefault)
        }

        @Test func simpleFlagsReachTheConfig() throws {
            let root = try TemporaryRootfs()
            let config = try RunCommandTests.config(["--read-only", "--init", "-w", "/srv/app", "sh"], in: root)
            #expect(config.readOnlyRootfs)
            #expect(config.useInit)
            #expect(config.workingDirectory == "/srv/app")
        }

        @Test func limitsBecomeResourceLimits() throws {
            let root = try TemporaryRootfs()
            let config = try RunCommandTests.config(["-m", "64m", "--cpus", "1.5", "--pids-limit", "100", "sh"], in: root)
            #expect(config.resources == ResourceLimits(
                memoryBytes: 64 * 1024 * 1024,
                cpu: CPUBandwidth(quotaMicros: 150_000, periodMicros: 100_000),
                pidsLimit: 100, devices: DeviceRule.containerDefault))
            let half = try RunCommandTests.config(["--cpus", "0.5", "sh"], in: root)
            #expect(half.resources == ResourceLimits(cpu: CPUBandwidth(quotaMicros: 50_000), devices: DeviceRule.containerDefault))
        }

        @Test func devicesBecomeNodesAndRules() throws {
            let root = try TemporaryRootfs()
            let config = try RunCommandTests.config(["--device", "/dev/null:/dev/mynull:rw", "sh"], in: root)
            #expect(config.devices == [DeviceNode(path: "/dev/mynull", kind: .char, major: 1, minor: 3, fileMode: 0o666,
                                                  access: [.read, .write])])
            #expect(config.resources.devices == DeviceRule.containerDefault
                + [DeviceRule(allow: true, kind: .char, major: 1, minor: 3, access: [.read, .write])])
            let plan = MountPlan.operations(for: config, cgroupMode: .legacy, consolePath: nil)
            #expect(plan.contains(.init(.device(major: 1, minor: 3, mode: 0o666, hostPath: nil), target: "/dev/mynull")))
            let privileged = try RunCommandTests.config(["--privileged", "sh"], in: root)
            #expect(privileged.resources.devices == DeviceRule.allowAll)
        }

        @Test func badMemoryIsReported() throws {
            let root = try TemporaryRootfs()
            let error = #expect(throws: RuntimeError.self) { try RunCommandTests.config(["-m", "lots", "sh"], in: root) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.description == "invalid size \"lots\": use a number of bytes or a number with k, m or g (e.g. 64m)")
        }

        @Test func volumesAndUlimitsAreParsed() throws {
            let root = try TemporaryRootfs()
            let config = try RunCommandTests.config([
                "-v", "/tmp:/data:ro", "-v", "\(root.path):/mnt", "--ulimit", "nofile=10:20", "sh",
            ], in: root)
            #expect(config.bindMounts == [
                BindMount(source: "/tmp", destination: "/data", readOnly: true),
                BindMount(source: root.path, destination: "/mnt", readOnly: false),
            ])
            #expect(config.rlimits == [ResourceLimit(resource: 7, soft: 10, hard: 20)])

            // --mount and --tmpfs; a named volume is the engine's to make, so the config has no bind for it.
            let mounts = try RunCommandTests.config([
                "--mount", "type=bind,src=\(root.path),dst=/m,readonly,bind-propagation=rslave", "--tmpfs", "/t:size=1m,exec",
                "-v", "named:/n", "sh",
            ], in: root)
            #expect(mounts.bindMounts == [BindMount(source: root.path, destination: "/m", readOnly: true, propagation: .rslave)])
            #expect(mounts.tmpfsMounts == [TmpfsMount(destination: "/t", flags: [.noSuid, .noDev], options: ["size=1048576"])])

            let badVolume = #expect(throws: RuntimeError.self) { try RunCommandTests.config(["-v", "/tmp:data", "sh"], in: root) }
            #expect(badVolume?.description == "invalid volume \"/tmp:data\": the container path \"data\" must be absolute")
            let badUlimit = #expect(throws: RuntimeError.self) { try RunCommandTests.config(["--ulimit", "nofile", "sh"], in: root) }
            #expect(badUlimit?.description == "invalid ulimit \"nofile\": use name=soft[:hard], e.g. nofile=1024:2048")
        }

        @Test func privilegedDropsSeccompAndMaskedPaths() throws {
            let root = try TemporaryRootfs()
            let config = try RunCommandTests.config(["--privileged", "--cap-drop", "ALL", "sh"], in: root)
            #expect(config.seccomp == nil)
            #expect(config.maskedPaths.isEmpty)
            #expect(config.readOnlyPaths.isEmpty)
            // Every capability berth holds; --cap-drop does not apply (Docker too).
            #expect(config.capabilities == ProcessCapabilities.forUser(uid: 0, set: .held))
            let plan = MountPlan.operations(for: config, cgroupMode: .unified, consolePath: nil)
            #expect(!plan.contains { $0.kind == .mask || $0.kind == .readOnly })

            let asAlice = try RunCommandTests.config(["--privileged", "-u", "alice", "sh"], in: root)
            #expect(asAlice.capabilities == ProcessCapabilities.forUser(uid: 1000, set: .held))
        }

        @Test(arguments: ["seccomp=unconfined", "seccomp:unconfined"])
        func seccompUnconfinedKeepsEverythingElse(option: String) throws {
            let root = try TemporaryRootfs()
            let config = try RunCommandTests.config(["--security-opt", option, "sh"], in: root)
            #expect(config.seccomp == nil)
            #expect(config.maskedPaths == ContainerConfig.defaultMaskedPaths)
            #expect(config.readOnlyPaths == ContainerConfig.defaultReadOnlyPaths)
            #expect(config.capabilities == ProcessCapabilities.forUser(uid: 0, set: .containerDefault))
            #expect(config.noNewPrivileges)
        }

        @Test(arguments: [
            ("no-new-privileges", true), ("no-new-privileges=true", true), ("no-new-privileges:true", true),
            ("no-new-privileges=false", false), ("no-new-privileges:false", false),
        ])
        func noNewPrivileges(option: String, value: Bool) throws {
            let root = try TemporaryRootfs()
            let config = try RunCommandTests.config(["--security-opt", option, "sh"], in: root)
            #expect(config.noNewPrivileges == value)
            #expect(config.seccomp != nil)
        }

        @Test(arguments: ["apparmor=unconfined", "seccomp", "seccomp=", "systempaths=yes", "no-new-privileges=maybe",
                          "label=disable"])
        func unsupportedSecurityOptIsAnError(option: String) throws {
            let root = try TemporaryRootfs()
            let error = #expect(throws: RuntimeError.self) {
                try RunCommandTests.config(["--security-opt", option, "sh"], in: root)
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.description
                == "unsupported --security-opt \"\(option)\": use seccomp=unconfined, seccomp=PROFILE.json, "
                + "systempaths=unconfined or no-new-privileges[=true|false]")
        }

        @Test func capAddAndDropShapeTheSetAndTheSeccompProfile() throws {
            let root = try TemporaryRootfs()
            let config = try RunCommandTests.config([
                "--cap-add", "NET_ADMIN", "--cap-add", "sys_time", "--cap-drop", "NET_RAW", "sh",
            ], in: root)
            let expected = try CapabilitySet.containerDefault
                .adding(CapabilitySet(names: ["CAP_NET_ADMIN", "CAP_SYS_TIME"]))
                .removing(CapabilitySet(names: ["CAP_NET_RAW"]))
            #expect(config.capabilities == ProcessCapabilities.forUser(uid: 0, set: expected))
            #expect(config.seccomp == SeccompProfile.default(for: expected))

            let none = try RunCommandTests.config(["--cap-drop", "ALL", "sh"], in: root)
            #expect(none.capabilities?.bounding == .empty)

            let all = try RunCommandTests.config(["--cap-add", "ALL", "sh"], in: root)
            #expect(all.capabilities?.bounding == CapabilitySet.all.intersection(.held))
        }

        @Test func unknownCapabilityIsNamed() throws {
            let root = try TemporaryRootfs()
            let error = #expect(throws: RuntimeError.self) { try RunCommandTests.config(["--cap-add", "FLY", "sh"], in: root) }
            #expect(error?.description == "unknown capability \"FLY\"")
        }

        @Test func rootfsMustBeADirectory() throws {
            let root = try TemporaryRootfs()
            for path in [root.path + "/missing", root.path + "/etc/passwd"] {
                let error = #expect(throws: RuntimeError.self) { try RunCommandTests.run(["--rootfs", path, "sh"]).makeConfig() }
                #expect(error?.code == .notFound)
                #expect(error?.description
                    == "root filesystem \(path) is not a directory: build one with rootfs-scripts/busybox.sh DIR")
            }
        }

        @Test func relativeRootfsIsMadeAbsolute() throws {
            let config = try RunCommandTests.run(["--rootfs", ".", "sh"]).makeConfig()
            #expect(config.rootfs.hasPrefix("/"))
            #expect(config.rootfs.hasSuffix("/."))
        }
    }

    @Suite("exit codes") struct ExitCodes {
        @Test(arguments: [
            (RuntimeError.Code.notExecutable, 126), (.commandNotFound, 127), (.invalidArgument, 125),
            (.notFound, 125), (.systemError, 125), (.unsupported, 125), (.conflict, 125),
        ] as [(RuntimeError.Code, Int32)])
        func dockersConvention(code: RuntimeError.Code, exit: Int32) {
            #expect(Output.exitCode(for: RuntimeError(code, "x")) == exit)
        }
    }
}

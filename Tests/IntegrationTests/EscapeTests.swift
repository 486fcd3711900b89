import Foundation
import Testing

/// A way of running a container that the escape-attempt suite (`Fixtures/escape.c`) is tried
/// under: confined modes must show every vector BLOCKED; an unconfined one proves the suite sees
/// escapes, by naming the vectors that must show ESCAPED there.
struct EscapeMode: CustomTestStringConvertible, Sendable {
    let name: String
    let options: [String]
    /// Every vector must be BLOCKED.
    let confined: Bool
    /// Vectors that must be ESCAPED (unconfined modes): each one the suite could not see would
    /// make a BLOCKED line under a confined mode worth nothing.
    var mustEscape: [String] = []

    var testDescription: String { name }

    static let all: [EscapeMode] = [
        EscapeMode(name: "default settings", options: [], confined: true),
        EscapeMode(name: "--userns=auto", options: ["--userns=auto"], confined: true),
        EscapeMode(name: "--privileged", options: ["--privileged"], confined: false, mustEscape: privilegedEscapes),
    ]

    /// What --privileged opens up: devices (the host disk, /dev/kmsg), the /proc files that
    /// change the host, mounts, module loading, kexec, and the system calls the default profile
    /// refuses. A kernel built without one (this host's has no modules, kexec, /proc/kcore or
    /// sysrq) answers ENOSYS or ENOENT, which the suite reports as "not in this kernel".
    static let privilegedEscapes = [
        "mknod-host-disk", "raw-block-read", "kmsg", "kcore", "sysrq-trigger", "core-pattern", "modprobe-path", "mount",
        "umount", "pivot-root", "unshare-mount", "keyctl", "bpf", "perf-event-open", "io-uring", "userfaultfd", "kexec",
        "module-loading", "tiocsti",
    ]
}

/// One line of the suite's output: `VERDICT NAME: DETAIL`.
struct EscapeLine {
    let verdict: String
    let vector: String
    let detail: String
    let text: String

    init?(_ line: Substring) {
        guard let space = line.firstIndex(of: " "), let colon = line.range(of: ": "), colon.lowerBound > space else { return nil }
        verdict = String(line[..<space])
        vector = String(line[line.index(after: space)..<colon.lowerBound])
        detail = String(line[colon.upperBound...])
        text = String(line)
    }
}

extension Containers {
    /// The escape-attempt suite, run as a container's command (issue 12). Each vector runs in its
    /// own child under a time limit; a missing line, a TIMEOUT or a CRASHED line fails every mode.
    @Suite("EscapeAttempts", .enabled(if: HostDisk.first != nil, "needs a host disk for the device vectors"))
    struct EscapeAttempts {
        let fixture = Fixture.shared

        /// Every vector escape.c has, in its order: a vector dropped from the program fails here.
        static let vectors = [
            "mount", "umount", "pivot-root", "mknod-host-disk", "raw-block-read", "kmsg", "kcore", "sysrq-trigger",
            "core-pattern", "modprobe-path", "release-agent", "cgroup-escape", "ptrace-outside", "open-by-handle-at",
            "chroot-escape", "unshare-user", "unshare-mount", "setns-host", "keyctl", "bpf", "perf-event-open",
            "io-uring", "userfaultfd", "kexec", "module-loading", "inherited-fds", "runtime-binary", "tiocsti",
        ]

        /// The disk the device vectors try: one the host lets root open (`HostDisk`).
        static var disk: [String] {
            HostDisk.first.map { ["-e", "ESCAPE_DISK=\($0.major):\($0.minor)"] } ?? []
        }

        @Test("every vector is blocked in a confined container and each line says what stopped it; --privileged shows escapes",
              arguments: EscapeMode.all)
        func suite(mode: EscapeMode) throws {
            if let setupError = fixture.setupError { throw FixtureError(message: setupError) }
            // The QEMU VM's test directory takes no idmapped mounts (UserNamespaces is skipped there
            // too); on this host the mode always runs.
            if mode.options.contains("--userns=auto"), Host.inVM, Fixture.userNamespacesUnavailable != nil { return }
            let state = try fixture.makeStateRoot()
            // --userns=auto takes its range from subordinate id files of the test's own, never /etc's.
            let subuid = state + "-subuid", subgid = state + "-subgid"
            for file in [subuid, subgid] { try "root:100000:65536\n".write(toFile: file, atomically: true, encoding: .utf8) }
            defer { for file in [subuid, subgid] { try? FileManager.default.removeItem(atPath: file) } }
            let run = ["--root", state, "run", "--network", "none", "--cgroup-parent", fixture.cgroupParent, "--rootfs", fixture.rootfs]
                + mode.options + Self.disk + ["--", "/bin/escape"]
            let r = try Command.run("/usr/bin/env", ["BERTH_SUBUID_FILE=\(subuid)", "BERTH_SUBGID_FILE=\(subgid)", fixture.berth] + run,
                                    timeout: 240)
            Self.check(r, mode: mode)
        }

        /// The same vectors from a process `berth exec` put into a default container: the exec path
        /// must apply the same seccomp profile, capabilities, device list and namespaces.
        @Test("every vector is blocked for a process berth exec starts in a default container")
        func suiteThroughExec() throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "target"], ["/bin/sh", "-c", "while :; do sleep 1; done"])
            let r = try root.berth(["exec"] + Self.disk + ["target", "/bin/escape"], timeout: 240)
            Self.check(r, mode: EscapeMode.all[0])
        }

        /// One line per vector in order, each a verdict naming something; a confined mode has no
        /// ESCAPED line, an unconfined one shows its escapes.
        static func check(_ r: Command.Result, mode: EscapeMode) {
            let lines = r.stdout.split(separator: "\n")
            let parsed = lines.compactMap(EscapeLine.init)
            #expect(parsed.count == lines.count, "lines not in the VERDICT NAME: DETAIL shape:\n\(r.stdout)")
            #expect(parsed.map(\.vector) == vectors, "not one line per vector, in order:\n\(r.stdout)\n\(r.stderr)")
            for line in parsed where !["BLOCKED", "ESCAPED"].contains(line.verdict) {
                Issue.record("\(mode.name): the suite gave no verdict: \(line.text)")
            }
            for line in parsed where line.detail.isEmpty { Issue.record("\(mode.name): a line names nothing: \(line.text)") }
            if mode.confined {
                for line in parsed where line.verdict == "ESCAPED" { Issue.record("\(mode.name): \(line.text)") }
                #expect(r.status == 0, "\(r.stderr)")
            }
            for vector in mode.mustEscape {
                let line = parsed.first { $0.vector == vector }
                if line?.verdict == "BLOCKED", line?.detail.hasSuffix("(not in this kernel)") == true { continue }
                #expect(line?.verdict == "ESCAPED", "\(mode.name): \(vector) should escape: \(line?.text ?? "no line")")
            }
        }

        @Test("the device vectors name the device cgroup, the /proc files the read-only or masked mount, the calls seccomp")
        func mechanisms() throws {
            let r = try fixture.run(Self.disk, ["/bin/escape", "mknod-host-disk", "raw-block-read", "kmsg", "kcore",
                                                "sysrq-trigger", "core-pattern", "io-uring", "keyctl", "bpf"])
            let detail = Dictionary(r.stdout.split(separator: "\n").compactMap(EscapeLine.init)
                .map { ($0.vector, $0.verdict + " " + $0.detail) }, uniquingKeysWith: { first, _ in first })
            for vector in ["mknod-host-disk", "raw-block-read", "kmsg"] {
                #expect(detail[vector]?.hasPrefix("BLOCKED") == true && detail[vector]?.contains("EPERM (device cgroup)") == true,
                        "\(vector): \(detail[vector] ?? "no line")")
            }
            // Where the kernel has them (this host's has neither).
            if FileManager.default.fileExists(atPath: "/proc/kcore") {
                #expect(detail["kcore"]?.contains("(masked path)") == true, "\(detail["kcore"] ?? "no line")")
            }
            let readOnly = ["sysrq-trigger": "/proc/sysrq-trigger", "core-pattern": "/proc/sys/kernel/core_pattern"]
            for (vector, path) in readOnly where FileManager.default.fileExists(atPath: path) {
                #expect(detail[vector]?.contains("EROFS (read-only mount)") == true, "\(vector): \(detail[vector] ?? "no line")")
            }
            for vector in ["io-uring", "keyctl", "bpf"] {
                #expect(detail[vector]?.contains("EPERM (seccomp") == true, "\(vector): \(detail[vector] ?? "no line")")
            }
        }

        @Test("a vector that never answers is a TIMEOUT line, one that crashes a CRASHED line; both fail the run")
        func driverReportsNoVerdict() throws {
            let r = try fixture.run([], ["/bin/escape", "selftest-timeout", "keyctl", "selftest-crash"])
            let lines = r.stdout.split(separator: "\n").compactMap(EscapeLine.init)
            #expect(lines.map(\.verdict) == ["BLOCKED", "TIMEOUT", "CRASHED"], "\(r.stdout)")
            #expect(lines.last?.detail == "killed by SIGSEGV", "\(r.stdout)")
            #expect(r.status == 1)
        }

        @Test("an unknown vector is one sentence and a non-zero exit")
        func unknownVector() throws {
            let r = try fixture.run([], ["/bin/escape", "no-such-vector"])
            #expect(r.status == 2 && r.stderr.contains("escape: no vector no-such-vector"), "\(r.stderr)")
        }

        /// CVE-2019-5736's shape against `berth exec`: the container watches for a process whose
        /// binary lies outside its root, holds it, and once it exits reopens it for writing
        /// (opening only: the watcher never writes). Either the entering process between its setns
        /// and its execve (the plain command runs a few times: the window is short), or only a
        /// process run as "/proc/self/exe": berth again, as the interpreter of the
        /// `#!/proc/self/exe` script the watcher wrote. The host binary must be the same after.
        @Test("berth exec: the entering process's binary is out of the container's reach",
              arguments: [(["/bin/true"], [String]()), (["/escape-interp"], ["/proc/self/exe"])])
        func execEntersWithoutItsBinary(command: [String], onlyRunAs: [String]) throws {
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            let before = try Data(contentsOf: URL(fileURLWithPath: fixture.berth))
            _ = try root.runDetached(["--name", "watched"], ["/bin/escape", "watch", "20"] + onlyRunAs)
            #expect(try root.waitUntil(seconds: 30) { try root.berth(["logs", "watched"]).stdout.contains("watching") })
            for _ in 0..<5 { _ = try root.berth(["exec", "watched"] + command) }
            // No berth runs for a while (a running one keeps its binary busy): the watcher's turn.
            Thread.sleep(forTimeInterval: 2)
            #expect(try root.waitUntil(seconds: 40) { try root.status("watched")?.hasPrefix("Exited") == true })
            let logs = try root.berth(["logs", "watched"]).stdout
            let verdict = logs.split(separator: "\n").compactMap(EscapeLine.init).first { $0.vector == "runtime-binary" }
            #expect(verdict?.verdict == "BLOCKED", "\(verdict?.text ?? "no verdict:\n" + logs)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: fixture.berth)) == before, "the host's berth binary changed")
        }
    }
}

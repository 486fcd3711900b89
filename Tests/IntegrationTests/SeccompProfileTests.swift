import Foundation
import Testing

extension Containers {
    /// The default seccomp allowlist, --security-opt seccomp=FILE and the masked paths, seen from
    /// inside a container.
    @Suite("Seccomp and masked paths")
    struct SeccompAndMaskedPaths {
        let fixture = Fixture.shared

        @Test("the default profile refuses io_uring, userfaultfd, keyctl, bpf, perf_event_open; clone3 gets ENOSYS")
        func defaultRefusals() throws {
            let r = try fixture.run([], ["/bin/payload", "syscalls"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.output == "io_uring_setup=EPERM userfaultfd=EPERM keyctl=EPERM bpf=EPERM perf_event_open=EPERM clone3=ENOSYS")
        }

        @Test("ordinary work runs under the allowlist: a shell, pipes, background jobs, files, ps, date")
        func ordinaryWorkloads() throws {
            let script = """
                set -e; mkdir -p /tmp/w/d; echo hello > /tmp/w/d/f; ln -s f /tmp/w/d/l; mv /tmp/w/d/f /tmp/w/g
                (sleep 0; echo bg) & wait; ls /tmp/w | tr '\\n' ' '; cat /tmp/w/g | wc -c; ps >/dev/null
                date +%Y >/dev/null; chmod 600 /tmp/w/g; rm -r /tmp/w; echo done
                """
            let r = try fixture.run([], ["/bin/sh", "-c", script])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.output == "bg\nd g 6\ndone")
        }

        @Test("--privileged and seccomp=unconfined filter nothing")
        func unfiltered() throws {
            for options in [["--privileged"], ["--security-opt", "seccomp=unconfined"]] {
                let r = try fixture.run(options, ["/bin/payload", "syscalls"])
                #expect(r.status == 0, "\(r.stderr)")
                #expect(!r.output.contains("EPERM") && !r.output.contains("ENOSYS"), "\(options): \(r.output)")
            }
        }

        /// A profile in Docker's format, with an `includes` Docker resolves against the
        /// container's capabilities (rmdir is refused only to a container holding CAP_SYS_ADMIN).
        static let profile = """
            {"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "SCMP_ARCH_X86_64",
              "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
             "syscalls": [
              {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "comment": "no new directories"},
              {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "includes": {"caps": ["CAP_SYS_ADMIN"]}}
             ]}
            """

        func writeProfile(_ text: String) throws -> String {
            let path = fixture.workspace.appendingPathComponent("profile-\(UUID().uuidString.prefix(8)).json").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        @Test("--security-opt seccomp=FILE: a Docker profile's rules apply, its includes follow the capabilities")
        func customProfile() throws {
            let path = try writeProfile(Self.profile)
            defer { unlink(path) }
            // Nothing here may change the fixture's root, which every test shares: the mkdir is
            // refused, and the rmdir names a directory that does not exist.
            let script = "mkdir /tmp/d 2>&1; rmdir /no-such-dir 2>&1; echo end"
            let plain = try fixture.run(["--security-opt", "seccomp=" + path], ["/bin/sh", "-c", script])
            #expect(plain.output.contains("can't create directory '/tmp/d': Operation not permitted"), "\(plain.stdout)")
            #expect(plain.output.contains("No such file or directory"), "\(plain.stdout)")
            let admin = try fixture.run(["--security-opt", "seccomp=" + path, "--cap-add", "SYS_ADMIN"], ["/bin/sh", "-c", script])
            #expect(admin.output.contains("Permission denied"), "\(admin.stdout)")
            // The default allows, so io_uring and the rest reach the kernel.
            let calls = try fixture.run(["--security-opt", "seccomp=" + path], ["/bin/payload", "syscalls"])
            #expect(!calls.output.contains("EPERM"), "\(calls.output)")
        }

        @Test("a detached container keeps its profile for exec and a restart, without the file")
        func profileIsKeptInTheLaunchSpec() throws {
            let path = try writeProfile(Self.profile)
            let root = try LifecycleRoot(fixture)
            defer { root.removeAll() }
            _ = try root.runDetached(["--name", "box", "--security-opt", "seccomp=" + path], ["sleep", "1000"])
            unlink(path)
            let exec = try root.berth(["exec", "box", "sh", "-c", "mkdir /tmp/e 2>&1; echo end"])
            #expect(exec.output.contains("Operation not permitted"), "\(exec.stdout) \(exec.stderr)")
            let restarted = try root.berth(["restart", "box"])
            #expect(restarted.status == 0, "\(restarted.stderr)")
            let again = try root.berth(["exec", "box", "sh", "-c", "mkdir /tmp/e 2>&1; echo end"])
            #expect(again.output.contains("Operation not permitted"), "\(again.stdout) \(again.stderr)")
        }

        @Test("a bad profile is one line naming the file and the fault, and nothing is created", arguments: [
            ("{\"defaultAction\": \"SCMP_ACT_ALOW\"}", "unknown action \"SCMP_ACT_ALOW\""),
            ("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", "
                + "\"args\": [{\"index\": 7, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}", "argument index 7"),
            ("{\"defaultAction\": ", "seccomp profile"),
        ])
        func badProfile(text: String, fault: String) throws {
            let path = try writeProfile(text)
            defer { unlink(path) }
            let state = try fixture.makeStateRoot()
            let r = try fixture.run(["--security-opt", "seccomp=" + path], ["/bin/true"], root: state)
            #expect(r.status == 125)
            let message = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(!message.contains("\n") && message.contains(path) && message.contains(fault), "\(message)")
            let containers = Kernel.containerEntries(state + "/containers")
            #expect(containers.isEmpty)
            let missing = try fixture.run(["--security-opt", "seccomp=/nonexistent.json"], ["/bin/true"], root: state)
            #expect(missing.status == 125 && missing.stderr.contains("/nonexistent.json"))
        }

        @Test("masked paths read empty; systempaths=unconfined lifts masks and read-only paths")
        func maskedPaths() throws {
            let script = "wc -c < /proc/interrupts; grep -c -E ' /proc/(interrupts|sys) ' /proc/self/mountinfo"
            let masked = try fixture.run([], ["/bin/sh", "-c", script + "; wc -c < /proc/timer_list"])
            #expect(masked.output == "0\n2\n0", "\(masked.stdout) \(masked.stderr)")
            let unconfined = try fixture.run(["--security-opt", "systempaths=unconfined"], ["/bin/sh", "-c", script])
            let lines = unconfined.output.split(separator: "\n")
            #expect(lines.count == 2 && (Int(lines[0]) ?? 0) > 0 && lines[1] == "0", "\(unconfined.stdout) \(unconfined.stderr)")
        }
    }
}

import CSpawn
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Runtime

/// The child's setup failures (step, index, errno over the error pipe) turned into one sentence.
@Suite("Child failures") struct ChildFailureTests {
    static func config(_ edit: (inout ContainerConfig) -> Void = { _ in }) -> ContainerConfig {
        var config = ContainerConfig(id: String(repeating: "c", count: 64), rootfs: "/srv/root",
                                     args: ["/usr/bin/app", "--flag"], env: [])
        edit(&config)
        return config
    }

    static func error(_ step: berth_step, index: Int32 = -1, errno: Int32,
                      config: ContainerConfig = config(), operations: [MountOperation] = []) -> RuntimeError {
        let raw = berth_child_error(step: Int32(step.rawValue), index: index, error: errno)
        return ChildFailure(raw, config: config, operations: operations).error
    }

    @Suite("exec") struct Exec {
        @Test func missingCommandIsNotFound() {
            let error = ChildFailureTests.error(BERTH_STEP_EXEC, errno: ENOENT)
            #expect(error.code == .commandNotFound)
            #expect(error.errno == nil)
            #expect(error.description == "exec /usr/bin/app: no such file or directory in the container's root")
        }

        @Test func permissionDeniedIsNotExecutable() {
            let error = ChildFailureTests.error(BERTH_STEP_EXEC, errno: EACCES)
            #expect(error.code == .notExecutable)
            #expect(error.description
                == "exec /usr/bin/app: permission denied (not an executable file, or no execute permission)")
        }

        @Test func wrongFormatIsNotExecutable() {
            let error = ChildFailureTests.error(BERTH_STEP_EXEC, errno: ENOEXEC)
            #expect(error.code == .notExecutable)
            #expect(error.description
                == "exec /usr/bin/app: exec format error (not a binary for this machine, or a script without #!)")
        }

        @Test func otherErrnoIsNotExecutableWithTheSystemText() {
            let error = ChildFailureTests.error(BERTH_STEP_EXEC, errno: E2BIG)
            #expect(error.code == .notExecutable)
            #expect(error.errno == E2BIG)
            #expect(error.description == "exec /usr/bin/app: argument list too long")
        }

        @Test func commandNameIsArgvZero() {
            let config = ChildFailureTests.config { $0.args = ["sh", "-c", "exit 1"] }
            let error = ChildFailureTests.error(BERTH_STEP_EXEC, errno: ENOENT, config: config)
            #expect(error.description == "exec sh: no such file or directory in the container's root")
        }
    }

    @Suite("mounts") struct Mounts {
        static let operations = MountPlan.operations(for: ChildFailureTests.config {
            $0.bindMounts = [BindMount(source: "/srv/data", destination: "/data", readOnly: true)]
        }, cgroupMode: .unified, consolePath: nil)

        @Test func mountFailureNamesTheOperation() throws {
            let index = try #require(Mounts.operations.firstIndex { $0.target == "/proc" })
            let error = ChildFailureTests.error(BERTH_STEP_MOUNT, index: Int32(index), errno: EPERM,
                                                operations: Mounts.operations)
            #expect(error.code == .systemError)
            #expect(error.errno == EPERM)
            #expect(error.description
                == "container setup failed: mount proc proc on /proc (nosuid,nodev,noexec): operation not permitted")
        }

        @Test func mountTargetFailureSaysTheMountPointCouldNotBeMade() throws {
            let index = try #require(Mounts.operations.firstIndex { $0.target == "/data" })
            let error = ChildFailureTests.error(BERTH_STEP_MOUNT_TARGET, index: Int32(index), errno: ENOTDIR,
                                                operations: Mounts.operations)
            #expect(error.code == .systemError)
            #expect(error.description
                == "container setup failed: create the mount point for bind /srv/data on /data (ro): not a directory")
        }

        @Test(arguments: [-1, 999] as [Int32])
        func indexOutsideThePlanIsNamedByNumber(index: Int32) {
            let error = ChildFailureTests.error(BERTH_STEP_MOUNT, index: index, errno: EINVAL,
                                                operations: Mounts.operations)
            #expect(error.description == "container setup failed: mount #\(index): invalid argument")
        }
    }

    @Suite("other steps") struct OtherSteps {
        @Test func workdir() {
            let config = ChildFailureTests.config { $0.workingDirectory = "/srv/app" }
            let error = ChildFailureTests.error(BERTH_STEP_WORKDIR, errno: ENOTDIR, config: config)
            #expect(error.code == .invalidArgument)
            #expect(error.description == "working directory /srv/app in the container: not a directory")
        }

        @Test(arguments: [(BERTH_STEP_SETUID, "setuid"), (BERTH_STEP_SETGID, "setgid"),
                          (BERTH_STEP_SETGROUPS, "setgroups")])
        func switchingUserNamesTheUserAndTheCall(step: berth_step, name: String) {
            let config = ChildFailureTests.config { $0.user = ProcessUser(uid: 1000, gid: 100) }
            let error = ChildFailureTests.error(step, errno: EPERM, config: config)
            #expect(error.code == .systemError)
            #expect(error.description
                == "container setup failed: switch to user 1000:100 (\(name)): operation not permitted")
        }

        @Test func rlimitNamesTheResourceOfTheEntry() {
            let config = ChildFailureTests.config {
                $0.rlimits = [ResourceLimit(resource: 7, soft: 10, hard: 10), ResourceLimit(resource: 6, soft: 1, hard: 1)]
            }
            let error = ChildFailureTests.error(BERTH_STEP_RLIMIT, index: 1, errno: EPERM, config: config)
            #expect(error.code == .invalidArgument)
            // Issue 11: the flag's own name, not "resource 6".
            #expect(error.description == "--ulimit nproc=1:1 cannot be set (above the hard limit berth itself has: "
                        + "`ulimit -H` shows it): operation not permitted")
            let unlimited = ChildFailureTests.config { $0.rlimits = [ResourceLimit(resource: 7, soft: UInt64.max, hard: UInt64.max)] }
            #expect(ChildFailureTests.error(BERTH_STEP_RLIMIT, index: 0, errno: EPERM, config: unlimited).description
                        .hasPrefix("--ulimit nofile=unlimited:unlimited cannot be set"))
            let outside = ChildFailureTests.error(BERTH_STEP_RLIMIT, index: 5, errno: EINVAL, config: config)
            #expect(outside.description == "container setup failed: setrlimit: invalid argument")
        }

        /// The index is the entry in the order the child joins them: the user namespace first,
        /// the pid namespace not at all (the parent enters it).
        @Test func joiningANamespaceNamesItsPath() {
            let config = ChildFailureTests.config {
                $0.joinedNamespaces = [NamespaceJoin(kind: .pid, path: "/proc/9/ns/pid"), NamespaceJoin(kind: .ipc, path: "/proc/9/ns/ipc"),
                                       NamespaceJoin(kind: .user, path: "/proc/9/ns/user")]
            }
            let error = ChildFailureTests.error(BERTH_STEP_JOIN_NAMESPACES, index: 1, errno: EPERM, config: config)
            #expect(error.description == "container setup failed: join the ipc namespace at /proc/9/ns/ipc (setns): operation not permitted")
            let exec = ChildFailureTests.error(BERTH_STEP_JOIN_NAMESPACES, errno: EPERM, config: config)
            #expect(exec.description == "container setup failed: setns: operation not permitted")
        }

        @Test(arguments: [
            (BERTH_STEP_PIVOT_ROOT, EINVAL, "container setup failed: pivot_root: invalid argument"),
            (BERTH_STEP_SECCOMP, EINVAL, "container setup failed: load the seccomp filter: invalid argument"),
            (BERTH_STEP_HOSTNAME, EINVAL, "container setup failed: sethostname: invalid argument"),
            (BERTH_STEP_CAPSET, EPERM, "container setup failed: set capabilities: operation not permitted"),
            (BERTH_STEP_UNSHARE_CGROUP, EINVAL, "container setup failed: create the cgroup namespace: invalid argument"),
            (BERTH_STEP_NONE, EPROTO, "container setup failed: set up the container: protocol error"),
            (BERTH_STEP_TIME_OFFSETS, EPERM, "container setup failed: write the time namespace's offsets: operation not permitted"),
            (BERTH_STEP_PERSONALITY, EINVAL, "container setup failed: set the personality: invalid argument"),
        ] as [(berth_step, Int32, String)])
        func genericStepsUseTheStepName(step: berth_step, errno: Int32, text: String) {
            let error = ChildFailureTests.error(step, errno: errno)
            #expect(error.code == .systemError)
            #expect(error.errno == errno)
            #expect(error.description == text)
        }
    }
}

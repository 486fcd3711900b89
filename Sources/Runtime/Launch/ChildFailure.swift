import CSpawn
#if canImport(Glibc)
import Glibc
#endif

/// A setup failure reported by the child over its error pipe, turned into one sentence that
/// says what could not be done inside the container.
struct ChildFailure {
    let step: Int32
    let index: Int32
    let errno: Int32
    let config: ContainerConfig
    let operations: [MountOperation]

    init(_ e: berth_child_error, config: ContainerConfig, operations: [MountOperation]) {
        step = e.step
        index = e.index
        errno = e.error
        self.config = config
        self.operations = operations
    }

    var error: RuntimeError {
        let command = config.args.first ?? ""
        switch UInt32(step) {
        case BERTH_STEP_EXEC.rawValue:
            switch errno {
            case ENOENT:
                return RuntimeError(.commandNotFound, "exec \(command): no such file or directory in the container's root")
            case EACCES:
                return RuntimeError(.notExecutable, "exec \(command): permission denied (not an executable file, or no execute permission)")
            case ENOEXEC:
                return RuntimeError(.notExecutable, "exec \(command): exec format error (not a binary for this machine, or a script without #!)")
            default:
                return RuntimeError(.notExecutable, "exec \(command)", errno: errno)
            }
        case BERTH_STEP_MOUNT.rawValue, BERTH_STEP_MOUNT_TARGET.rawValue:
            let what = operations.indices.contains(Int(index)) ? operations[Int(index)].description : "mount #\(index)"
            let prefix = UInt32(step) == BERTH_STEP_MOUNT_TARGET.rawValue ? "create the mount point for " : ""
            return RuntimeError(.systemError, "container setup failed: \(prefix)\(what)", errno: errno)
        case BERTH_STEP_JOIN_NAMESPACES.rawValue
            where NamespaceFiles.childOrder(config.joinedNamespaces).indices.contains(Int(index)):
            let join = NamespaceFiles.childOrder(config.joinedNamespaces)[Int(index)]
            return RuntimeError(.systemError, "container setup failed: join the \(join.kind.rawValue) namespace at \(join.path) (setns)",
                                errno: errno)
        case BERTH_STEP_WORKDIR.rawValue:
            return RuntimeError(.invalidArgument, "working directory \(config.workingDirectory) in the container", errno: errno)
        case BERTH_STEP_SETUID.rawValue, BERTH_STEP_SETGID.rawValue, BERTH_STEP_SETGROUPS.rawValue:
            return RuntimeError(.systemError,
                                "container setup failed: switch to user \(config.user.uid):\(config.user.gid) (\(stepName))",
                                errno: errno)
        case BERTH_STEP_RLIMIT.rawValue:
            guard config.rlimits.indices.contains(Int(index)) else {
                return RuntimeError(.invalidArgument, "container setup failed: setrlimit", errno: errno)
            }
            let limit = config.rlimits[Int(index)]
            let name = ResourceLimit.names.first { $0.value == limit.resource }?.key ?? "resource \(limit.resource)"
            let value = { (v: UInt64) in v == UInt64.max ? "unlimited" : String(v) }
            // Raising a hard limit needs CAP_SYS_RESOURCE, which berth may not have (EPERM).
            let hint = errno == EPERM ? " (above the hard limit berth itself has: `ulimit -H` shows it)" : ""
            return RuntimeError(.invalidArgument,
                                "--ulimit \(name)=\(value(limit.soft)):\(value(limit.hard)) cannot be set\(hint)", errno: errno)
        default:
            return RuntimeError(.systemError, "container setup failed: \(stepName)", errno: errno)
        }
    }

    private var stepName: String { String(cString: berth_step_name(step)) }
}

import CSpawn
#if canImport(Glibc)
import Glibc
#endif

/// The program a detached container's adopter execs once the container runs (berth-monitor),
/// with its arguments: `pidPlaceholder` among them stands for the container's pid, which only
/// the adopter learns before the exec. `keeping`: the fds it inherits (they stay close-on-exec
/// here: only the adopter's copies are made inheritable).
public struct MonitorCommand: Sendable {
    public static let pidPlaceholder = "{pid}"

    public let arguments: [String]
    public let keptFDs: [Int32]

    /// `arguments[0]` is the program's path.
    public init(arguments: [String], keeping keptFDs: [Int32]) {
        precondition(!arguments.isEmpty && arguments.contains(Self.pidPlaceholder), "a monitor command names its program and the pid")
        self.arguments = arguments
        self.keptFDs = keptFDs
    }

    /// Calls `body` with the C description of the adopter, valid only during the call.
    func withAdopter(_ body: (inout berth_adopter) -> Int32) -> Int32 {
        // The placeholder's string is a buffer the adopter writes the pid into: room for any pid.
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { argument in
            argument == Self.pidPlaceholder ? calloc(16, 1)?.assumingMemoryBound(to: CChar.self) : strdup(argument)
        }
        defer { argv.forEach { free($0) } }
        let nullFD = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if nullFD >= 0 { close(nullFD) } }
        guard nullFD >= 0, !argv.contains(where: { $0 == nil }),
              let slot = arguments.firstIndex(of: Self.pidPlaceholder) else { return -ENOMEM }
        let pidSlot = argv[slot]
        argv.append(nil)
        return argv.withUnsafeBufferPointer { pointers in
            keptFDs.withUnsafeBufferPointer { kept in
                var description = berth_adopter(path: pointers[0], argv: pointers.baseAddress, envp: environ,
                                                pid_slot: pidSlot, null_fd: nullFD, keep_fds: kept.baseAddress,
                                                n_keep_fds: kept.count)
                return body(&description)
            }
        }
    }
}

/// The process that is a detached container's parent and becomes its monitor
/// (`Launcher.launchAdopted`), waiting for the caller's verdict.
public struct ContainerAdopter: Sendable {
    /// The caller's child.
    public let pid: pid_t
    let goFD: Int32

    /// Lets it exec the monitor. Throws when it is gone (so, with it, the container).
    public func adopt() throws {
        let rc = berth_adopter_verdict(pid, goFD, 1)
        guard rc == 0 else { throw RuntimeError(.systemError, "cannot hand the container to its monitor", errno: -rc) }
    }

    /// Makes it end the container and exit, and reaps it.
    public func abandon() {
        _ = berth_adopter_verdict(pid, goFD, 0)
    }
}

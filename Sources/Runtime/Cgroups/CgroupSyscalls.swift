import CFileSystem
import CSpawn
#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// The cgroupfs operations a plain directory cannot imitate: mkdir (the kernel fills a new
/// cgroup with its control files), rmdir (the kernel removes a cgroup that still holds them, or
/// refuses while processes are inside), killing the processes inside, attaching a v2 device
/// program, and the mark berth sets on the parent levels it makes (`CgroupAncestors`; a trusted
/// xattr, which needs root).
///
/// The drivers take them as a value so the fixture tests can stand in for the kernel (youki's
/// recording-fake pattern) while every control file is still read and written for real.
struct CgroupSyscalls: Sendable {
    var makeDirectory: @Sendable (String) throws(Errno) -> Void
    var removeDirectory: @Sendable (String) throws(Errno) -> Void
    var kill: @Sendable (pid_t) -> Void
    var mark: @Sendable (String) -> Void
    var isMarked: @Sendable (String) -> Bool
    /// Loads the instructions as a device program and attaches it to the cgroup directory fd,
    /// replacing the one there; the error's text is the verifier's log when it refused them.
    var attachDeviceProgram: @Sendable (Int32, [BPFInstruction]) throws(DeviceProgramError) -> Void = Self.attachLive

    static let live = CgroupSyscalls(
        makeDirectory: { path throws(Errno) in
            if mkdir(path, 0o755) != 0 { throw Errno(rawValue: errno) }
        },
        removeDirectory: { path throws(Errno) in
            if rmdir(path) != 0 { throw Errno(rawValue: errno) }
        },
        kill: { pid in
            // ESRCH (already gone) is the outcome we want; nothing else is actionable here.
            _ = Glibc.kill(pid, SIGKILL)
        },
        mark: { path in
            // A failure leaves the level unmarked, so it is kept: nothing to report.
            _ = setxattr(path, CgroupAncestors.markName, "1", 1, 0)
        },
        isMarked: { path in
            getxattr(path, CgroupAncestors.markName, nil, 0) >= 0
        }
    )

    private static let attachLive: @Sendable (Int32, [BPFInstruction]) throws(DeviceProgramError) -> Void = {
        fd, program throws(DeviceProgramError) in
        let bytes = program.flatMap(\.bytes)
        var log = [CChar](repeating: 0, count: 4096)
        let rc = bytes.withUnsafeBytes { code in
            berth_attach_device_program(fd, code.baseAddress, UInt32(program.count), &log, log.count)
        }
        guard rc != 0 else { return }
        let err = errno
        let text = String(decoding: log.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw DeviceProgramError(errno: Errno(rawValue: err), verifierLog: text)
    }
}

/// Why a device program was not attached: the errno, and the verifier's log when it refused.
struct DeviceProgramError: Error {
    var errno: Errno
    var verifierLog: String
}

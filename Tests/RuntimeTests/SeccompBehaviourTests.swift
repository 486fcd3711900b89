import Foundation
import Testing
import Runtime

extension SeccompTests {
    /// The compiled default profile loaded into a real process (the helper), calls made for real.
    /// No root needed: no_new_privs makes seccomp available to anyone.
    @Suite("behaviour", .enabled(if: SeccompHelper.isAvailable, "needs gcc to build the helper"))
    struct Behaviour {
        static let defaultProgram: String? = try? SeccompHelper.write(SeccompProfile.default.compile(cacheDirectory: nil))

        func filtered(_ op: String, _ argument: UInt64 = 0) throws -> SeccompHelper.Outcome {
            try SeccompHelper.run(try #require(Self.defaultProgram), op, argument)
        }

        @Test(arguments: [
            ("unshare", 0), ("unshare", 0x0400_0000), ("setns", 0), ("mount", 0), ("umount2", 0), ("fsopen", 0),
            ("keyctl", 0), ("add_key", 0), ("bpf", 0), ("perf_event_open", 0), ("io_uring_setup", 0),
            ("userfaultfd", 0), ("kexec_load", 0),
            ("clone", 0x0002_0000), ("clone", 0x0400_0000), ("clone", 0x1000_0000), ("clone", 0x2000_0000),
            ("clone", 0x4000_0000), ("clone", 0x0200_0000), ("clone", 0x0800_0000), ("clone", 0x5000_0000),
            ("personality", 0xffff), ("personality", 0x0040_0000), ("personality", 0x0004_0000),
            ("personality", 0x1), ("personality", 0xffff_fff7), ("personality", 0x2_0009),
            ("personality", 0x1_0000_0000),
        ] as [(String, UInt64)])
        func deniedWithEPERM(op: String, argument: UInt64) throws {
            #expect(try filtered(op, argument) == .errno(EPERM))
        }

        @Test(arguments: [
            ("getpid", 0), ("uname", 0), ("fork", 0), ("clone", 0), ("chroot", 0),
            ("personality", 0), ("personality", 0x8), ("personality", 0x2_0000), ("personality", 0x2_0008),
            ("personality", 0xffff_ffff),
        ] as [(String, UInt64)])
        func allowed(op: String, argument: UInt64) throws {
            #expect(try filtered(op, argument) == .errno(0))
        }

        /// Docker allows ptrace itself (the kernel's own checks apply); the bogus request fails,
        /// but not with the filter's EPERM.
        @Test func ptraceReachesTheKernel() throws {
            let outcome = try filtered("ptrace")
            #expect(outcome != .errno(EPERM) && outcome != .errno(0))
        }

        @Test func clone3FailsWithENOSYSSoLibcFallsBack() throws {
            #expect(try filtered("clone3") == .errno(ENOSYS))
        }

        /// Without the filter these calls give something other than EPERM, even unprivileged, so
        /// the EPERMs above come from the filter and not from missing privileges.
        @Test(arguments: [("mount", EFAULT), ("keyctl", EOPNOTSUPP), ("unshare", 0), ("clone3", EINVAL)] as [(String, Int32)])
        func baselineWithoutTheFilter(op: String, errno: Int32) throws {
            #expect(try SeccompHelper.run("-", op) == .errno(errno))
        }

        #if arch(x86_64)
        /// 32-bit calls (int $0x80) and x32 calls have their own numbers; the filter covers them.
        @Test func otherABIsAreFilteredToo() throws {
            #expect(try filtered("i386-unshare") == .errno(EPERM))
            #expect(try filtered("x32-unshare") == .errno(EPERM))
            #expect(try filtered("i386-getpid") == .errno(0))
            #expect(try SeccompHelper.run("-", "i386-unshare") != .errno(EPERM))
        }
        #endif

        /// A number above every call the profile names is a call newer than the profile: ENOSYS,
        /// so a C library falls back. A number below it that no rule allows stays EPERM.
        @Test func callsNewerThanTheProfileFailWithENOSYS() throws {
            let profile = SeccompProfile(defaultAction: .errno(UInt16(EPERM)), architectures: SeccompArchitecture.nativeCompanions,
                                         rules: [SeccompRule(names: Self.helperNeeds + ["getpid"], action: .allow)])
            let path = try SeccompHelper.write(profile.compile(cacheDirectory: nil))
            defer { unlink(path) }
            #expect(try SeccompHelper.run(path, "getpid") == .errno(0))
            #expect(try SeccompHelper.run(path, "uname") == .errno(EPERM))
            #expect(try SeccompHelper.run(path, "unshare") == .errno(ENOSYS))
            #expect(try SeccompHelper.run(path, "nr", 1000) == .errno(ENOSYS))
            #if arch(x86_64)
            #expect(try SeccompHelper.run(path, "i386-getpid") == .errno(0))
            #expect(try SeccompHelper.run(path, "i386-nr", 122) == .errno(EPERM))  // uname
            #expect(try SeccompHelper.run(path, "i386-nr", 310) == .errno(ENOSYS))  // unshare
            #expect(try SeccompHelper.run(path, "x32-unshare") == .errno(EPERM))
            #endif
            // A default that allows keeps allowing calls it does not name.
            let open = SeccompProfile(defaultAction: .allow, architectures: [],
                                      rules: [SeccompRule(names: ["getpid"], action: .errno(UInt16(EACCES)))])
            let openPath = try SeccompHelper.write(open.compile(cacheDirectory: nil))
            defer { unlink(openPath) }
            #expect(try SeccompHelper.run(openPath, "unshare") == .errno(0))
        }

        /// What the helper itself calls after loading a filter: printing, exiting.
        static let helperNeeds = [
            "write", "exit_group", "exit", "fstat", "newfstatat", "fstat64", "fstatat64", "brk", "mmap", "mmap2",
            "munmap", "close", "rt_sigreturn",
        ]

        @Test func aLiftingCapabilityAllowsTheCall() throws {
            let profile = SeccompProfile.default(for: try CapabilitySet.containerDefault.applying(add: ["SYS_ADMIN"], drop: []))
            let path = try SeccompHelper.write(profile.compile(cacheDirectory: nil))
            defer { unlink(path) }
            #expect(try SeccompHelper.run(path, "unshare") == .errno(0))
            #expect(try SeccompHelper.run(path, "clone3") == .errno(EINVAL))
            #expect(try SeccompHelper.run(path, "keyctl") == .errno(EPERM))
        }

        @Test func ociActionsDoWhatTheySay() throws {
            let oci = OCIRuntimeSpec.Linux.Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
                .init(names: ["getpid"], action: "SCMP_ACT_ERRNO", errnoRet: UInt32(ENOSYS)),
                .init(names: ["uname"], action: "SCMP_ACT_KILL_PROCESS"),
                .init(names: ["unshare"], action: "SCMP_ACT_TRAP"),
                .init(names: ["personality"], action: "SCMP_ACT_ERRNO",
                      args: [.init(index: 0, value: 0xff, valueTwo: 0x42, op: "SCMP_CMP_MASKED_EQ")]),
            ])
            let path = try SeccompHelper.write(SeccompProfile(oci: oci).compile(cacheDirectory: nil))
            defer { unlink(path) }
            #expect(try SeccompHelper.run(path, "getpid") == .errno(ENOSYS))
            #expect(try SeccompHelper.run(path, "uname") == .signal(SIGSYS))
            #expect(try SeccompHelper.run(path, "unshare") == .signal(SIGSYS))
            #expect(try SeccompHelper.run(path, "personality", 0x1142) == .errno(EPERM))
            #expect(try SeccompHelper.run(path, "personality", 0x8) == .errno(0))
        }
    }
}

import CLibcap
#if canImport(Glibc)
import Glibc
#endif

extension SeccompProfile {
    /// berth's default profile for a container holding `capabilities`.
    ///
    /// A denylist: every system call is allowed except those that reach state the kernel does
    /// not namespace (modules, kexec, reboot, swap, the clock, process accounting, keyrings),
    /// those that have been the usual way out of a container (bpf, perf_event_open, ptrace and
    /// its relatives, the mount APIs, setns/unshare and namespace flags to clone, file handles,
    /// userfaultfd), and obsolete calls nothing needs (uselib, ustat, sysfs, _sysctl, vm86, …).
    /// Denied calls fail with EPERM, except clone3, which fails with ENOSYS so that the C library
    /// falls back to clone, whose flags the filter can see (clone3 passes them in memory).
    ///
    /// Like Docker's profile, a capability the container is given lifts the denials that only
    /// matter without it (CAP_SYS_ADMIN allows mount, CAP_SYS_PTRACE allows ptrace, …): the
    /// kernel checks the capability anyway, and the user asked for what it permits.
    /// The profile filters the native ABI and its companions (x86 and x32 on x86_64).
    public static func `default`(for capabilities: CapabilitySet) -> SeccompProfile {
        SeccompProfile(
            defaultAction: .allow,
            architectures: SeccompArchitecture.nativeCompanions,
            rules: DefaultSeccompPolicy.denials.filter { !$0.isLifted(by: capabilities) }.map { $0.rule })
    }
}

/// The data behind `SeccompProfile.default(for:)`.
enum DefaultSeccompPolicy {
    /// One rule of the default profile and the capabilities, any one of which lifts it.
    struct Denial {
        var rule: SeccompRule
        /// Empty when nothing lifts the denial.
        var liftedBy: CapabilitySet

        func isLifted(by capabilities: CapabilitySet) -> Bool {
            !liftedBy.isEmpty && capabilities.bits & liftedBy.bits != 0
        }
    }

    static let denials: [Denial] = [
        deny(["init_module", "finit_module", "delete_module"], unless: CAP_SYS_MODULE),
        deny(["create_module", "query_module", "get_kernel_syms"]),
        deny(["kexec_load", "kexec_file_load", "reboot"], unless: CAP_SYS_BOOT),
        deny(["swapon", "swapoff"]),
        // adjtimex and clock_adjtime stay allowed: reading the clock's state through them is
        // common (chrony, ntpstat), and the kernel wants CAP_SYS_TIME before they change anything.
        deny(["settimeofday", "stime", "clock_settime", "clock_settime64"], unless: CAP_SYS_TIME),
        deny(["acct"], unless: CAP_SYS_PACCT),
        // Keyrings are not namespaced: a container could read or fill the host's.
        deny(["add_key", "request_key", "keyctl"]),
        deny(["bpf"], unless: CAP_SYS_ADMIN, CAP_BPF),
        deny(["perf_event_open"], unless: CAP_SYS_ADMIN, CAP_PERFMON),
        deny(["ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "userfaultfd"],
             unless: CAP_SYS_PTRACE),
        deny(["mount", "umount", "umount2", "pivot_root",
              "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
              "setns", "unshare", "name_to_handle_at", "quotactl", "quotactl_fd", "lookup_dcookie"],
             unless: CAP_SYS_ADMIN),
        deny(["open_by_handle_at"], unless: CAP_DAC_READ_SEARCH),
        deny(["iopl", "ioperm"], unless: CAP_SYS_RAWIO),
        deny(["uselib", "ustat", "sysfs", "_sysctl", "nfsservctl", "vm86", "vm86old"]),
    ] + personalityDenials + cloneDenials

    /// The namespace flags of clone(2) (CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID,
    /// NEWNET; kernel ABI, spelled out because Swift's Glibc leaves sched.h's GNU part out).
    /// CLONE_NEWTIME is left out: in clone's flags its bit is part of the exit-signal byte; only
    /// unshare and clone3 take it.
    static let cloneNamespaceFlags: [UInt64] = [
        0x0002_0000, 0x0200_0000, 0x0400_0000, 0x0800_0000, 0x1000_0000, 0x2000_0000, 0x4000_0000,
    ]

    /// clone with any namespace flag, one rule per flag because rules on one syscall are ORed
    /// and libseccomp has no "masked not-equal". clone3 answers ENOSYS (see the profile's doc).
    static let cloneDenials: [Denial] = cloneNamespaceFlags.map { flag in
        deny(["clone"], when: [SeccompCondition(index: 0, op: .maskedEqual, value: flag, valueTwo: flag)],
             unless: CAP_SYS_ADMIN)
    } + [Denial(rule: SeccompRule(names: ["clone3"], action: .errno(UInt16(ENOSYS))),
                liftedBy: capabilities(CAP_SYS_ADMIN))]

    /// personality(2) with anything but the values Docker allows: PER_LINUX (0), PER_LINUX32 (8),
    /// UNAME26 (0x20000), UNAME26|PER_LINUX32 (0x20008), and the query 0xffffffff. Other values
    /// turn off ASLR (ADDR_NO_RANDOMIZE) or make data executable (READ_IMPLIES_EXEC).
    ///
    /// "Not one of five values" needs several comparisons of one argument, which libseccomp
    /// refuses in one rule, and an ALLOW rule beside a default ALLOW is refused too. So the
    /// denied set is written as a union of single comparisons, each of which denies only bad
    /// values: a 32-bit value is allowed iff its bits outside 0x20008 (call them "other bits") are
    /// all clear, or it is 0xffffffff. Denied are therefore
    ///   - values above 32 bits;
    ///   - all other bits set but not all of 0x20008 (three values, one EQ-like rule each);
    ///   - some other bits set and some clear: then, walking the other bits in a circle, some set
    ///     bit is followed by a clear one, so one masked compare per neighbouring pair covers it.
    static let personalityDenials: [Denial] = {
        let allowedFlags: UInt64 = 0x20008
        let low32: UInt64 = 0xffff_ffff
        let otherBits = (0..<32).map { UInt64(1) << UInt64($0) }.filter { $0 & allowedFlags == 0 }
        let otherMask = otherBits.reduce(0, |)
        var conditions = [SeccompCondition(index: 0, op: .greaterThan, value: low32)]
        for flags: UInt64 in [0, 0x8, 0x20000] {
            conditions.append(SeccompCondition(index: 0, op: .maskedEqual, value: low32, valueTwo: otherMask | flags))
        }
        for (position, bit) in otherBits.enumerated() {
            let next = otherBits[(position + 1) % otherBits.count]
            conditions.append(SeccompCondition(index: 0, op: .maskedEqual, value: bit | next, valueTwo: bit))
        }
        return conditions.map { deny(["personality"], when: [$0]) }
    }()

    private static func deny(_ names: [String], when conditions: [SeccompCondition] = [],
                             unless lifting: Int32...) -> Denial {
        Denial(rule: SeccompRule(names: names, action: .errno(UInt16(EPERM)), conditions: conditions),
               liftedBy: capabilities(lifting))
    }

    private static func capabilities(_ numbers: Int32...) -> CapabilitySet { capabilities(numbers) }

    private static func capabilities(_ numbers: [Int32]) -> CapabilitySet {
        CapabilitySet(bits: numbers.reduce(0) { $0 | (UInt64(1) << UInt64($1)) })
    }
}

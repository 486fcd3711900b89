import CLibcap
#if canImport(Glibc)
import Glibc
#endif

extension SeccompProfile {
    /// berth's default profile for a container holding `capabilities`.
    ///
    /// An allowlist, the one Docker's default profile (moby's profiles/seccomp) describes: the
    /// calls ordinary programs make are allowed, everything else fails with EPERM. Among what is
    /// left out: io_uring (its rings do I/O the filter never sees; Docker dropped it too),
    /// userfaultfd, the keyrings (not namespaced), modules, kexec, swap, the clock, the mount
    /// APIs, setns and unshare, bpf and perf_event_open. A capability the container is given
    /// allows the calls that only make sense with it (CAP_SYS_ADMIN: mount, unshare, setns,
    /// namespace flags to clone; CAP_SYS_PTRACE: kcmp, pidfd_getfd; …): the kernel checks the
    /// capability anyway, and the user asked for what it permits.
    ///
    /// Two answers are ENOSYS instead, so that a C library falls back to an older call instead of
    /// failing: clone3 (its flags are in memory, where the filter can't look for namespace flags;
    /// glibc then uses clone), and every system-call number above the highest one the profile
    /// names (calls newer than the profile, such as fchmodat2 with libseccomp 2.5; see
    /// `SeccompNewSyscallStub`). The profile filters the native ABI and its companions (x86 and
    /// x32 on x86_64).
    public static func `default`(for capabilities: CapabilitySet) -> SeccompProfile {
        let native = SeccompArchitecture.native
        let entries = DefaultSeccompPolicy.entries.filter { $0.applies(capabilities: capabilities, native: native) }
        // One rule for every unconditional allow, each name once: entries overlap when several
        // capabilities are held (bpf with both CAP_SYS_ADMIN and CAP_BPF). The everyday list has
        // no repeats and none of the other entries' names (a test checks); only the few names
        // after it are compared, linearly: a Set<String> here costs 0.2 ms a run in the static
        // binary (hashing, and the runtime's first conformance lookups).
        var allowed = DefaultSeccompPolicy.everyday
        let everydayCount = allowed.count
        for entry in entries.dropFirst() where entry.action == .allow && entry.conditions.isEmpty {
            for name in entry.names where !allowed[everydayCount...].contains(name) { allowed.append(name) }
        }
        let others = entries.filter { $0.action != .allow || !$0.conditions.isEmpty }.map {
            SeccompRule(names: $0.names, action: $0.action, conditions: $0.conditions)
        }
        var profile = SeccompProfile(
            defaultAction: .errno(UInt16(EPERM)),
            architectures: SeccompArchitecture.nativeCompanions,
            rules: [SeccompRule(names: allowed, action: .allow)] + others)
        profile.compilesAsRanges = true
        return profile
    }
}

extension SeccompProfile {
    /// This profile, allowed to compile as ranges (`compilesAsRanges`) when it is exactly the
    /// default profile for `capabilities`: the OCI form it is kept in does not say so.
    public func recognizingTheDefault(for capabilities: CapabilitySet) -> SeccompProfile {
        guard !compilesAsRanges, defaultAction == .errno(UInt16(EPERM)) else { return self }
        var marked = self
        marked.compilesAsRanges = true
        return marked == .default(for: capabilities) ? marked : self
    }
}

/// The data behind `SeccompProfile.default(for:)`, one entry per line of Docker's profile.
enum DefaultSeccompPolicy {
    /// Some system calls, the action they get, and when the entry is part of the profile: Docker's
    /// `includes` (a capability the container must hold, the native architectures it is for) and
    /// `excludes` (a capability that drops it, architectures it is not for).
    struct Entry {
        var names: [String]
        var action: SeccompAction = .allow
        var conditions: [SeccompCondition] = []
        var requiring: Int32?
        var unless: Int32?
        // Arrays, not sets: a Set of this enum costs a runtime conformance lookup (a scan of
        // every conformance in the static binary, some 0.3 ms) on every `berth run`.
        var onlyOn: [SeccompArchitecture]?
        var notOn: [SeccompArchitecture] = []

        func applies(capabilities: CapabilitySet, native: SeccompArchitecture?) -> Bool {
            if let requiring, !capabilities.has(requiring) { return false }
            if let unless, capabilities.has(unless) { return false }
            if let onlyOn {
                guard let native, onlyOn.contains(native) else { return false }
            }
            if let native, notOn.contains(native) { return false }
            return true
        }
    }

    /// The everyday list comes first: `default(for:)` relies on it.
    static let entries: [Entry] = [
        Entry(names: everyday),
        // Docker allows these from kernel 4.8 on, where seccomp runs after a tracer changed a
        // call; berth needs a newer kernel than that anyway.
        Entry(names: ["process_vm_readv", "process_vm_writev", "ptrace"]),
        // Any socket but AF_VSOCK (40), which reaches the hypervisor's host.
        Entry(names: ["socket"], conditions: [SeccompCondition(index: 0, op: .notEqual, value: 40)]),
    ] + personality + perArchitecture + byCapability + clone

    /// personality(2) with PER_LINUX (0), PER_LINUX32 (8), UNAME26 (0x20000), UNAME26|PER_LINUX32
    /// and the query 0xffffffff only: other values turn off ASLR (ADDR_NO_RANDOMIZE) or make
    /// data executable (READ_IMPLIES_EXEC). Rules for one call are ORed.
    static let personality: [Entry] = [0, 0x8, 0x2_0000, 0x2_0008, 0xffff_ffff].map { value in
        Entry(names: ["personality"], conditions: [SeccompCondition(index: 0, op: .equal, value: value)])
    }

    static let perArchitecture: [Entry] = [
        Entry(names: ["sync_file_range2", "swapcontext"], onlyOn: [.ppc64le]),
        Entry(names: ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"],
              onlyOn: [.arm, .aarch64]),
        Entry(names: ["arch_prctl"], onlyOn: [.x86_64, .x32]),
        Entry(names: ["modify_ldt"], onlyOn: [.x86_64, .x32, .x86]),
        Entry(names: ["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"], onlyOn: [.s390, .s390x]),
        Entry(names: ["riscv_flush_icache"], onlyOn: [.riscv64]),
    ]

    static let byCapability: [Entry] = [
        Entry(names: ["open_by_handle_at"], requiring: CAP_DAC_READ_SEARCH),
        Entry(names: ["bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
                      "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
                      "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
                      "umount2", "unshare"],
              requiring: CAP_SYS_ADMIN),
        Entry(names: ["reboot"], requiring: CAP_SYS_BOOT),
        Entry(names: ["chroot"], requiring: CAP_SYS_CHROOT),
        Entry(names: ["delete_module", "init_module", "finit_module"], requiring: CAP_SYS_MODULE),
        Entry(names: ["acct"], requiring: CAP_SYS_PACCT),
        Entry(names: ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"],
              requiring: CAP_SYS_PTRACE),
        Entry(names: ["iopl", "ioperm"], requiring: CAP_SYS_RAWIO),
        Entry(names: ["settimeofday", "stime", "clock_settime", "clock_settime64"], requiring: CAP_SYS_TIME),
        Entry(names: ["vhangup"], requiring: CAP_SYS_TTY_CONFIG),
        Entry(names: ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"], requiring: CAP_SYS_NICE),
        Entry(names: ["syslog"], requiring: CAP_SYSLOG),
        Entry(names: ["bpf"], requiring: CAP_BPF),
        Entry(names: ["perf_event_open"], requiring: CAP_PERFMON),
    ]

    /// The namespace flags of clone(2): NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
    /// (kernel ABI, spelled out because Swift's Glibc leaves sched.h's GNU part out).
    static let cloneNamespaceFlags: UInt64 = 0x7e02_0000

    /// Without CAP_SYS_ADMIN, clone only without namespace flags (s390 swaps clone's first two
    /// arguments), and clone3 answers ENOSYS: its flags are in memory, out of the filter's sight,
    /// and ENOSYS makes glibc fall back to clone.
    static let clone: [Entry] = [
        Entry(names: ["clone"], conditions: [SeccompCondition(index: 0, op: .maskedEqual, value: cloneNamespaceFlags)],
              unless: CAP_SYS_ADMIN, notOn: [.s390, .s390x]),
        Entry(names: ["clone"], conditions: [SeccompCondition(index: 1, op: .maskedEqual, value: cloneNamespaceFlags)],
              unless: CAP_SYS_ADMIN, onlyOn: [.s390, .s390x]),
        Entry(names: ["clone3"], action: .errno(UInt16(ENOSYS)), unless: CAP_SYS_ADMIN),
    ]
}

extension CapabilitySet {
    func has(_ capability: Int32) -> Bool { bits & (UInt64(1) << UInt64(capability)) != 0 }
}

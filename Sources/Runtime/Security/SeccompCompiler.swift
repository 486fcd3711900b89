import CLibseccomp
import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// Turns a `SeccompProfile` into BPF bytes with libseccomp. Runs in the parent only.
enum SeccompCompiler {
    /// The kernel refuses programs longer than BPF_MAXINSNS instructions of 8 bytes each.
    static let maxProgramBytes = 4096 * 8

    static func compile(_ profile: SeccompProfile) throws -> [UInt8] {
        if profile.compilesAsRanges, let program = try SeccompRangeProgram.compile(profile) { return program }
        return try compileDirectly(profile)
    }

    /// libseccomp's program for the whole profile, behind the ENOSYS stub for an allowlist.
    static func compileDirectly(_ profile: SeccompProfile) throws -> [UInt8] {
        let stub = profile.refusesUnknownCalls ? SeccompNewSyscallStub.program(for: profile) : []
        let program = try stub + libseccompProgram(profile)
        guard program.count <= maxProgramBytes else { throw tooLong(program.count) }
        return program
    }

    /// libseccomp's program alone: it checks the ABI itself and ends in a return on every path,
    /// so it can follow other instructions that jump to its start.
    static func libseccompProgram(_ profile: SeccompProfile) throws -> [UInt8] {
        guard let context = seccomp_init(profile.defaultAction.libseccompValue) else {
            throw RuntimeError(.systemError, "seccomp_init failed", errno: ENOMEM)
        }
        defer { seccomp_release(context) }

        let native = seccomp_arch_native()
        for architecture in profile.architectures {
            let token = seccomp_arch_resolve_name(architecture.rawValue)
            guard token != 0 else {
                throw RuntimeError(.unsupported, "libseccomp does not know the architecture \(architecture.ociName)")
            }
            guard token != native else { continue }
            let rc = seccomp_arch_add(context, token)
            // EDOM: the ABI has the other byte order. libseccomp can't mix the two in one
            // filter, and no process on this machine can use such an ABI, so there is nothing
            // to filter (profiles written for every platform list them all).
            guard rc == 0 || rc == -EEXIST || rc == -EDOM else {
                throw RuntimeError.system("seccomp: adding architecture \(architecture.ociName)", errno: -rc)
            }
        }

        for rule in profile.rules where rule.action != profile.defaultAction {
            // libseccomp refuses a rule that repeats the default action; it would change nothing.
            try add(rule, to: context)
        }
        return try export(context)
    }

    static func tooLong(_ bytes: Int) -> RuntimeError {
        RuntimeError(.invalidArgument, "seccomp profile compiles to \(bytes) bytes; the kernel takes at most \(maxProgramBytes)")
    }

    private static func add(_ rule: SeccompRule, to context: scmp_filter_ctx) throws {
        let comparisons = rule.conditions.map { condition in
            scmp_arg_cmp(arg: condition.index, op: condition.op.libseccompValue,
                         datum_a: condition.value, datum_b: condition.valueTwo)
        }
        for name in rule.names {
            // The number is libseccomp's for the native ABI (negative "pseudo" numbers for calls
            // that exist only elsewhere, such as vm86); libseccomp translates it per ABI and
            // leaves out the ABIs that lack the call. Names it does not know at all are skipped.
            let number = seccomp_syscall_resolve_name(name)
            guard number != __NR_SCMP_ERROR else { continue }
            let rc = comparisons.withUnsafeBufferPointer { buffer in
                seccomp_rule_add_array(context, rule.action.libseccompValue, number,
                                       UInt32(buffer.count), buffer.baseAddress)
            }
            if rc == -EEXIST {
                // libseccomp can't build a rule with conditions beside an unconditional one with
                // another action for the same call: which should win is ambiguous.
                throw RuntimeError(.invalidArgument,
                                   "seccomp: the rule for \(name) conflicts with an earlier rule for \(name)")
            }
            guard rc == 0 else {
                throw RuntimeError.system("seccomp: adding the rule for \(name)", errno: -rc)
            }
        }
    }

    /// libseccomp 2.5 exports only to a file descriptor: a pipe holds any program the kernel
    /// would accept (32 KiB) in its 64 KiB buffer, so no reader thread is needed. The write end
    /// is non-blocking so an oversized program fails instead of hanging.
    private static func export(_ context: scmp_filter_ctx) throws -> [UInt8] {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw RuntimeError.system("seccomp: pipe") }
        defer {
            close(fds[0])
            if fds[1] >= 0 { close(fds[1]) }
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)

        let rc = seccomp_export_bpf(context, fds[1])
        guard rc == 0 else {
            throw RuntimeError.system("seccomp: exporting the BPF program (too large?)", errno: -rc)
        }
        close(fds[1])
        fds[1] = -1

        let program: [UInt8]
        do {
            program = try FileIO.readAll(fds[0], path: "the seccomp pipe")
        } catch {
            throw RuntimeError.system("seccomp: reading the BPF program", errno: error.errno)
        }
        // A program longer than the kernel allows may also have been cut short by the pipe.
        guard !program.isEmpty, program.count % 8 == 0, program.count <= maxProgramBytes else {
            throw tooLong(program.count)
        }
        return program
    }
}

extension SeccompAction {
    /// The SCMP_ACT_* value; the errno and trace forms are C macros Swift can't import.
    var libseccompValue: UInt32 {
        switch self {
        case .allow: return SCMP_ACT_ALLOW
        case .errno(let number): return 0x0005_0000 | UInt32(number)
        case .killProcess: return SCMP_ACT_KILL_PROCESS
        case .killThread: return SCMP_ACT_KILL_THREAD
        case .trap: return SCMP_ACT_TRAP
        case .log: return SCMP_ACT_LOG
        case .trace(let message): return 0x7ff0_0000 | UInt32(message)
        }
    }
}

extension SeccompOperator {
    var libseccompValue: scmp_compare {
        switch self {
        case .notEqual: return SCMP_CMP_NE
        case .lessThan: return SCMP_CMP_LT
        case .lessThanOrEqual: return SCMP_CMP_LE
        case .equal: return SCMP_CMP_EQ
        case .greaterThanOrEqual: return SCMP_CMP_GE
        case .greaterThan: return SCMP_CMP_GT
        case .maskedEqual: return SCMP_CMP_MASKED_EQ
        }
    }
}

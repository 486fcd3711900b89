import CLibseccomp
#if canImport(Glibc)
import Glibc
#endif

/// A few BPF instructions put in front of libseccomp's program so that a system call newer than
/// the profile fails with ENOSYS rather than the profile's default (EPERM, for an allowlist).
///
/// Why: a C library tries a new call first and falls back to an older one only on ENOSYS
/// ("the kernel lacks it"); EPERM reads as a real refusal. A new glibc would then fail where it
/// should fall back (fchmodat2 under libseccomp 2.5, which doesn't know it). "Newer than the
/// profile" is what runc also uses: a number above the highest one the profile names for that
/// ABI (names libseccomp knows, resolved per ABI). libseccomp has no rule for "number above N",
/// so the check is written here in BPF, the way runc patches its program:
///
///     ld  [arch]                           ; seccomp_data.arch
///     jeq ARCH_1, 0, <next ABI>            ; one block per ABI
///     ld  [nr]
///     jge 0x40000000, <libseccomp>, 0      ; x86_64 only: x32 calls, left to libseccomp
///     jgt MAX_1, <ENOSYS>, <libseccomp>
///     …
///     ja  <libseccomp>                     ; an ABI not listed: libseccomp decides
///     ret ERRNO(ENOSYS)
///   libseccomp's program, unchanged: its jumps are relative, and it loads the arch itself.
///
/// x32 calls share x86_64's arch value (with bit 30 in the number) and are left to libseccomp.
enum SeccompNewSyscallStub {
    typealias Instruction = SeccompBPF.Instruction

    /// The ABIs the stub covers and the highest number the profile names in each.
    static func limits(of profile: SeccompProfile) -> [(auditArch: UInt32, highest: UInt32)] {
        let x32 = seccomp_arch_resolve_name(SeccompArchitecture.x32.rawValue)
        var tokens = [seccomp_arch_native()]
        for architecture in profile.architectures where architecture != .x32 {
            let token = seccomp_arch_resolve_name(architecture.rawValue)
            // An ABI of the other byte order, or one whose token is not its audit arch, never
            // reaches this filter as itself; libseccomp's program handles (or kills) it.
            guard token != 0, token != x32, !tokens.contains(token) else { continue }
            tokens.append(token)
        }
        return tokens.compactMap { token in
            var highest: Int32 = -1
            for rule in profile.rules {
                for name in rule.names {
                    // Negative: a libseccomp "pseudo" number, for a call this ABI lacks.
                    highest = max(highest, seccomp_syscall_resolve_name_arch(token, name))
                }
            }
            return highest < 0 ? nil : (token, UInt32(highest))
        }
    }

    /// The instructions as bytes (`struct sock_filter`, host byte order); empty when no ABI has a
    /// known number.
    static func program(for profile: SeccompProfile) -> [UInt8] {
        let limits = limits(of: profile)
        guard !limits.isEmpty else { return [] }
        var blocks: [[Instruction]] = []
        for (auditArch, highest) in limits {
            let x86_64 = auditArch == seccomp_arch_resolve_name(SeccompArchitecture.x86_64.rawValue)
            blocks.append([
                Instruction(jump: SeccompBPF.jeq, k: auditArch),
                Instruction(load: SeccompBPF.syscallNumber),
            ] + (x86_64 ? [Instruction(jump: SeccompBPF.jge, k: 0x4000_0000)] : []) + [
                Instruction(jump: SeccompBPF.jgt, k: highest),
            ])
        }
        // Positions: [ld arch] blocks… [ja] [ret ENOSYS] | libseccomp at `end`.
        let length = 1 + blocks.reduce(0) { $0 + $1.count } + 2
        let enosys = length - 1
        let end = length
        var instructions = [Instruction(load: SeccompBPF.architecture)]
        for block in blocks {
            let nextBlock = instructions.count + block.count
            for var instruction in block {
                let pc = instructions.count
                switch instruction.code {
                case SeccompBPF.jeq: instruction.jf = offset(from: pc, to: nextBlock)
                case SeccompBPF.jge: instruction.jt = offset(from: pc, to: end)
                case SeccompBPF.jgt:
                    instruction.jt = offset(from: pc, to: enosys)
                    instruction.jf = offset(from: pc, to: end)
                default: break
                }
                instructions.append(instruction)
            }
        }
        instructions.append(Instruction(code: SeccompBPF.ja, k: 1))
        instructions.append(Instruction(code: SeccompBPF.ret, k: SeccompAction.errno(UInt16(ENOSYS)).libseccompValue))
        return instructions.flatMap(\.bytes)
    }

    /// A jump offset counts from the next instruction; the stub is far shorter than 255.
    private static func offset(from pc: Int, to target: Int) -> UInt8 { UInt8(target - pc - 1) }
}

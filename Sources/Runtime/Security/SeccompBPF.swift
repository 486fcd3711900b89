/// Classic BPF as seccomp runs it: the few opcodes berth writes by hand (the ENOSYS stub, the
/// range program) and `struct sock_filter`.
enum SeccompBPF {
    // BPF opcodes (linux/bpf_common.h) and seccomp_data's offsets (linux/seccomp.h).
    static let loadWordAbsolute: UInt16 = 0x20  // BPF_LD | BPF_W | BPF_ABS
    static let ja: UInt16 = 0x05  // BPF_JMP | BPF_JA
    static let jeq: UInt16 = 0x15  // BPF_JMP | BPF_JEQ | BPF_K
    static let jgt: UInt16 = 0x25  // BPF_JMP | BPF_JGT | BPF_K
    static let jge: UInt16 = 0x35  // BPF_JMP | BPF_JGE | BPF_K
    static let ret: UInt16 = 0x06  // BPF_RET | BPF_K
    static let syscallNumber: UInt32 = 0
    static let architecture: UInt32 = 4

    /// One `struct sock_filter`.
    struct Instruction {
        var code: UInt16
        var jt: UInt8 = 0
        var jf: UInt8 = 0
        var k: UInt32

        init(code: UInt16, k: UInt32) {
            self.code = code
            self.k = k
        }

        init(jump code: UInt16, k: UInt32) { self.init(code: code, k: k) }

        init(load offset: UInt32) { self.init(code: SeccompBPF.loadWordAbsolute, k: offset) }

        var bytes: [UInt8] {
            withUnsafeBytes(of: code) { Array($0) } + [jt, jf] + withUnsafeBytes(of: k) { Array($0) }
        }
    }
}

/// A classic-BPF interpreter for the subset seccomp programs use, run on a `seccomp_data` in
/// user space: what the kernel would answer, for comparing two programs number by number.
struct ClassicBPF {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// `struct seccomp_data`: the number, the arch value, the instruction pointer, six arguments.
    struct SeccompData {
        var number: UInt32
        var arch: UInt32
        var arguments: [UInt64] = Array(repeating: 0, count: 6)

        /// The 32-bit word at `offset`, as the kernel's little-endian layout has it.
        func word(at offset: UInt32) throws -> UInt32 {
            switch offset {
            case 0: return number
            case 4: return arch
            case 8, 12: return 0
            case 16..<64 where offset % 4 == 0:
                let argument = arguments[Int(offset - 16) / 8]
                return UInt32(truncatingIfNeeded: offset % 8 == 0 ? argument : argument >> 32)
            default: throw Failure(description: "load from offset \(offset)")
            }
        }
    }

    struct Instruction {
        var code: UInt16
        var jt: UInt8
        var jf: UInt8
        var k: UInt32
    }

    let instructions: [Instruction]

    /// Parses `struct sock_filter`s in host byte order.
    init(bytes: [UInt8]) {
        func le16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        func le32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << UInt32(8 * $1) } }
        instructions = stride(from: 0, to: bytes.count, by: 8).map {
            Instruction(code: le16($0), jt: bytes[$0 + 2], jf: bytes[$0 + 3], k: le32($0 + 4))
        }
    }

    /// The value the program returns (SECCOMP_RET_*), and how many instructions it ran.
    func run(_ data: SeccompData) throws -> (result: UInt32, steps: Int) {
        var a: UInt32 = 0
        var x: UInt32 = 0
        var memory = [UInt32](repeating: 0, count: 16)
        var pc = 0
        var steps = 0
        // Classic BPF only jumps forward, so a program ends within its length.
        while pc < instructions.count {
            let instruction = instructions[pc]
            let k = instruction.k
            steps += 1
            pc += 1
            func jump(_ condition: Bool) { pc += Int(condition ? instruction.jt : instruction.jf) }
            switch instruction.code {
            case 0x20: a = try data.word(at: k)  // ld [k]
            case 0x00: a = k  // ld #k
            case 0x01: x = k  // ldx #k
            case 0x60: a = memory[Int(k)]  // ld M[k]
            case 0x61: x = memory[Int(k)]  // ldx M[k]
            case 0x02: memory[Int(k)] = a  // st M[k]
            case 0x03: memory[Int(k)] = x  // stx M[k]
            case 0x07: x = a  // tax
            case 0x87: a = x  // txa
            case 0x54: a &= k  // and #k
            case 0x44: a |= k  // or #k
            case 0x05: pc += Int(k)  // ja
            case 0x15: jump(a == k)  // jeq #k
            case 0x25: jump(a > k)  // jgt #k
            case 0x35: jump(a >= k)  // jge #k
            case 0x45: jump(a & k != 0)  // jset #k
            case 0x1d: jump(a == x)  // jeq x
            case 0x2d: jump(a > x)  // jgt x
            case 0x3d: jump(a >= x)  // jge x
            case 0x06: return (k, steps)  // ret #k
            case 0x16: return (a, steps)  // ret a
            default: throw Failure(description: "opcode 0x\(String(instruction.code, radix: 16)) at \(pc - 1)")
            }
        }
        throw Failure(description: "ran off the end")
    }
}

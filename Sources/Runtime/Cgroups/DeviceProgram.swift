/// One eBPF instruction as the kernel reads it (`struct bpf_insn`, 8 bytes): the opcode, the
/// destination register in the low nibble and the source register in the high nibble, a jump
/// offset and an immediate.
public struct BPFInstruction: Sendable, Equatable {
    public var code: UInt8
    public var registers: UInt8
    public var offset: Int16
    public var immediate: Int32

    init(_ code: UInt8, dst: UInt8 = 0, src: UInt8 = 0, offset: Int16 = 0, immediate: Int32 = 0) {
        self.code = code
        self.registers = (src << 4) | dst
        self.offset = offset
        self.immediate = immediate
    }

    /// The 8 bytes of `struct bpf_insn` (little-endian fields, as on every host berth runs on).
    var bytes: [UInt8] {
        let off = UInt16(bitPattern: offset), imm = UInt32(bitPattern: immediate)
        return [code, registers, UInt8(off & 0xff), UInt8(off >> 8),
                UInt8(imm & 0xff), UInt8((imm >> 8) & 0xff), UInt8((imm >> 16) & 0xff), UInt8(imm >> 24)]
    }
}

/// The cgroup v2 form of a device list: a BPF_PROG_TYPE_CGROUP_DEVICE program, straight-line code
/// the kernel runs at every open and mknod of a device node in the cgroup. It returns 1 to allow
/// and 0 to refuse (the caller gets EPERM).
///
/// The context (`struct bpf_cgroup_dev_ctx`) is three u32s: the access and device type
/// (`access << 16 | type`), the major and the minor. The rules are tested last first, so the first
/// match is the rule that would decide on v1 (the last matching one); no match refuses.
enum DeviceProgram {
    /// BPF_DEVCG_DEV_BLOCK and BPF_DEVCG_DEV_CHAR.
    static let blockType: Int32 = 1
    static let charType: Int32 = 2

    // Opcodes (linux/bpf.h): class | operation | source.
    static let loadWord: UInt8 = 0x61        // BPF_LDX | BPF_MEM | BPF_W
    static let moveRegister: UInt8 = 0xbf    // BPF_ALU64 | BPF_MOV | BPF_X
    static let moveImmediate: UInt8 = 0xb7   // BPF_ALU64 | BPF_MOV | BPF_K
    static let andImmediate: UInt8 = 0x57    // BPF_ALU64 | BPF_AND | BPF_K
    static let shiftRight: UInt8 = 0x77      // BPF_ALU64 | BPF_RSH | BPF_K
    static let jumpIfNotEqual: UInt8 = 0x55  // BPF_JMP | BPF_JNE | BPF_K
    static let jumpIfEqual: UInt8 = 0x15     // BPF_JMP | BPF_JEQ | BPF_K
    static let exit: UInt8 = 0x95            // BPF_JMP | BPF_EXIT

    // Registers: r0 the result, r1 the context; r2..r5 hold its fields once loaded.
    static let result: UInt8 = 0, context: UInt8 = 1
    static let access: UInt8 = 2, type: UInt8 = 3, major: UInt8 = 4, minor: UInt8 = 5

    static func instructions(for rules: [DeviceRule]) -> [BPFInstruction] {
        var program: [BPFInstruction] = [
            BPFInstruction(loadWord, dst: access, src: context, offset: 0),
            BPFInstruction(moveRegister, dst: type, src: access),
            BPFInstruction(andImmediate, dst: type, immediate: 0xffff),
            BPFInstruction(shiftRight, dst: access, immediate: 16),
            BPFInstruction(loadWord, dst: major, src: context, offset: 4),
            BPFInstruction(loadWord, dst: minor, src: context, offset: 8),
        ]
        for rule in rules.reversed() {
            program += block(for: rule)
            // A rule for every device decides alone: the rules before it (tested after it) could
            // never be reached, and the verifier refuses a program with unreachable code.
            if rule.kind == .all { return program }
        }
        return program + [BPFInstruction(moveImmediate, dst: result, immediate: 0), BPFInstruction(exit)]
    }

    /// The tests of one rule, each jumping past the block when the device does not match, then the
    /// rule's verdict.
    private static func block(for rule: DeviceRule) -> [BPFInstruction] {
        var tests: [BPFInstruction] = []
        switch rule.kind {
        case .all: break
        case .char: tests.append(BPFInstruction(jumpIfNotEqual, dst: type, immediate: charType))
        case .block: tests.append(BPFInstruction(jumpIfNotEqual, dst: type, immediate: blockType))
        }
        if let number = rule.major { tests.append(BPFInstruction(jumpIfNotEqual, dst: major, immediate: Int32(number))) }
        if let number = rule.minor { tests.append(BPFInstruction(jumpIfNotEqual, dst: minor, immediate: Int32(number))) }
        // An `a` rule covers every access, as on v1, where the kernel reads nothing after the `a`.
        if rule.kind != .all, rule.access != .all {
            let bits = Int32(rule.access.rawValue)
            tests.append(BPFInstruction(moveRegister, dst: result, src: access))
            if rule.allow {
                // Allowed only when every access asked for is in the rule ("r" does not open for "rw").
                tests.append(BPFInstruction(andImmediate, dst: result, immediate: ~bits & Int32(DeviceAccess.all.rawValue)))
                tests.append(BPFInstruction(jumpIfNotEqual, dst: result, immediate: 0))
            } else {
                // Refused when any access asked for is in the rule ("w" denied refuses "rw").
                tests.append(BPFInstruction(andImmediate, dst: result, immediate: bits))
                tests.append(BPFInstruction(jumpIfEqual, dst: result, immediate: 0))
            }
        }
        let verdict = [BPFInstruction(moveImmediate, dst: result, immediate: rule.allow ? 1 : 0), BPFInstruction(exit)]
        var block = tests + verdict
        for index in block.indices where block[index].code == jumpIfNotEqual || block[index].code == jumpIfEqual {
            block[index].offset = Int16(block.count - index - 1)
        }
        return block
    }
}

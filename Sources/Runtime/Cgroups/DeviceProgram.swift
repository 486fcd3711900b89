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

/// The cgroup v2 form of a device list: a BPF_PROG_TYPE_CGROUP_DEVICE program the kernel runs at
/// every open and mknod of a device node in the cgroup. It returns 1 to allow and 0 to refuse
/// (the caller gets EPERM).
///
/// The context (`struct bpf_cgroup_dev_ctx`) is three u32s: the access and device type
/// (`access << 16 | type`), the major and the minor. The last rule that matches decides, as on v1,
/// so runs of rules with one verdict are tested last run first. Within a run the order does not
/// matter (every match gives the same verdict), so its rules are grouped by type, one type test
/// each, and a rule for one device with every access is one compare of `major << 20 | minor`
/// jumping to the verdict. The verifier walks every branch, and loading is most of what a v2
/// device list costs a start: the default list loads in about a third of the time one block of
/// tests per rule took.
enum DeviceProgram {
    /// BPF_DEVCG_DEV_BLOCK and BPF_DEVCG_DEV_CHAR.
    static let blockType: Int32 = 1
    static let charType: Int32 = 2

    // Opcodes (linux/bpf.h): class | operation | source.
    static let loadWord: UInt8 = 0x61        // BPF_LDX | BPF_MEM | BPF_W
    static let moveRegister: UInt8 = 0xbf    // BPF_ALU64 | BPF_MOV | BPF_X
    static let moveImmediate: UInt8 = 0xb7   // BPF_ALU64 | BPF_MOV | BPF_K
    static let andImmediate: UInt8 = 0x57    // BPF_ALU64 | BPF_AND | BPF_K
    static let orRegister: UInt8 = 0x4f      // BPF_ALU64 | BPF_OR | BPF_X
    static let shiftLeft: UInt8 = 0x67       // BPF_ALU64 | BPF_LSH | BPF_K
    static let shiftRight: UInt8 = 0x77      // BPF_ALU64 | BPF_RSH | BPF_K
    static let jumpIfNotEqual: UInt8 = 0x55  // BPF_JMP | BPF_JNE | BPF_K
    static let jumpIfEqual: UInt8 = 0x15     // BPF_JMP | BPF_JEQ | BPF_K
    /// The low 32 bits only: a device key above 2^31 is not sign-extended away.
    static let jumpIfEqual32: UInt8 = 0x16   // BPF_JMP32 | BPF_JEQ | BPF_K
    static let exit: UInt8 = 0x95            // BPF_JMP | BPF_EXIT

    // Registers: r0 the result, r1 the context; r2..r6 hold its fields once loaded.
    static let result: UInt8 = 0, context: UInt8 = 1
    static let access: UInt8 = 2, type: UInt8 = 3, major: UInt8 = 4, minor: UInt8 = 5, key: UInt8 = 6

    static func instructions(for rules: [DeviceRule]) -> [BPFInstruction] {
        var code = Assembler()
        code.emit([
            BPFInstruction(loadWord, dst: access, src: context, offset: 0),
            BPFInstruction(moveRegister, dst: type, src: access),
            BPFInstruction(andImmediate, dst: type, immediate: 0xffff),
            BPFInstruction(shiftRight, dst: access, immediate: 16),
            BPFInstruction(loadWord, dst: major, src: context, offset: 4),
            BPFInstruction(loadWord, dst: minor, src: context, offset: 8),
            BPFInstruction(moveRegister, dst: key, src: major),
            BPFInstruction(shiftLeft, dst: key, immediate: 20),
            BPFInstruction(orRegister, dst: key, src: minor),
        ])
        var remaining = rules[...]
        while let last = remaining.last {
            let start = remaining.lastIndex { $0.allow != last.allow }.map { $0 + 1 } ?? remaining.startIndex
            let run = remaining[start...]
            remaining = remaining[..<start]
            for kind in [DeviceRule.Kind.char, .block] {
                let group = run.filter { $0.kind == kind }
                guard !group.isEmpty else { continue }
                let otherType = code.newLabel()
                code.jump(jumpIfNotEqual, type, kind == .char ? charType : blockType, to: otherType)
                for rule in group where !emit(rule, into: &code) { break }
                code.place(otherType)
            }
            // An `a` rule decides for every device left: the rules before it can never be reached,
            // and the verifier refuses a program with unreachable code.
            if run.contains(where: { $0.kind == .all }) {
                code.emitVerdict(last.allow)
                return code.finish()
            }
        }
        return code.finish()
    }

    /// One rule of a type group. Returns false when the rule matches every device of the type,
    /// after which the rest of the group could never be reached.
    private static func emit(_ rule: DeviceRule, into code: inout Assembler) -> Bool {
        let verdict: Assembler.Label = rule.allow ? .allow : .deny
        if rule.access == .all {
            switch (rule.major, rule.minor) {
            case let (major?, minor?):
                code.jump(jumpIfEqual32, key, Int32(bitPattern: major << 20 | minor), to: verdict)
            case let (major?, nil):
                code.jump(jumpIfEqual, Self.major, Int32(major), to: verdict)
            case let (nil, minor?):
                code.jump(jumpIfEqual, Self.minor, Int32(minor), to: verdict)
            case (nil, nil):
                code.emitVerdict(rule.allow)
                return false
            }
            return true
        }
        let next = code.newLabel()
        if let major = rule.major { code.jump(jumpIfNotEqual, Self.major, Int32(major), to: next) }
        if let minor = rule.minor { code.jump(jumpIfNotEqual, Self.minor, Int32(minor), to: next) }
        let bits = Int32(rule.access.rawValue)
        code.emit([BPFInstruction(moveRegister, dst: result, src: access)])
        if rule.allow {
            // Allowed only when every access asked for is in the rule ("r" does not open for "rw").
            code.emit([BPFInstruction(andImmediate, dst: result, immediate: ~bits & Int32(DeviceAccess.all.rawValue))])
            code.jump(jumpIfNotEqual, result, 0, to: next)
        } else {
            // Refused when any access asked for is in the rule ("w" denied refuses "rw").
            code.emit([BPFInstruction(andImmediate, dst: result, immediate: bits)])
            code.jump(jumpIfEqual, result, 0, to: next)
        }
        code.emitVerdict(rule.allow)
        code.place(next)
        return true
    }
}

/// The instructions of a device program with jumps to labels, resolved at the end; the verdict
/// blocks are emitted only when something reaches them (the verifier refuses unreachable code).
struct Assembler {
    enum Label: Hashable {
        case allow, deny
        case local(Int)
    }

    private var instructions: [BPFInstruction] = []
    private var jumps: [(index: Int, to: Label)] = []
    private var placed: [Label: Int] = [:]
    private var labelCount = 0

    mutating func newLabel() -> Label {
        labelCount += 1
        return .local(labelCount)
    }

    mutating func emit(_ code: [BPFInstruction]) { instructions += code }

    mutating func jump(_ opcode: UInt8, _ register: UInt8, _ immediate: Int32, to label: Label) {
        jumps.append((instructions.count, label))
        instructions.append(BPFInstruction(opcode, dst: register, immediate: immediate))
    }

    mutating func emitVerdict(_ allow: Bool) {
        emit([BPFInstruction(DeviceProgram.moveImmediate, dst: DeviceProgram.result, immediate: allow ? 1 : 0),
              BPFInstruction(DeviceProgram.exit)])
    }

    mutating func place(_ label: Label) { placed[label] = instructions.count }

    /// Adds the verdict blocks (refusing also what no rule matched) and resolves every jump.
    mutating func finish() -> [BPFInstruction] {
        let fallsThrough = instructions.last?.code != DeviceProgram.exit
            || placed.values.contains(instructions.count)
        if fallsThrough || jumps.contains(where: { $0.to == .deny }) {
            place(.deny)
            emitVerdict(false)
        }
        if jumps.contains(where: { $0.to == .allow }) {
            place(.allow)
            emitVerdict(true)
        }
        for (index, label) in jumps {
            instructions[index].offset = Int16((placed[label] ?? instructions.count) - index - 1)
        }
        return instructions
    }
}

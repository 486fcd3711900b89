import CLibseccomp
#if canImport(Glibc)
import Glibc
#endif

/// An allowlist's program as a table of system-call number ranges, with libseccomp's program
/// behind it for the few calls whose answer depends on their arguments.
///
/// Why: libseccomp compares the number against every call a rule names, one instruction each,
/// for each ABI: some 1000 instructions for the default profile, which the kernel checks and
/// converts again on every container start. Most numbers need no comparison of their own: between
/// two numbers where the answer changes (allowed, EPERM, ENOSYS above the profile's highest),
/// every number gets the same answer. So, per ABI, the numbers are split into runs of one answer,
/// found by a binary search (`jge` on the first number of the middle run), and each leaf returns
/// the answer; a run of calls with conditions (clone, personality, socket) jumps to libseccomp's
/// program for just those calls' rules, which decides them as the full program would.
///
///     ld  [arch]
///     jeq ARCH_1, 0, 1 ; ja <table 1>      ; one pair per ABI
///     ja  <libseccomp>                     ; an ABI not listed: libseccomp decides (kills)
///   table: ld [nr] ; jge FIRST_OF_MIDDLE_RUN … ; ret ACTION | ja <libseccomp>
///   libseccomp's program for the rules with conditions, unchanged.
///
/// x32 calls share x86_64's arch value (numbers with bit 30 set), so they are runs in the
/// x86_64 table; numbers between x86_64's highest and bit 30 answer ENOSYS, as the stub does in
/// the direct form (`SeccompNewSyscallStub`).
enum SeccompRangeProgram {
    typealias Instruction = SeccompBPF.Instruction

    enum Answer: Equatable {
        case action(UInt32)
        case libseccomp
    }

    /// Numbers from `first` up to the next run's first (or 0xffffffff) get `answer`.
    struct Run: Equatable {
        var first: UInt32
        var answer: Answer
    }

    /// One ABI's table: its arch value (`seccomp_data.arch`) and runs starting at 0.
    struct Table {
        var auditArch: UInt32
        var runs: [Run]
    }

    /// The program, or nil when the profile is not an allowlist over the native ABI and its
    /// companions (then it is compiled directly).
    static func compile(_ profile: SeccompProfile) throws -> [UInt8]? {
        guard profile.refusesUnknownCalls,
              profile.architectures.allSatisfy({ SeccompArchitecture.nativeCompanions.contains($0) || $0 == .native })
        else { return nil }
        let (tables, special) = self.tables(for: profile)
        let rules = profile.rules.compactMap { rule -> SeccompRule? in
            var kept = rule
            kept.names = rule.names.filter { special.contains($0) }
            return kept.names.isEmpty ? nil : kept
        }
        var conditional = profile
        conditional.rules = rules
        conditional.compilesAsRanges = false
        let program = assemble(tables).flatMap(\.bytes) + (try SeccompCompiler.libseccompProgram(conditional))
        guard program.count <= SeccompCompiler.maxProgramBytes else { throw SeccompCompiler.tooLong(program.count) }
        return program
    }

    /// How many numbers of each ABI are looked up in libseccomp's tables: more than any ABI has
    /// (x32's go up to 547).
    static let numbersScanned: UInt32 = 1024

    /// The tables, and the names whose number on some ABI is left to libseccomp.
    static func tables(for profile: SeccompProfile) -> (tables: [Table], special: [String]) {
        let x86_64 = seccomp_arch_resolve_name(SeccompArchitecture.x86_64.rawValue)
        let x32 = seccomp_arch_resolve_name(SeccompArchitecture.x32.rawValue)
        let native = seccomp_arch_native()
        var tokens = [native]
        for architecture in profile.architectures {
            let token = seccomp_arch_resolve_name(architecture.rawValue)
            if token != 0, !tokens.contains(token) { tokens.append(token) }
        }
        let highest = SeccompNewSyscallStub.limits(of: profile)
        let defaultAnswer = Answer.action(profile.defaultAction.libseccompValue)
        let enosys = Answer.action(SeccompAction.errno(UInt16(ENOSYS)).libseccompValue)
        var special: [String] = []
        var tables: [Table] = []
        for token in tokens where token != x32 {
            let (answers, names) = self.answers(for: profile, token: token, numbers: 0..<numbersScanned)
            special += names
            var runs: [Run] = []
            if let limit = highest.first(where: { $0.auditArch == token })?.highest {
                append(0...limit, answers, defaultAnswer, to: &runs)
                runs.append(Run(first: limit + 1, answer: enosys))
            } else {
                runs.append(Run(first: 0, answer: .libseccomp))
            }
            if token == x86_64 {
                let x32Numbers = 0x4000_0000..<(0x4000_0000 + numbersScanned)
                let (x32Answers, x32Names) = tokens.contains(x32) ? self.answers(for: profile, token: x32, numbers: x32Numbers) : ([:], [])
                special += x32Names
                if let limit = x32Answers.keys.max() {
                    append(0x4000_0000...limit, x32Answers, defaultAnswer, to: &runs)
                    runs.append(Run(first: limit + 1, answer: .libseccomp))
                } else {
                    runs.append(Run(first: 0x4000_0000, answer: .libseccomp))
                }
            }
            tables.append(Table(auditArch: token, runs: runs))
        }
        return (tables, special)
    }

    /// What each number the profile names gets on this ABI, and the names left to libseccomp: a
    /// number only unconditional rules of one action name gets that action.
    ///
    /// Numbers are matched to names through the ABI's own table (number to name), as libseccomp
    /// does when it puts a rule into an ABI's section: x86's socket and IPC calls resolve by name
    /// to "pseudo" numbers (they are also reached through socketcall and ipc), yet their direct
    /// numbers (socket is 359) are in the program.
    private static func answers(for profile: SeccompProfile, token: UInt32, numbers: Range<UInt32>)
        -> ([UInt32: Answer], [String]) {
        var numbersByName: [String: [UInt32]] = [:]
        for number in numbers {
            guard let name = seccomp_syscall_resolve_num_arch(token, Int32(bitPattern: number)) else { continue }
            numbersByName[String(cString: name), default: []].append(number)
            free(name)
        }
        var rulesByNumber: [UInt32: [(rule: SeccompRule, name: String)]] = [:]
        // libseccomp leaves out rules with the default action (they change nothing); so does this.
        for rule in profile.rules where rule.action != profile.defaultAction {
            for name in rule.names {
                for number in numbersByName[name] ?? [] { rulesByNumber[number, default: []].append((rule, name)) }
            }
        }
        var answers: [UInt32: Answer] = [:]
        var special: [String] = []
        for (number, rules) in rulesByNumber {
            let action = rules[0].rule.action
            if rules.allSatisfy({ $0.rule.conditions.isEmpty && $0.rule.action == action }) {
                answers[number] = .action(action.libseccompValue)
            } else {
                answers[number] = .libseccomp
                special += rules.map(\.name)
            }
        }
        return (answers, special)
    }

    private static func append(_ numbers: ClosedRange<UInt32>, _ answers: [UInt32: Answer], _ otherwise: Answer,
                               to runs: inout [Run]) {
        for number in numbers {
            let answer = answers[number] ?? otherwise
            if runs.last?.answer != answer { runs.append(Run(first: number, answer: answer)) }
        }
    }

    /// An instruction, or a jump to libseccomp's program at the end, whose offset is known only
    /// once everything before it is laid out.
    enum Emitted {
        case instruction(Instruction)
        case toLibseccomp
    }

    static func assemble(_ tables: [Table]) -> [Instruction] {
        let searches = tables.map { [Emitted.instruction(Instruction(load: SeccompBPF.syscallNumber))] + search($0.runs[...]) }
        var emitted = [Emitted.instruction(Instruction(load: SeccompBPF.architecture))]
        let header = 1 + 2 * tables.count + 1
        var start = header
        for (table, search) in zip(tables, searches) {
            var test = Instruction(jump: SeccompBPF.jeq, k: table.auditArch)
            test.jf = 1
            emitted.append(.instruction(test))
            emitted.append(.instruction(Instruction(code: SeccompBPF.ja, k: UInt32(start - emitted.count - 1))))
            start += search.count
        }
        emitted.append(.toLibseccomp)
        for search in searches { emitted += search }
        return emitted.enumerated().map { pc, item in
            switch item {
            case .instruction(let instruction): return instruction
            case .toLibseccomp: return Instruction(code: SeccompBPF.ja, k: UInt32(emitted.count - pc - 1))
            }
        }
    }

    /// A binary search over the runs: `jge` the middle run's first number, the lower half right
    /// after it, then the upper half. A conditional jump reaches 255 instructions: a part of the
    /// search small enough is followed by its returns, one per answer, which its tests jump to
    /// (one instruction per run); a larger one is split, its upper half reached through a `ja`
    /// when the lower half is too long to jump over.
    private static func search(_ runs: ArraySlice<Run>) -> [Emitted] {
        var answers: [Answer] = []
        for run in runs where !answers.contains(run.answer) { answers.append(run.answer) }
        if runs.count - 1 + answers.count <= 256 { return compactSearch(runs, answers: answers) }
        let middle = runs.startIndex + runs.count / 2
        let lower = search(runs[..<middle])
        let upper = search(runs[middle...])
        var test = Instruction(jump: SeccompBPF.jge, k: runs[middle].first)
        if lower.count <= 255 {
            test.jt = UInt8(lower.count)
            return [.instruction(test)] + lower + upper
        }
        test.jf = 1
        return [.instruction(test), .instruction(Instruction(code: SeccompBPF.ja, k: UInt32(lower.count)))] + lower + upper
    }

    /// Where a test goes: another test of the search, or the return of an answer after it.
    private enum Target {
        case test(Int)
        case answer(Int)
    }

    /// The tests in preorder (each lower half right after its test), then one return per answer.
    private static func compactSearch(_ runs: ArraySlice<Run>, answers: [Answer]) -> [Emitted] {
        var tests: [(first: UInt32, upper: Target, lower: Target)] = []
        func build(_ runs: ArraySlice<Run>) -> Target {
            guard runs.count > 1 else {
                return .answer(answers.firstIndex(of: runs[runs.startIndex].answer) ?? 0)
            }
            let middle = runs.startIndex + runs.count / 2
            let position = tests.count
            tests.append((runs[middle].first, .test(0), .test(0)))
            let lower = build(runs[..<middle])
            let upper = build(runs[middle...])
            tests[position] = (runs[middle].first, upper, lower)
            return .test(position)
        }
        _ = build(runs)
        func offset(from pc: Int, to target: Target) -> UInt8 {
            switch target {
            case .test(let index): return UInt8(index - pc - 1)
            case .answer(let index): return UInt8(tests.count + index - pc - 1)
            }
        }
        var emitted: [Emitted] = tests.enumerated().map { pc, test in
            var instruction = Instruction(jump: SeccompBPF.jge, k: test.first)
            instruction.jt = offset(from: pc, to: test.upper)
            instruction.jf = offset(from: pc, to: test.lower)
            return .instruction(instruction)
        }
        for answer in answers {
            switch answer {
            case .action(let value): emitted.append(.instruction(Instruction(code: SeccompBPF.ret, k: value)))
            case .libseccomp: emitted.append(.toLibseccomp)
            }
        }
        return emitted
    }
}

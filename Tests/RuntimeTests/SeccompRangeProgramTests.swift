import Testing
@testable import Runtime

extension SeccompTests {
    /// The default profile's program as number ranges (`SeccompRangeProgram`) against libseccomp's
    /// direct compilation of the same profile, both run in user space on every number.
    @Suite("range program") struct RangeProgram {
        /// Arch values (`seccomp_data.arch`) and the numbers tried for each: every number up to
        /// 1023 (above any call libseccomp knows), x32's numbers the same way, and the edges.
        #if arch(x86_64)
        static let numbersByArch: [(arch: UInt32, numbers: [UInt32])] = [
            (0xc000_003e, Array(0..<1024) + Array(0x4000_0000..<0x4000_0400)
                + [0x3fff_fffe, 0x3fff_ffff, 0x7fff_ffff, 0x8000_0000, 0xbfff_ffff, 0xffff_fffe, 0xffff_ffff]),
            (0x4000_0003, Array(0..<1024) + [0x4000_0000, 0x4000_0001, 0x8000_0000, 0xffff_ffff]),
            // ABIs the filter does not cover: aarch64, arm, none.
            (0xc000_00b7, [0, 1, 56, 220]), (0x4000_0028, [0, 1, 120]), (0, [0, 1]),
        ]
        #elseif arch(arm64)
        static let numbersByArch: [(arch: UInt32, numbers: [UInt32])] = [
            (0xc000_00b7, Array(0..<1024) + [0x4000_0000, 0x8000_0000, 0xffff_ffff]),
            (0x4000_0028, Array(0..<1024) + Array(0xf_0000..<0xf_0010) + [0x4000_0000, 0xffff_ffff]),
            (0xc000_003e, [0, 1, 56]), (0, [0, 1]),
        ]
        #endif

        /// Argument vectors for the calls with conditions: personality's allowed values and their
        /// neighbours, clone with and without each namespace flag, socket families around
        /// AF_VSOCK (40), and high words set.
        static let argumentVectors: [[UInt64]] = {
            let firsts: [UInt64] = [
                0, 1, 8, 9, 0x11, 40, 41, 0x28 | 0x1_0000_0000, 0xffff, 0x2_0000, 0x2_0008, 0x2_0009, 0x4_0000,
                0x40_0000, 0xffff_fffe, 0xffff_ffff, 0x1_0000_0000, 0x1_0000_0008, 0xffff_ffff_ffff_ffff,
                0x0200_0000, 0x0400_0000, 0x0800_0000, 0x1000_0000, 0x2000_0000, 0x4000_0000, 0x7e02_0000,
                0x8000_0000, 0x0001_0f00 | 0x11, 0x0100_0000_0000_0000,
            ]
            return firsts.map { [$0, 0, 0, 0, 0, 0] } + [[0, 40, 0, 0, 0, 0], [0, 0x2_0000, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]]
        }()

        static let capabilitySets: [CapabilitySet] = [
            .containerDefault, .all, .empty,
            (try? CapabilitySet.containerDefault.applying(add: ["SYS_ADMIN"], drop: [])) ?? .all,
            (try? CapabilitySet.containerDefault.applying(add: ["SYS_PTRACE", "SYS_TIME", "SYS_NICE"], drop: [])) ?? .all,
        ]

        /// The key property: for every arch value, number and argument vector tried, the range
        /// program returns exactly what libseccomp's program (behind the ENOSYS stub) returns.
        @Test(arguments: capabilitySets)
        func answersExactlyAsTheDirectProgram(capabilities: CapabilitySet) throws {
            let profile = SeccompProfile.default(for: capabilities)
            #expect(profile.compilesAsRanges)
            let direct = ClassicBPF(bytes: try SeccompCompiler.compileDirectly(profile))
            let ranges = ClassicBPF(bytes: try SeccompCompiler.compile(profile))
            var differences: [String] = []
            for (arch, numbers) in Self.numbersByArch {
                for number in numbers {
                    for arguments in Self.argumentVectors {
                        let data = ClassicBPF.SeccompData(number: number, arch: arch, arguments: arguments)
                        let expected = try direct.run(data).result
                        let actual = try ranges.run(data).result
                        if expected != actual, differences.count < 20,
                           !differences.contains(where: { $0.hasPrefix("arch 0x\(String(arch, radix: 16)) nr \(number) ") }) {
                            differences.append("arch 0x\(String(arch, radix: 16)) nr \(number) args \(arguments): "
                                + "0x\(String(expected, radix: 16)) directly, 0x\(String(actual, radix: 16)) as ranges")
                        }
                    }
                }
            }
            #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        }

        /// Only berth's default profile takes the range form: read back from its OCI form (the
        /// launch spec) it is recognised for the capabilities it was made for, not for others, and
        /// a profile from a file is compiled directly.
        @Test func onlyTheDefaultProfileIsCompiledAsRanges() throws {
            let fromSpec = try SeccompProfile(oci: SeccompProfile.default.oci)
            #expect(!fromSpec.compilesAsRanges)
            #expect(fromSpec.recognizingTheDefault(for: .containerDefault).compilesAsRanges)
            #expect(fromSpec.recognizingTheDefault(for: .containerDefault) == .default)
            #expect(!fromSpec.recognizingTheDefault(for: .all).compilesAsRanges)
            var edited = fromSpec
            edited.rules[0].names.removeLast()
            #expect(!edited.recognizingTheDefault(for: .containerDefault).compilesAsRanges)
        }

        /// The interpreter itself sees the answers the behaviour tests see in a real process.
        @Test func theInterpreterReadsTheAnswersItShould() throws {
            #if arch(x86_64)
            let program = ClassicBPF(bytes: try SeccompProfile.default.compile(cacheDirectory: nil))
            func answer(_ number: UInt32, arch: UInt32 = 0xc000_003e, _ argument: UInt64 = 0) throws -> UInt32 {
                try program.run(ClassicBPF.SeccompData(number: number, arch: arch, arguments: [argument, 0, 0, 0, 0, 0])).result
            }
            let allow: UInt32 = 0x7fff_0000
            let eperm: UInt32 = 0x0005_0001
            let enosys: UInt32 = 0x0005_0026
            #expect(try answer(39) == allow)  // getpid
            #expect(try answer(272) == eperm)  // unshare
            #expect(try answer(435) == enosys)  // clone3
            #expect(try answer(56, 0x11) == allow)  // clone(SIGCHLD)
            #expect(try answer(56, 0x1000_0000) == eperm)  // clone(CLONE_NEWUSER)
            #expect(try answer(135, 0x2_0008) == allow)  // personality(UNAME26|PER_LINUX32)
            #expect(try answer(135, 0x40_0000) == eperm)  // personality(READ_IMPLIES_EXEC)
            #expect(try answer(41, 40) == eperm)  // socket(AF_VSOCK)
            #expect(try answer(41, 1) == allow)  // socket(AF_UNIX)
            #expect(try answer(1000) == enosys)
            #expect(try answer(20, arch: 0x4000_0003) == allow)  // i386 getpid
            #expect(try answer(310, arch: 0x4000_0003) == eperm)  // i386 unshare
            #expect(try answer(0x4000_0000 + 272) == eperm)  // x32 unshare
            #endif
        }

        /// Prints the sizes (instructions) and the longest path, and keeps the gain from eroding.
        @Test func isAFractionOfTheDirectProgram() throws {
            let profile = SeccompProfile.default
            let direct = try SeccompCompiler.compileDirectly(profile)
            let ranges = try SeccompCompiler.compile(profile)
            let directProgram = ClassicBPF(bytes: direct)
            let rangeProgram = ClassicBPF(bytes: ranges)
            var longest = (direct: 0, ranges: 0)
            for (arch, numbers) in Self.numbersByArch {
                for number in numbers {
                    let data = ClassicBPF.SeccompData(number: number, arch: arch)
                    longest.direct = max(longest.direct, try directProgram.run(data).steps)
                    longest.ranges = max(longest.ranges, try rangeProgram.run(data).steps)
                }
            }
            print("seccomp default profile: \(direct.count / 8) instructions directly (longest path \(longest.direct)), "
                  + "\(ranges.count / 8) as ranges (longest path \(longest.ranges))")
            #expect(ranges.count * 2 < direct.count)
        }
    }
}

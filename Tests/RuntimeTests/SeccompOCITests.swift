#if canImport(Glibc)
import Glibc
#endif
import Testing
import Runtime

extension SeccompTests {
    /// `SeccompProfile(oci:)`: the seccomp section of a config.json to our profile.
    @Suite("from config.json") struct FromOCI {
        typealias OCI = OCIRuntimeSpec.Linux

        @Test(arguments: [
            ("SCMP_ACT_ALLOW", nil, SeccompAction.allow),
            ("SCMP_ACT_ERRNO", nil, .errno(UInt16(EPERM))),
            ("SCMP_ACT_ERRNO", 38, .errno(38)),
            ("SCMP_ACT_KILL", nil, .killThread),
            ("SCMP_ACT_KILL_THREAD", nil, .killThread),
            ("SCMP_ACT_KILL_PROCESS", nil, .killProcess),
            ("SCMP_ACT_TRAP", nil, .trap),
            ("SCMP_ACT_LOG", nil, .log),
            ("SCMP_ACT_TRACE", 5, .trace(5)),
        ] as [(String, UInt32?, SeccompAction)])
        func actions(name: String, errnoRet: UInt32?, expected: SeccompAction) throws {
            #expect(try SeccompAction(oci: name, errnoRet: errnoRet) == expected)
            let section = OCI.Seccomp(defaultAction: name, defaultErrnoRet: errnoRet)
            #expect(try SeccompProfile(oci: section).defaultAction == expected)
        }

        @Test(arguments: [
            ("SCMP_CMP_NE", SeccompOperator.notEqual), ("SCMP_CMP_LT", .lessThan), ("SCMP_CMP_LE", .lessThanOrEqual),
            ("SCMP_CMP_EQ", .equal), ("SCMP_CMP_GE", .greaterThanOrEqual), ("SCMP_CMP_GT", .greaterThan),
            ("SCMP_CMP_MASKED_EQ", .maskedEqual),
        ])
        func operators(name: String, expected: SeccompOperator) throws {
            #expect(try SeccompOperator(oci: name) == expected)
        }

        @Test(arguments: [
            ("SCMP_ARCH_X86_64", SeccompArchitecture.x86_64), ("SCMP_ARCH_X86", .x86), ("SCMP_ARCH_X32", .x32),
            ("SCMP_ARCH_AARCH64", .aarch64), ("SCMP_ARCH_ARM", .arm), ("SCMP_ARCH_MIPSEL64N32", .mipsel64n32),
            ("SCMP_ARCH_PPC64LE", .ppc64le), ("SCMP_ARCH_S390X", .s390x), ("SCMP_ARCH_RISCV64", .riscv64),
        ])
        func architectures(name: String, expected: SeccompArchitecture) throws {
            let profile = try SeccompProfile(oci: OCI.Seccomp(defaultAction: "SCMP_ACT_ALLOW", architectures: [name]))
            #expect(profile.architectures == [expected])
            #expect(expected.ociName == name)
        }

        /// Every architecture we name is one libseccomp can build a filter for.
        @Test func everyArchitectureCompiles() throws {
            let profile = SeccompProfile(defaultAction: .allow, architectures: SeccompArchitecture.allCases,
                                         rules: [SeccompRule(names: ["mount"], action: .errno(1))])
            #expect(try !profile.compile(cacheDirectory: nil).isEmpty)
        }

        /// A bad section and the sentence it must produce.
        @Test(arguments: [
            (OCI.Seccomp(defaultAction: "SCMP_ACT_DENY"),
             RuntimeError.Code.invalidArgument, "seccomp: unknown action \"SCMP_ACT_DENY\""),
            (OCI.Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [.init(names: ["mount"], action: "ERRNO")]),
             .invalidArgument, "seccomp: unknown action \"ERRNO\""),
            (OCI.Seccomp(defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"]),
             .invalidArgument, "seccomp: unknown architecture \"SCMP_ARCH_VAX\""),
            (OCI.Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
                .init(names: ["clone"], action: "SCMP_ACT_ERRNO", args: [.init(index: 0, value: 1, op: "SCMP_CMP_BITS_SET")]),
            ]), .invalidArgument, "seccomp: unknown operator \"SCMP_CMP_BITS_SET\""),
            (OCI.Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
                .init(names: ["clone"], action: "SCMP_ACT_ERRNO", args: [.init(index: 6, value: 1, op: "SCMP_CMP_EQ")]),
            ]), .invalidArgument, "seccomp: argument index 6 is out of range 0…5"),
            (OCI.Seccomp(defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 70000),
             .invalidArgument, "seccomp: errnoRet 70000 does not fit in 16 bits"),
            (OCI.Seccomp(defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_NOPE"]),
             .invalidArgument, "seccomp: unknown flag \"SECCOMP_FILTER_FLAG_NOPE\""),
            (OCI.Seccomp(defaultAction: "SCMP_ACT_NOTIFY"),
             .unsupported, "seccomp: action SCMP_ACT_NOTIFY is not supported (no seccomp agent)"),
            (OCI.Seccomp(defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/run/agent.sock"),
             .unsupported, "seccomp: a listener (/run/agent.sock) is not supported"),
        ])
        func badSectionsAreNamed(section: OCI.Seccomp, code: RuntimeError.Code, message: String) {
            let error = #expect(throws: RuntimeError.self) { try SeccompProfile(oci: section) }
            #expect(error?.code == code)
            #expect(error?.description == message)
        }

        @Test func conditionsOnDifferentArgumentsStayInOneRule() throws {
            let section = OCI.Seccomp(defaultAction: "SCMP_ACT_ALLOW", syscalls: [
                .init(names: ["socket"], action: "SCMP_ACT_ERRNO", errnoRet: 97, args: [
                    .init(index: 0, value: 40, op: "SCMP_CMP_EQ"),
                    .init(index: 1, value: 0xf, valueTwo: 3, op: "SCMP_CMP_MASKED_EQ"),
                ]),
            ])
            #expect(try SeccompProfile(oci: section).rules == [
                SeccompRule(names: ["socket"], action: .errno(97), conditions: [
                    SeccompCondition(index: 0, op: .equal, value: 40),
                    SeccompCondition(index: 1, op: .maskedEqual, value: 0xf, valueTwo: 3),
                ]),
            ])
        }

        /// Docker's profile allows personality for several values with one entry; libseccomp
        /// takes one condition per argument, so (like runc) each becomes its own rule.
        @Test func conditionsOnTheSameArgumentBecomeSeparateRules() throws {
            let section = OCI.Seccomp(defaultAction: "SCMP_ACT_ERRNO", syscalls: [
                .init(names: ["personality"], action: "SCMP_ACT_ALLOW", args: [
                    .init(index: 0, value: 0, op: "SCMP_CMP_EQ"),
                    .init(index: 0, value: 8, op: "SCMP_CMP_EQ"),
                ]),
            ])
            let profile = try SeccompProfile(oci: section)
            #expect(profile.rules == [
                SeccompRule(names: ["personality"], action: .allow, conditions: [SeccompCondition(index: 0, op: .equal, value: 0)]),
                SeccompRule(names: ["personality"], action: .allow, conditions: [SeccompCondition(index: 0, op: .equal, value: 8)]),
            ])
            #expect(try !profile.compile(cacheDirectory: nil).isEmpty)
        }

        @Test func knownFlagsAreAccepted() throws {
            let section = OCI.Seccomp(defaultAction: "SCMP_ACT_ALLOW", flags: [
                "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
            ])
            #expect(try SeccompProfile(oci: section).rules.isEmpty)
        }
    }
}

extension SeccompTests.FromOCI {
    /// libseccomp notices the conflict when the filter covers more than one ABI.
    @Test func conflictingRulesAreNamed() throws {
        let section = OCI.Seccomp(defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], syscalls: [
            .init(names: ["socket"], action: "SCMP_ACT_ALLOW"),
            .init(names: ["socket"], action: "SCMP_ACT_ERRNO", errnoRet: 97,
                  args: [.init(index: 0, value: 40, op: "SCMP_CMP_EQ")]),
        ])
        let error = #expect(throws: RuntimeError.self) { try SeccompProfile(oci: section).compile(cacheDirectory: nil) }
        #expect(error?.description == "seccomp: the rule for socket conflicts with an earlier rule for socket")
    }
}

import Foundation
import Testing
import Runtime

@Suite("Seccomp") struct SeccompTests {
    /// What the default profile is made of, read from the value (no compilation).
    @Suite("default profile") struct DefaultProfile {
        /// Calls a container with Docker's default capabilities must not make: not allowed by any
        /// rule, so they get the default action.
        static let refused = [
            "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd", "add_key", "request_key",
            "keyctl", "bpf", "perf_event_open", "unshare", "setns", "mount", "umount", "umount2", "pivot_root",
            "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
            "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon",
            "swapoff", "settimeofday", "clock_settime", "acct", "kcmp", "pidfd_getfd", "open_by_handle_at",
            "quotactl", "lookup_dcookie", "iopl", "ioperm", "uselib", "ustat", "sysfs", "_sysctl", "nfsservctl",
            "vm86", "vm86old", "syslog", "sethostname", "vhangup", "mbind",
        ]

        static let allowedEveryday = [
            "read", "write", "openat", "execve", "exit_group", "mmap", "fork", "vfork", "wait4", "rt_sigaction",
            "ptrace", "process_vm_readv", "chroot", "arch_prctl", "fchmodat2", "futex_waitv", "rseq",
        ]

        static func allowed(_ profile: SeccompProfile) -> Set<String> {
            Set(profile.rules.filter { $0.action == .allow && $0.conditions.isEmpty }.flatMap(\.names))
        }

        static func named(_ profile: SeccompProfile, _ name: String) -> [SeccompRule] {
            profile.rules.filter { $0.names.contains(name) }
        }

        @Test func refusesWithEPERMByDefaultAndCoversTheCompanionABIs() {
            let profile = SeccompProfile.default
            #expect(profile.defaultAction == .errno(UInt16(EPERM)))
            #if arch(x86_64)
            #expect(profile.architectures == [.x86, .x32])
            #endif
        }

        @Test(arguments: refused)
        func refuses(name: String) {
            #expect(Self.named(.default, name).isEmpty)
        }

        @Test(arguments: allowedEveryday)
        func allows(name: String) {
            #expect(Self.allowed(.default).contains(name))
        }

        @Test(arguments: [CapabilitySet.containerDefault, .all, .empty])
        func eachNameIsAllowedOnce(capabilities: CapabilitySet) {
            let profile = SeccompProfile.default(for: capabilities)
            let names = profile.rules.filter { $0.action == .allow && $0.conditions.isEmpty }.flatMap(\.names)
            #expect(names.count == Set(names).count)
        }

        @Test func clone3FailsWithENOSYS() {
            #expect(Self.named(.default, "clone3") == [SeccompRule(names: ["clone3"], action: .errno(UInt16(ENOSYS)))])
        }

        @Test func cloneIsAllowedOnlyWithoutNamespaceFlags() {
            let clone = Self.named(.default, "clone")
            #if !arch(s390x)
            #expect(clone == [SeccompRule(names: ["clone"], action: .allow, conditions: [
                SeccompCondition(index: 0, op: .maskedEqual, value: 0x7e02_0000, valueTwo: 0),
            ])])
            #endif
        }

        @Test func socketIsAllowedForAnyFamilyButVsock() {
            #expect(Self.named(.default, "socket") == [SeccompRule(names: ["socket"], action: .allow, conditions: [
                SeccompCondition(index: 0, op: .notEqual, value: 40),
            ])])
        }

        @Test func personalityIsAllowedForDockersValuesOnly() {
            let values = Self.named(.default, "personality").map { rule in
                #expect(rule.action == .allow && rule.conditions.count == 1 && rule.conditions[0].op == .equal)
                return rule.conditions[0].value
            }
            #expect(values == [0, 0x8, 0x2_0000, 0x2_0008, 0xffff_ffff])
        }

        @Test func capabilitiesAllowWhatTheyPermit() throws {
            let admin = SeccompProfile.default(for: try CapabilitySet.containerDefault.applying(add: ["SYS_ADMIN"], drop: []))
            let allowed = Self.allowed(admin)
            #expect(["mount", "unshare", "setns", "clone", "clone3", "bpf", "perf_event_open"].allSatisfy(allowed.contains))
            #expect(!Self.named(admin, "clone3").contains { $0.action != .allow })
            #expect(!admin.rules.contains { $0.names == ["clone"] && !$0.conditions.isEmpty })
            #expect(!allowed.contains("keyctl") && !allowed.contains("kcmp"))

            let ptrace = Self.allowed(.default(for: try CapabilitySet(names: ["SYS_PTRACE"])))
            #expect(ptrace.contains("kcmp") && ptrace.contains("pidfd_getfd"))
            #expect(!Self.allowed(.default(for: .empty)).contains("chroot"))
            #expect(SeccompProfile.default(for: .containerDefault) == .default)
        }

        @Test func heldTogetherCapabilitiesDoNotRepeatANameInOneRule() throws {
            let profile = SeccompProfile.default(for: try CapabilitySet(names: ["SYS_ADMIN", "BPF", "PERFMON", "SYSLOG"]))
            let names = profile.rules[0].names
            #expect(names.count == Set(names).count)
            #expect(try profile.compile(cacheDirectory: nil).count % 8 == 0)
        }
    }

    @Suite("compiling") struct Compiling {
        @Test func producesWholeInstructions() throws {
            let program = try SeccompProfile.default.compile(cacheDirectory: nil)
            #expect(!program.isEmpty)
            #expect(program.count % 8 == 0)
            #expect(program.count <= 4096 * 8)
            #expect(try SeccompProfile.default.compile(cacheDirectory: nil) == program)
        }

        @Test func profilesWithOtherActionsCompile() throws {
            let profile = SeccompProfile(
                defaultAction: .errno(1), architectures: [.x86_64, .x86, .x32, .aarch64],
                rules: [
                    SeccompRule(names: ["read", "write", "exit_group", "no_such_syscall"], action: .allow),
                    SeccompRule(names: ["kill"], action: .killProcess),
                    SeccompRule(names: ["tkill"], action: .killThread),
                    SeccompRule(names: ["getpid"], action: .trap),
                    SeccompRule(names: ["getppid"], action: .log),
                    SeccompRule(names: ["gettid"], action: .trace(7)),
                    SeccompRule(names: ["socket"], action: .errno(1)), // the default: dropped
                    SeccompRule(names: ["ioctl"], action: .allow, conditions: [
                        SeccompCondition(index: 1, op: .lessThan, value: 0x5400),
                        SeccompCondition(index: 2, op: .notEqual, value: 0),
                    ]),
                ])
            let program = try profile.compile(cacheDirectory: nil)
            #expect(!program.isEmpty && program.count % 8 == 0)
        }

        @Test func cacheKeyIsStableAndFollowsTheProfile() {
            let key = SeccompProfile.default.cacheKey
            #expect(key.count == 16 && key.allSatisfy(\.isHexDigit))
            #expect(SeccompProfile.default.cacheKey == key)
            var changed = SeccompProfile.default
            changed.rules[0].action = .errno(UInt16(EACCES))
            #expect(changed.cacheKey != key)
            changed = .default
            changed.architectures = []
            #expect(changed.cacheKey != key)
        }
    }

    @Suite("cache") struct Cache {
        let directory = NSTemporaryDirectory() + "berth-seccomp-cache-\(UUID().uuidString)/nested"
        var file: String { directory + "/" + SeccompProfile.default.cacheKey + ".bpf" }

        func cleanUp() {
            try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent)
        }

        /// The cache file's inode: a rewrite (temp file + rename) changes it.
        func inode() throws -> Int {
            try #require(FileManager.default.attributesOfItem(atPath: file)[.systemFileNumber] as? Int)
        }

        @Test func storesTheProgramAndReadsItBack() throws {
            defer { cleanUp() }
            let fresh = try SeccompProfile.default.compile(cacheDirectory: nil)
            #expect(try SeccompProfile.default.compile(cacheDirectory: directory) == fresh)
            // The program, then an 8-byte check.
            let stored = try #require(FileManager.default.contents(atPath: file))
            #expect(stored.count == fresh.count + 8 && stored.prefix(fresh.count) == Data(fresh))
            let mode = try FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? Int
            #expect(mode == 0o700)

            let before = try inode()
            #expect(try SeccompProfile.default.compile(cacheDirectory: directory) == fresh)
            #expect(try inode() == before)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory)
            #expect(leftovers == [SeccompProfile.default.cacheKey + ".bpf"])
        }

        /// Ways a cache file goes bad; each must be noticed.
        enum Corruption: CaseIterable {
            case empty, notWholeInstructions, programCutShort, checkMissing, bitFlipped

            func apply(to good: Data) -> Data {
                switch self {
                case .empty: return Data()
                case .notWholeInstructions: return Data([1, 2, 3, 4, 5])
                case .programCutShort: return good.prefix(good.count - 16) + good.suffix(8)
                case .checkMissing: return good.prefix(good.count - 8)
                case .bitFlipped:
                    var bad = good
                    bad[bad.startIndex + 16] ^= 0x04
                    return bad
                }
            }
        }

        @Test(arguments: Corruption.allCases)
        func corruptFileIsRebuilt(corruption: Corruption) throws {
            defer { cleanUp() }
            let fresh = try SeccompProfile.default.compile(cacheDirectory: directory)
            let good = try #require(FileManager.default.contents(atPath: file))
            try corruption.apply(to: good).write(to: URL(fileURLWithPath: file))
            #expect(try SeccompProfile.default.compile(cacheDirectory: directory) == fresh)
            #expect(FileManager.default.contents(atPath: file) == good)
        }

        @Test func anotherProfilesEntryIsNotTaken() throws {
            defer { cleanUp() }
            var other = SeccompProfile.default
            other.rules.removeLast()
            _ = try other.compile(cacheDirectory: directory)
            let otherFile = directory + "/" + other.cacheKey + ".bpf"
            #expect(rename(otherFile, file) == 0)
            #expect(try SeccompProfile.default.compile(cacheDirectory: directory)
                    == (try SeccompProfile.default.compile(cacheDirectory: nil)))
        }

        @Test func groupOrWorldWritableFileIsNotTrusted() throws {
            defer { cleanUp() }
            _ = try SeccompProfile.default.compile(cacheDirectory: directory)
            #expect(chmod(file, 0o666) == 0)
            let before = try inode()
            _ = try SeccompProfile.default.compile(cacheDirectory: directory)
            #expect(try inode() != before)
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(mode == 0o644)
        }

        @Test func unwritableCacheStillCompiles() throws {
            let blocker = NSTemporaryDirectory() + "berth-seccomp-blocker-\(UUID().uuidString)"
            #expect(FileManager.default.createFile(atPath: blocker, contents: Data()))
            defer { try? FileManager.default.removeItem(atPath: blocker) }
            let program = try SeccompProfile.default.compile(cacheDirectory: blocker + "/cache")
            #expect(program == (try SeccompProfile.default.compile(cacheDirectory: nil)))
        }
    }
}

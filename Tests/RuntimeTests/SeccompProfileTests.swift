import Foundation
import Testing
import Runtime

@Suite("Seccomp") struct SeccompTests {
    /// What the default profile is made of, read from the value (no compilation).
    @Suite("default profile") struct DefaultProfile {
        static let deniedWithEPERM = [
            "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
            "swapon", "swapoff", "settimeofday", "clock_settime", "acct", "add_key", "request_key", "keyctl",
            "bpf", "perf_event_open", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
            "mount", "umount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick",
            "move_mount", "open_tree", "mount_setattr", "setns", "unshare", "name_to_handle_at",
            "open_by_handle_at", "userfaultfd", "quotactl", "lookup_dcookie", "iopl", "ioperm", "uselib",
            "ustat", "sysfs", "_sysctl", "nfsservctl", "vm86", "vm86old",
        ]

        static func unconditionalRules(_ profile: SeccompProfile) -> [String: SeccompAction] {
            var actions: [String: SeccompAction] = [:]
            for rule in profile.rules where rule.conditions.isEmpty {
                for name in rule.names { actions[name] = rule.action }
            }
            return actions
        }

        @Test func allowsByDefaultAndCoversTheCompanionABIs() {
            let profile = SeccompProfile.default
            #expect(profile.defaultAction == .allow)
            #if arch(x86_64)
            #expect(profile.architectures == [.x86, .x32])
            #endif
        }

        @Test(arguments: deniedWithEPERM)
        func deniesWithEPERM(name: String) {
            #expect(Self.unconditionalRules(.default)[name] == .errno(UInt16(EPERM)))
        }

        @Test func clone3FailsWithENOSYS() {
            #expect(Self.unconditionalRules(.default)["clone3"] == .errno(UInt16(ENOSYS)))
        }

        @Test func cloneIsDeniedOnlyWithNamespaceFlags() {
            let clone = SeccompProfile.default.rules.filter { $0.names == ["clone"] }
            let masks = clone.map { rule in rule.conditions.map { "\($0.index) \($0.op) \($0.value) \($0.valueTwo)" } }
            #expect(masks.map(\.count) == Array(repeating: 1, count: 7))
            let flags = clone.flatMap(\.conditions).reduce(UInt64(0)) { $0 | $1.value }
            #expect(flags == 0x7e02_0000)
            #expect(clone.allSatisfy { $0.conditions[0].op == .maskedEqual && $0.conditions[0].value == $0.conditions[0].valueTwo })
        }

        /// The personality rules are a union of single comparisons standing in for "not one of
        /// five values" (see DefaultSeccompPolicy); evaluate them here over many values.
        @Test func personalityIsDeniedExactlyOutsideDockersValues() {
            let rules = SeccompProfile.default.rules.filter { $0.names == ["personality"] }
            func denied(_ value: UInt64) -> Bool {
                rules.contains { rule in
                    rule.conditions.allSatisfy { condition in
                        switch condition.op {
                        case .notEqual: return value != condition.value
                        case .lessThan: return value < condition.value
                        case .lessThanOrEqual: return value <= condition.value
                        case .equal: return value == condition.value
                        case .greaterThanOrEqual: return value >= condition.value
                        case .greaterThan: return value > condition.value
                        case .maskedEqual: return value & condition.value == condition.valueTwo
                        }
                    }
                }
            }
            let allowed: [UInt64] = [0, 0x8, 0x2_0000, 0x2_0008, 0xffff_ffff]
            #expect(allowed.allSatisfy { !denied($0) })
            var samples = (0..<64).map { UInt64(1) << UInt64($0) }
            samples += (0..<32).map { 0xffff_ffff ^ (UInt64(1) << UInt64($0)) }
            var generator = SystemRandomNumberGenerator()
            samples += (0..<20_000).map { _ in UInt64.random(in: 0...0xffff_ffff, using: &generator) }
            samples += (0..<1_000).map { _ in UInt64.random(in: 0...UInt64.max, using: &generator) }
            samples += (0..<1_000).map { _ in UInt64.random(in: 0...0xffff_ffff, using: &generator) & 0xff | 0x2_0008 }
            let wrong = samples.filter { denied($0) == allowed.contains($0) }
            #expect(wrong.isEmpty)
        }

        @Test func capabilitiesLiftWhatTheyPermit() throws {
            let admin = SeccompProfile.default(for: try CapabilitySet.containerDefault.applying(add: ["SYS_ADMIN"], drop: []))
            let actions = Self.unconditionalRules(admin)
            #expect(actions["mount"] == nil && actions["unshare"] == nil && actions["clone3"] == nil)
            #expect(!admin.rules.contains { $0.names == ["clone"] })
            #expect(actions["keyctl"] == .errno(UInt16(EPERM)))
            #expect(actions["ptrace"] == .errno(UInt16(EPERM)))

            let ptrace = SeccompProfile.default(for: try CapabilitySet(names: ["SYS_PTRACE"]))
            #expect(Self.unconditionalRules(ptrace)["ptrace"] == nil)
            #expect(SeccompProfile.default(for: .containerDefault) == .default)
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

import Containers
import Foundation
import JSON
import Runtime
import Testing

/// `--security-opt seccomp=FILE` and `systempaths=unconfined`, resolved into a launch config
/// (no container is started: the profile's effect is in SeccompBehaviourTests and the
/// integration tests).
@Suite("seccomp profile files") struct SeccompProfileDocumentTests {
    static func document(_ text: String) throws -> SeccompProfileDocument {
        try JSON.decode(SeccompProfileDocument.self, from: text)
    }

    /// Docker's format: includes and excludes on capabilities, architectures and kernels, an
    /// archMap, the older single `name`.
    static let docker = """
        {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
         "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                     {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
         "syscalls": [
          {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "comment": "always"},
          {"name": "getpid", "action": "SCMP_ACT_ALLOW"},
          {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
          {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]},
           "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
          {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
          {"names": ["cacheflush"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm", "arm64"]}},
          {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
          {"names": ["uselib"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "999.0"}}
         ]}
        """

    static func names(_ profile: SeccompProfile) -> [String] { profile.rules.flatMap(\.names) }

    @Test func dockerConditionsFollowTheContainer() throws {
        let document = try Self.document(Self.docker)
        let plain = try document.profile(capabilities: .containerDefault)
        #expect(plain.defaultAction == .errno(1))
        #if arch(x86_64)
        #expect(plain.architectures == [.x86_64, .x86, .x32])
        #expect(Self.names(plain) == ["read", "write", "getpid", "clone", "arch_prctl", "ptrace"])
        #endif
        #expect(plain.rules.first { $0.names == ["clone"] }?.conditions.first?.op == .maskedEqual)

        let admin = try document.profile(capabilities: try CapabilitySet.containerDefault.applying(add: ["SYS_ADMIN"], drop: []))
        #expect(Self.names(admin).contains("mount") && !Self.names(admin).contains("clone"))
    }

    @Test func anOCIProfileReadsAsIs() throws {
        let profile = try Self.document("""
            {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
             "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
            """).profile(capabilities: .containerDefault)
        #expect(profile == SeccompProfile(defaultAction: .allow, architectures: [.x86_64],
                                          rules: [SeccompRule(names: ["mkdir"], action: .errno(13))]))
    }

    @Test(arguments: [
        (#"{"defaultAction": "SCMP_ACT_NOPE"}"#, "unknown action"),
        (#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO"}]}"#, "names no system call"),
        (#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z80"]}"#, "unknown architecture"),
        (#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_NOPE"]}}]}"#,
         "CAP_NOPE"),
        (#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "new"}}]}"#,
         "minKernel"),
    ])
    func mistakesAreNamed(text: String, fault: String) throws {
        let error = #expect(throws: ContainerError.self) { try Self.document(text).profile(capabilities: .containerDefault) }
        #expect(error?.description.contains(fault) == true, "\(String(describing: error))")
    }

    func launchConfig(_ securityOpt: [String], privileged: Bool = false) throws -> ContainerConfig {
        var request = ContainerRequest(root: .directory("/"))
        request.securityOpt = securityOpt
        request.privileged = privileged
        return try request.launchConfig(id: "c", rootfs: "/", args: ["/bin/true"], image: ImageDefaults(), fileRoots: [])
    }

    @Test func aProfileFileBecomesTheContainersProfile() throws {
        let path = NSTemporaryDirectory() + "berth-profile-\(UUID().uuidString).json"
        try #"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let config = try launchConfig(["seccomp=" + path])
        #expect(config.seccomp?.rules == [SeccompRule(names: ["mkdir"], action: .errno(UInt16(EPERM)))])
        #expect(try launchConfig(["seccomp=" + path], privileged: true).seccomp == nil)

        try #"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: ContainerError.self) { try launchConfig(["seccomp=" + path]) }
        let message = error?.description ?? ""
        #expect(message.hasPrefix("seccomp profile \(path): ") && message.contains("SCMP_ACT_NOTIFY") && !message.contains("\n"))
        #expect(throws: ContainerError.self) { try launchConfig(["seccomp=" + path], privileged: true) }
    }

    @Test func systemPathsUnconfinedLiftsMasksAndReadOnlyPaths() throws {
        let confined = try launchConfig([])
        #expect(confined.maskedPaths.contains("/proc/interrupts") && confined.maskedPaths.contains("/sys/devices/virtual/powercap"))
        #expect(confined.readOnlyPaths.contains("/proc/sys"))
        let unconfined = try launchConfig(["systempaths=unconfined"])
        #expect(unconfined.maskedPaths.isEmpty && unconfined.readOnlyPaths.isEmpty)
        #expect(unconfined.seccomp == .default)
    }
}

import Testing
import CSpawn
@testable import Runtime

/// A container's user namespace as data: the checks before clone, the text of the map files, the
/// mount plan's /sys, and the OCI spec it is kept in.
@Suite("User namespace") struct UserNamespaceTests {
    @Test func theMapFilesHoldOneLineARange() {
        let ns = UserNamespace(
            uidMappings: [IDMapping(containerID: 0, hostID: 100_000, size: 1000), IDMapping(containerID: 1000, hostID: 300_000, size: 5)],
            gidMappings: [IDMapping(containerID: 0, hostID: 200_000, size: 65536)])
        #expect(ns.uidMapText == "0 100000 1000\n1000 300000 5\n")
        #expect(ns.gidMapText == "0 200000 65536\n")
        #expect(ns.hostRootUID == 100_000 && ns.hostRootGID == 200_000)
        #expect(ns.containerUID(ofHost: 300_004) == 1004)
        #expect(ns.containerUID(ofHost: 300_005) == nil)
        #expect(ns.containerGID(ofHost: 265_535) == 65535)
    }

    @Test(arguments: [
        ([], "the user namespace's uid map needs 1 to 340 ranges, not 0"),
        ([IDMapping(containerID: 1, hostID: 100_000, size: 10)], "the user namespace's uid map does not map the container's root (id 0)"),
        ([IDMapping(containerID: 0, hostID: 100_000, size: 0)], "the uid mapping 0 100000 0 is empty or runs past the last id"),
        ([IDMapping(containerID: 0, hostID: 100_000, size: 10), IDMapping(containerID: 5, hostID: 200_000, size: 10)],
         "the user namespace's uid mappings overlap"),
        ([IDMapping(containerID: 0, hostID: 100_000, size: 10), IDMapping(containerID: 10, hostID: 100_009, size: 10)],
         "the user namespace's uid mappings overlap"),
    ])
    func aMapTheKernelWouldRefuseIsRefusedFirst(uids: [IDMapping], message: String) {
        let ns = UserNamespace(uidMappings: uids, gidMappings: [IDMapping(containerID: 0, hostID: 100_000, size: 65536)])
        let error = #expect(throws: RuntimeError.self) { try ns.validate() }
        #expect(error?.message == message)
        #expect(throws: Never.self) { try UserNamespace(hostID: 100_000, size: 65536).validate() }
    }

    static func config(network: Bool, userNamespace: Bool) -> ContainerConfig {
        var config = ContainerConfig(id: String(repeating: "ab", count: 32), rootfs: "/srv/root", args: ["sh"], env: [])
        if !network { config.namespaces.remove(.network) }
        if userNamespace { config.userNamespace = UserNamespace(hostID: 100_000, size: 65536) }
        return config
    }

    static func sysOperation(_ config: ContainerConfig) -> MountOperation? {
        MountPlan.operations(for: config, cgroupMode: .legacy, consolePath: nil).first { $0.target == "/sys" }
    }

    @Test func sysfsIsBoundFromTheHostOnlyForAUserNamespaceWithoutANetworkOfItsOwn() {
        let flags: MountFlags = [.noSuid, .noDev, .noExec, .readOnly]
        let sysfs = MountOperation(.mount(fstype: "sysfs", source: "sysfs", data: nil), target: "/sys", flags: flags)
        #expect(Self.sysOperation(Self.config(network: false, userNamespace: true))
                    == MountOperation(.bind(source: "/sys"), target: "/sys", flags: flags))
        #expect(Self.sysOperation(Self.config(network: true, userNamespace: true)) == sysfs)
        #expect(Self.sysOperation(Self.config(network: false, userNamespace: false)) == sysfs)
    }

    @Test func theOCISpecCarriesTheNamespaceAndItsMappings() throws {
        var config = Self.config(network: true, userNamespace: true)
        config.userNamespace = UserNamespace(
            uidMappings: [IDMapping(containerID: 0, hostID: 100_000, size: 65536)],
            gidMappings: [IDMapping(containerID: 0, hostID: 200_000, size: 65536)])
        let spec = config.ociSpec
        #expect(spec.linux?.namespaces?.contains(.init(type: "user")) == true)
        #expect(spec.linux?.uidMappings == config.userNamespace?.uidMappings)
        let back = try ContainerConfig(id: config.id, oci: spec)
        #expect(back.userNamespace == config.userNamespace)
        #expect(back.namespaces == config.namespaces)
        #expect(try ContainerConfig(id: config.id, oci: Self.config(network: true, userNamespace: false).ociSpec).userNamespace == nil)

        var unmapped = spec
        unmapped.linux?.uidMappings = nil
        let error = #expect(throws: RuntimeError.self) { try ContainerConfig(id: config.id, oci: unmapped) }
        #expect(error?.message == "the container's spec asks for a user namespace without uidMappings and gidMappings")
    }

    @Test func theChildGetsTheLayersAtShortPathsBelowTheLinkDirectory() {
        var config = Self.config(network: true, userNamespace: true)
        config.overlay = OverlayRoot(lowerDirectories: ["/l/a", "/l/b"], upperDirectory: "/c/upper", workDirectory: "/c/work",
                                     linkDirectory: "/c/links")
        #expect(IdmappedSources.of(config, operations: [])?.sources.map(\.path) == ["/l/a", "/l/b"])
        let args = SpawnArguments(container: config, operations: [], stdio: (0, 1, 2), controllingTerminal: false,
                                  placement: CgroupPlacement(directoryFD: nil), unshareCgroup: false, seccomp: nil,
                                  lastCap: 40, overlayShortNames: nil, entry: -1)
        let c = args.config
        #expect(c.n_idmapped == 2 && c.overlay_userxattr == 1)
        #expect(c.namespaces & berth_clone_newuser != 0)
        #expect(c.overlay_lower.map { String(cString: $0[1]!) } == "/c/links/1")
        #expect(c.overlay_lower_base.map { String(cString: $0) } == "/c/links")
        config.overlay = nil
        #expect(IdmappedSources.of(config, operations: [])?.sources.map(\.path) == ["/srv/root"])
        config.userNamespace = nil
        #expect(IdmappedSources.of(config, operations: []) == nil)
        let plain = SpawnArguments(container: config, operations: [], stdio: (0, 1, 2), controllingTerminal: false,
                                   placement: CgroupPlacement(directoryFD: nil), unshareCgroup: false, seccomp: nil,
                                  lastCap: 40, overlayShortNames: nil, entry: -1)
        #expect(plain.config.n_idmapped == 0 && plain.config.namespaces & berth_clone_newuser == 0)
    }
}

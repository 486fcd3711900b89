import Runtime
import Testing

/// An OCI spec's mounts of every type: options sorted into flags, propagation, bind depth and
/// the filesystem's data; the plan each gives; what is refused; the launch spec's round trip.
@Suite("OCI mount options") struct OCIMountOptionsTests {
    static func config(_ mounts: [OCIRuntimeSpec.Mount]) throws -> ContainerConfig {
        try ContainerConfig(id: "m", oci: OCIRuntimeSpec(process: .init(user: .init(uid: 0, gid: 0), args: ["sh"]),
                                                         root: .init(path: "/srv/root"), mounts: mounts))
    }

    static func userOperations(_ config: ContainerConfig) -> [MountOperation] {
        MountPlan.operations(for: config, cgroupMode: .legacy, consolePath: nil).filter { $0.target.hasPrefix("/mnt") }
    }

    @Test func flagsAreReadInOrderAndTheRestIsTheFilesystemsData() throws {
        let options = MountOptions(parsing: ["ro", "nosuid", "rw", "noexec", "relatime", "norelatime", "strictatime",
                                             "size=64m", "mode=1777", "rshared", "defaults"])
        #expect(options.flags == [.noSuid, .noExec, .strictAtime])
        #expect(options.propagation == .rshared)
        #expect(options.data == ["size=64m", "mode=1777"])
        #expect(options.bind == nil && options.idmap == nil && options.treeAttributes.isEmpty && !options.copyUp)
        #expect(MountOptions(parsing: ["bind"]).bind == .top)
        #expect(MountOptions(parsing: ["rbind", "ridmap"]).idmap == .tree)
    }

    @Test func recursiveAttributesAreReadInOrderIntoWhatMountSetattrSetsAndClears() {
        let attributes = MountOptions(parsing: ["rbind", "rro", "rnosuid", "rrw", "rnoexec", "rdev", "rnoatime"]).treeAttributes
        // MOUNT_ATTR_NOSUID | NOEXEC | NOATIME set; RDONLY and NODEV cleared, and the atime field.
        #expect(attributes.setting == 0x2 | 0x8 | 0x10)
        #expect(attributes.clearing == 0x1 | 0x4 | 0x70)
        #expect(attributes.options == ["rrw", "rnosuid", "rdev", "rnoexec", "rnoatime"])
        // A mode-off option chooses the kernel's default atime mode, relatime (0).
        let back = MountOptions(parsing: ["rnoatime", "ratime"]).treeAttributes
        #expect(back.setting == 0 && back.clearing == 0x70 && back.options == ["rrelatime"])
        #expect(MountOptions(parsing: ["rstrictatime", "rnosymfollow"]).treeAttributes.setting == 0x20 | 0x20_0000)
    }

    @Test func recursiveAttributesAndCopyUpReachThePlanAndTheLaunchSpec() throws {
        let config = try Self.config([
            .init(destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup", "rnodev", "size=1m"]),
            .init(destination: "/mnt/a", type: "bind", source: "/srv/a", options: ["rbind", "ro", "rro"]),
        ])
        let operations = Self.userOperations(config)
        #expect(operations.map(\.description) == ["mount tmpfs tmpfs on /mnt -o size=1m (rnodev,tmpcopyup)",
                                                   "bind /srv/a on /mnt/a (ro,rro)"])
        #expect(operations.first?.copyUp == true && operations.last?.copyUp == false)
        #expect(operations.last?.treeAttributes.setting == 0x1)
        let back = try ContainerConfig(id: config.id, oci: config.ociSpec)
        #expect(back.bindMounts == config.bindMounts)
        #expect(back.tmpfsMounts == config.tmpfsMounts)
    }

    @Test func filesystemsOfAnyTypeArePlannedWithTheirFlagsAndData() throws {
        let config = try Self.config([
            .init(destination: "/mnt/proc", type: "proc", source: "proc", options: ["nosuid", "nodev", "noexec"]),
            .init(destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["size=1m", "mode=0700", "noatime"]),
            .init(destination: "/mnt/mq", type: "mqueue", options: ["slave"]),
        ])
        #expect(Self.userOperations(config) == [
            MountOperation(.mount(fstype: "tmpfs", source: "tmpfs", data: "size=1m,mode=0700"), target: "/mnt", flags: [.noAtime]),
            MountOperation(.mount(fstype: "proc", source: "proc", data: nil), target: "/mnt/proc", flags: [.noSuid, .noDev, .noExec]),
            MountOperation(.mount(fstype: "mqueue", source: "mqueue", data: nil), target: "/mnt/mq", flags: [.propagationSlave]),
        ])
        #expect(Self.userOperations(config).last?.description == "mount mqueue mqueue on /mnt/mq (slave)")
    }

    @Test func aBindIsOfTheWholeTreeOnlyWithRbind() throws {
        let config = try Self.config([
            .init(destination: "/mnt/a", type: "bind", source: "/srv/a", options: ["nosuid", "noexec", "ro", "runbindable"]),
            .init(destination: "/mnt/b", source: "/srv/b", options: ["rbind", "nodev"]),
        ])
        #expect(Self.userOperations(config) == [
            MountOperation(.bind(source: "/srv/a", recursive: false), target: "/mnt/a",
                           flags: [.noSuid, .noExec, .readOnly, .propagationUnbindable, .recursive]),
            MountOperation(.bind(source: "/srv/b"), target: "/mnt/b", flags: [.noDev]),
        ])
        #expect(Self.userOperations(config).first?.description
                    == "bind (top mount only) /srv/a on /mnt/a (ro,nosuid,noexec,runbindable)")
    }

    @Test func whatBerthDoesNotCarryOutIsRefusedByName() {
        let cases: [(OCIRuntimeSpec.Mount, String)] = [
            (.init(destination: "/mnt", type: "bind", source: "/srv", options: ["rbind", "tmpcopyup"]),
             "the bind mount at /mnt has the option tmpcopyup, which only a tmpfs takes"),
            (.init(destination: "/mnt", type: "bind", source: "/srv", options: ["mode=0755"]),
             "the bind at /mnt has the option mode=0755, which is not a bind's"),
            (.init(destination: "/mnt", type: "bind", options: ["rbind"]), "binds nothing at /mnt"),
            (.init(destination: "/mnt", source: "x", options: ["ro"]), "a mount at /mnt without a type"),
        ]
        for (mount, message) in cases {
            #expect { try Self.config([mount]) } throws: { error in "\(error)".contains(message) }
        }
    }

    @Test func aBundlesMountsKeepTheSpecsOrderAndALaunchSpecsPutParentsFirst() throws {
        let spec = OCIRuntimeSpec(process: .init(args: ["sh"]), root: .init(path: "/srv/root"), mounts: [
            .init(destination: "/mnt/a", type: "tmpfs"),
            .init(destination: "/mnt/a", type: "bind", source: "/srv/a", options: ["rbind"]),
            .init(destination: "/mnt", type: "proc"),
        ])
        let bundle = try ContainerConfig(id: "m", oci: spec, keepingMountOrder: true)
        #expect(Self.userOperations(bundle).map(\.description) == [
            "mount tmpfs tmpfs on /mnt/a", "bind /srv/a on /mnt/a", "mount proc proc on /mnt",
        ])
        #expect(bundle.ociSpec.mounts?.map(\.destination) == ["/mnt/a", "/mnt/a", "/mnt"])
        let launch = try ContainerConfig(id: "m", oci: spec)
        #expect(Self.userOperations(launch).map(\.description) == [
            "mount proc proc on /mnt", "bind /srv/a on /mnt/a", "mount tmpfs tmpfs on /mnt/a",
        ])
    }

    @Test func anIdmappedBindCarriesItsMappingIntoThePlan() throws {
        let mapping = [IDMapping(containerID: 0, hostID: 1000, size: 1)]
        let config = try Self.config([
            .init(destination: "/mnt/a", type: "bind", source: "/srv/a", options: ["rbind", "ridmap"],
                  uidMappings: mapping, gidMappings: mapping),
            // Mappings without the option: idmap, as the spec's SHOULD allows.
            .init(destination: "/mnt/b", type: "bind", source: "/srv/b", uidMappings: mapping, gidMappings: mapping),
        ])
        let operations = Self.userOperations(config)
        #expect(operations.map(\.kind) == [
            .bind(source: "/srv/a", recursive: true, idmap: MountIDMap(uidMappings: mapping, gidMappings: mapping, recursive: true)),
            .bind(source: "/srv/b", recursive: false, idmap: MountIDMap(uidMappings: mapping, gidMappings: mapping)),
        ])
        #expect(operations.first?.description == "bind ridmapped /srv/a on /mnt/a")
        let back = try ContainerConfig(id: config.id, oci: config.ociSpec)
        #expect(back.bindMounts == config.bindMounts)
    }

    @Test func anIdmapWithoutItsMappingsNeedsTheContainersUserNamespace() {
        let mapping = [IDMapping(containerID: 0, hostID: 1000, size: 1)]
        let cases: [(OCIRuntimeSpec.Mount, String)] = [
            (.init(destination: "/mnt", type: "bind", source: "/srv", options: ["idmap"]),
             "the bind at /mnt is idmapped without mappings of its own, which means the container's user namespace"),
            (.init(destination: "/mnt", type: "bind", source: "/srv", uidMappings: mapping),
             "the bind at /mnt has uidMappings without gidMappings"),
            (.init(destination: "/mnt", type: "tmpfs", options: ["idmap"]), "idmaps the tmpfs mount at /mnt: berth idmaps binds only"),
        ]
        for (mount, message) in cases {
            #expect { try Self.config([mount]) } throws: { error in "\(error)".contains(message) }
        }
    }

    @Test func theLaunchSpecGivesEveryKindBack() throws {
        var config = ContainerConfig(id: "m", rootfs: "/srv/root", args: ["sh"], env: [])
        config.bindMounts = [BindMount(source: "/srv/a", destination: "/mnt/a", readOnly: true, propagation: .slave,
                                       recursive: false, flags: [.noExec, .relativeAtime])]
        config.filesystemMounts = [FilesystemMount(destination: "/mnt/p", type: "proc", source: "proc",
                                                   flags: [.noSuid, .propagationShared], options: ["hidepid=2"])]
        let spec = config.ociSpec
        #expect(spec.mounts?.first?.options == ["bind", "ro", "noexec", "relatime", "slave"])
        #expect(spec.mounts?.last?.options == ["nosuid", "shared", "hidepid=2"])
        let back = try ContainerConfig(id: config.id, oci: spec)
        #expect(back.bindMounts == config.bindMounts)
        #expect(back.filesystemMounts == config.filesystemMounts)
    }
}

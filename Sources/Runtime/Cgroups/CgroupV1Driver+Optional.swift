/// The v1 hierarchies only an OCI spec's limits use: blkio (weights and throttles), hugetlb,
/// net_cls and net_prio. A container gets a cgroup in one only when its limits need it, so the
/// others pay nothing; a hierarchy the host lacks is `.unsupported`, said with where the
/// controller is instead when a hybrid host has it on its cgroup2 mount.
extension CgroupV1Driver {
    /// Makes the container's cgroup in `controller`'s hierarchy and writes its limits; the leaf,
    /// for the child to join.
    func makeOptionalLeaf(_ controller: CgroupController, _ components: [String], _ limits: ResourceLimits,
                          createdIn: inout [String]) throws(RuntimeError) -> String {
        let hierarchy = hierarchyDirectory(of: controller)
        guard let leaf = try makeLeaf(components, in: hierarchy, createdIn: &createdIn) else {
            let unified = root + "/unified"
            let elsewhere = (try? ControlFile.read(unified + "/cgroup.controllers")).map {
                ControlFile.words($0).contains(Substring(controller.unifiedName))
            } ?? false
            let instead = elsewhere
                ? "this host has the \(controller.rawValue) controller on its cgroup2 hierarchy at \(unified), where berth's "
                    + "v1 driver places no containers: mount a v1 \(controller.rawValue) hierarchy at \(hierarchy), "
                    + "use a host with cgroup v2 alone, or \(controller.withoutLimit)"
                : "no cgroup v1 \(controller.rawValue) hierarchy is mounted at \(hierarchy); mount one there or \(controller.withoutLimit)"
            throw RuntimeError(.unsupported, "cannot set the \(controller.limitName): " + instead)
        }
        switch controller {
        case .blkio: try applyBlockIO(limits.blockIO, in: leaf)
        case .hugetlb:
            for limit in limits.hugepageLimits {
                try write(String(limit.limit), to: leaf + "/hugetlb.\(limit.pageSize).limit_in_bytes", for: .hugetlb)
            }
        case .netClass:
            if let classID = limits.network?.classID { try write(String(classID), to: leaf + "/net_cls.classid", for: .netClass) }
        case .netPriority:
            // One interface a write: the kernel reads one "name priority" pair from each.
            for priority in limits.network?.priorities ?? [] {
                try write("\(priority.name) \(priority.priority)", to: leaf + "/net_prio.ifpriomap", for: .netPriority)
            }
        case .memory, .cpu, .pids, .freezer, .devices, .cpuset:
            break
        }
        return leaf
    }

    /// The container's cgroups in the optional hierarchies, for a process joining it (exec):
    /// only berth-oci's driver looks.
    func existingOptionalLeaves(_ relative: String) -> [String] {
        guard optionalControllers else { return [] }
        var leaves: [String] = []
        for controller in CgroupController.optionalCases {
            let leaf = hierarchyDirectory(of: controller) + relative
            // net_cls and net_prio co-mounted are one hierarchy: one leaf, joined once.
            if ControlFile.exists(leaf), !leaves.contains(leaf) { leaves.append(leaf) }
        }
        return leaves
    }

    /// blkio.weight and leaf_weight, per device weights, then the four throttles, as the OCI
    /// spec's blockIO names them ("MAJOR:MINOR VALUE", one device a write).
    private func applyBlockIO(_ blockIO: OCIRuntimeSpec.Linux.BlockIO?, in leaf: String) throws(RuntimeError) {
        guard let blockIO else { return }
        if let weight = blockIO.weight { try write(String(weight), to: leaf + "/blkio.weight", for: .blkio) }
        if let weight = blockIO.leafWeight { try write(String(weight), to: leaf + "/blkio.leaf_weight", for: .blkio) }
        for device in blockIO.weightDevice ?? [] {
            if let weight = device.weight {
                try write("\(device.major):\(device.minor) \(weight)", to: leaf + "/blkio.weight_device", for: .blkio)
            }
            if let weight = device.leafWeight {
                try write("\(device.major):\(device.minor) \(weight)", to: leaf + "/blkio.leaf_weight_device", for: .blkio)
            }
        }
        for (file, throttles) in [("read_bps_device", blockIO.throttleReadBpsDevice), ("write_bps_device", blockIO.throttleWriteBpsDevice),
                                  ("read_iops_device", blockIO.throttleReadIOPSDevice),
                                  ("write_iops_device", blockIO.throttleWriteIOPSDevice)] {
            for throttle in throttles ?? [] {
                try write("\(throttle.major):\(throttle.minor) \(throttle.rate)", to: leaf + "/blkio.throttle." + file, for: .blkio)
            }
        }
    }
}

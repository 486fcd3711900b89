/// The driver for `mode`, rooted at `root`. `optionalControllers`: berth-oci's, whose containers
/// may have cgroups in the hierarchies only an OCI spec's limits use (`CgroupV1Driver`).
public func makeCgroupDriver(mode: CgroupMode, root: String = CgroupModeDetector.defaultRoot,
                             optionalControllers: Bool = false) -> any CgroupDriver {
    switch mode {
    case .unified: CgroupV2Driver(root: root)
    case .legacy: CgroupV1Driver(root: root, optionalControllers: optionalControllers)
    }
}

/// The driver for the host: detects the mode of `root` (one statfs) and builds its driver.
public func makeCgroupDriver(root: String = CgroupModeDetector.defaultRoot, optionalControllers: Bool = false) -> any CgroupDriver {
    makeCgroupDriver(mode: CgroupModeDetector.detect(root: root), root: root, optionalControllers: optionalControllers)
}

/// The driver for `mode`, rooted at `root`.
public func makeCgroupDriver(mode: CgroupMode, root: String = CgroupModeDetector.defaultRoot) -> any CgroupDriver {
    switch mode {
    case .unified: CgroupV2Driver(root: root)
    case .legacy: CgroupV1Driver(root: root)
    }
}

/// The driver for the host: detects the mode of `root` (one statfs) and builds its driver.
public func makeCgroupDriver(root: String = CgroupModeDetector.defaultRoot) -> any CgroupDriver {
    makeCgroupDriver(mode: CgroupModeDetector.detect(root: root), root: root)
}

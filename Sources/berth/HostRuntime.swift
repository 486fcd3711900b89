import Logging
import Runtime

/// What every container-running command needs from the host: the cgroup driver for the
/// detected mode, the runtime directory, and a launcher. Making one also removes what crashed
/// berth processes left behind.
struct HostRuntime {
    let cgroups: any CgroupDriver
    let runDirectory: RuntimeDirectory
    let launcher: Launcher
    let logger: Logger

    init(global: GlobalOptions, cgroupParent: String, logger: Logger) throws {
        cgroups = makeCgroupDriver()
        runDirectory = RuntimeDirectory(path: global.runRoot)
        launcher = Launcher(cgroups: cgroups, cgroupParent: cgroupParent,
                            seccompCache: global.runRoot + "/seccomp", logger: logger)
        self.logger = logger
        runDirectory.removeLeftovers(cgroups: cgroups, logger: logger)
    }
}

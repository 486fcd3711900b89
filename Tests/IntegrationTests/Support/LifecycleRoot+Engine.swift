import Containers
import Foundation
import Logging

extension LifecycleRoot {
    /// An engine on this root's state (the same one `berth --root` sees), running the built
    /// berth and berth-monitor.
    func engine() throws -> ContainerEngine {
        let directory = URL(fileURLWithPath: fixture.berth).deletingLastPathComponent().path
        return try ContainerEngine(
            stateRoot: path, runRoot: path + "/run", forwardedArguments: ["--root", path],
            programs: MonitorPrograms(berth: fixture.berth, monitor: directory + "/berth-monitor"),
            logger: Logger(label: "engine-test"))
    }
}

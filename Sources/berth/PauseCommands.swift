import CommandLineParsing
import Containers

/// `berth pause`: every process of the containers frozen (the cgroup freezer).
struct PauseContainers: ContainerNamesCommand {
    static let spec = CommandSpec(name: "pause", abstract: "Pause all processes of running containers.",
                                  usage: "CONTAINER [CONTAINER...]")

    let global: GlobalOptions
    let names: [String]

    static func act(on record: ContainerRecord, _ engine: ContainerEngine) throws { try engine.pause(record) }
}

/// `berth unpause`: the paused containers' processes run again.
struct UnpauseContainers: ContainerNamesCommand {
    static let spec = CommandSpec(name: "unpause", abstract: "Unpause all processes of paused containers.",
                                  usage: "CONTAINER [CONTAINER...]")

    let global: GlobalOptions
    let names: [String]

    static func act(on record: ContainerRecord, _ engine: ContainerEngine) throws { try engine.unpause(record) }
}

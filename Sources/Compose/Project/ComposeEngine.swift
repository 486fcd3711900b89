import BerthErrors
import Containers

/// A Compose project carried out on berth's engine: its networks, volumes and each service's
/// instances, found again by their labels. Everything goes through `ContainerEngine`'s API.
public struct ComposeEngine: Sendable {
    public let project: ComposeProject
    public let engine: ContainerEngine

    public init(project: ComposeProject, engine: ContainerEngine) {
        self.project = project
        self.engine = engine
    }

    /// One container of the project, as its labels say.
    public struct Instance: Sendable {
        public var record: ContainerRecord
        public var service: String
        public var number: Int
        public var configHash: String
    }

    /// The project's containers (any service, also one no longer in the file), by service in
    /// start order, then by number.
    public func instances(of services: [String] = []) -> [Instance] {
        let order = (try? ComposeModel.startOrder(project.model.services).map(\.name)) ?? []
        let found = engine.list().compactMap { record -> Instance? in
            let labels = record.config.labels
            guard labels[ComposeLabels.project] == project.name, let service = labels[ComposeLabels.service] else { return nil }
            if !services.isEmpty, !services.contains(service) { return nil }
            return Instance(record: record, service: service, number: Int(labels[ComposeLabels.containerNumber] ?? "") ?? 0,
                            configHash: labels[ComposeLabels.configHash] ?? "")
        }
        return found.sorted {
            let a = order.firstIndex(of: $0.service) ?? order.count, b = order.firstIndex(of: $1.service) ?? order.count
            return a != b ? a < b : ($0.service != $1.service ? $0.service < $1.service : $0.number < $1.number)
        }
    }

    /// `services` (every one when empty) with what they depend on, in start order; an unknown
    /// name is an error.
    public func selected(_ services: [String]) throws(BerthError) -> [ServiceDefinition] {
        for name in services where project.model.service(name) == nil {
            throw BerthError(.notFound, "no such service: \(name) (the file's services: "
                             + project.model.services.map(\.name).joined(separator: ", ") + ")")
        }
        var wanted = Set(services.isEmpty ? project.model.services.map(\.name) : services)
        // Dependencies of dependencies: at most one pass per service adds anything.
        for _ in 0...project.model.services.count {
            let more = project.model.services.filter { wanted.contains($0.name) }.flatMap { $0.dependsOn.map(\.service) }
            if more.allSatisfy(wanted.contains) { break }
            wanted.formUnion(more)
        }
        return try ComposeModel.startOrder(project.model.services).filter { wanted.contains($0.name) }
    }
}

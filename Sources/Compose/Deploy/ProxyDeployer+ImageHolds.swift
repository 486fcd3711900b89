import Containers

/// The images a service's record names kept in the store: the version it runs and the one its
/// rollback goes back to, which no container may use any more once a deploy is over. Without
/// the hold, `image prune -a` or `rmi` would leave the rollback nothing to start.
extension ProxyDeployer {
    /// The hold's name in the image store: one per service of the project.
    func imageHolder(_ service: String) -> String { "compose-\(directory.project)-\(service)" }

    /// Holds the images of `record`'s versions in place of what the service held before.
    func holdImages(of record: ServiceRecord) throws {
        let versions = [record.service, record.previous] + record.slots.map(\.version) + record.slots.map(\.standby?.version)
        var images: [String] = []
        for case let version? in versions where !images.contains(version.imageToRun) { images.append(version.imageToRun) }
        try engine.images().hold(images, for: imageHolder(record.service.name),
                                 reason: "a rollback of service \(record.service.name) of compose project \(directory.project) "
                                     + "(compose down releases it)")
    }

    /// Lets the service's images go: it is down, so nothing rolls back to them.
    func releaseImages(of service: String) {
        (try? engine.images())?.releaseHold(imageHolder(service))
    }
}

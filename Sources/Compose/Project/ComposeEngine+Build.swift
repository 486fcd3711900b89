import BerthErrors
import Build
import FileSystem
import ImageStore

/// Services' `build:` sections carried out through the Build module's API: `compose build`,
/// and the images `up` and `deploy --build` need first.
extension ComposeEngine {
    /// When `up` builds a service's image: when it is missing (Docker Compose's default),
    /// always (`--build`), or never (`--no-build`: a missing image is then `up`'s error).
    public enum BuildPolicy: Sendable {
        case whenMissing, always, never
    }

    /// What `compose build`'s flags change for every service built.
    public struct BuildOptions: Sendable {
        public var noCache = false
        /// `--build-arg`s, over each service's `args`.
        public var buildArgs: [String: String] = [:]

        public init(noCache: Bool = false, buildArgs: [String: String] = [:]) {
            self.noCache = noCache
            self.buildArgs = buildArgs
        }
    }

    /// The services among `services` (every one when empty) that have a `build:` section and
    /// need building under `policy`, in the file's order; an unknown name is an error.
    public func servicesToBuild(_ services: [String], policy: BuildPolicy) throws -> [ServiceDefinition] {
        for name in services where project.model.service(name) == nil {
            throw BerthError(.notFound, "no such service: \(name) (the file's services: "
                             + project.model.services.map(\.name).joined(separator: ", ") + ")")
        }
        let images = try engine.images()
        return project.model.services.filter { service in
            guard service.build != nil, services.isEmpty || services.contains(service.name) else { return false }
            switch policy {
            case .always: return true
            case .never: return false
            case .whenMissing: return (try? images.resolve(service.image)) == nil
            }
        }
    }

    /// Builds `service`'s image from its `build:` section and tags it with the service's image
    /// (and the section's `tags`). The build's lines go to `progress`, Docker's classic ones,
    /// ending with `Successfully built ID` and `Successfully tagged NAME`.
    public func build(_ service: ServiceDefinition, options: BuildOptions = BuildOptions(),
                      progress: BuildProgress) throws -> BuildResult {
        guard let section = service.build else {
            throw BerthError(.invalidArgument, "service \(service.name) has no build: section: give it one, or run its image")
        }
        do {
            var request = BuildRequest(dockerfile: try dockerfile(of: section), context: section.context)
            request.dockerfilePath = section.dockerfileInline == nil ? section.dockerfile ?? BuildRequest.defaultDockerfile(in: section.context) : nil
            request.buildArgs = section.args.merging(options.buildArgs) { $1 }
            request.target = section.target
            request.tags = try ([service.image] + section.tags).map(ImageReference.parse)
            request.labels = section.labels
            request.noCache = section.noCache || options.noCache
            if let network = section.network { request.network = network }
            if let parent = service.cgroupParent { request.cgroupParent = parent }
            progress.line("Building \(service.name)")
            var builder = try Builder(engine: engine, request: request, progress: progress)
            let result = try builder.build()
            progress.line("Successfully built \(result.image.id.short)")
            for tag in request.tags { progress.line("Successfully tagged \(tag)") }
            return result
        } catch let error as BerthError {
            throw error.context("service \(service.name)")
        }
    }

    /// The section's Dockerfile, parsed: `dockerfile_inline`, else the file it names, else the
    /// context's own.
    private func dockerfile(of section: ServiceBuild) throws -> Dockerfile {
        if let inline = section.dockerfileInline { return try Dockerfile.parse(inline, file: "dockerfile_inline") }
        let path = section.dockerfile ?? BuildRequest.defaultDockerfile(in: section.context)
        guard let bytes = try? FileIO.readFile(path) else {
            throw BerthError(.notFound, "cannot read the Dockerfile \(path): put one in the build context \(section.context) "
                             + "or name it with build.dockerfile")
        }
        return try Dockerfile.parse(String(decoding: bytes, as: UTF8.self), file: String(path.split(separator: "/").last ?? "Dockerfile"))
    }
}

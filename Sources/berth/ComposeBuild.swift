import Build
import CommandLineParsing
import Compose
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `berth compose build [SERVICE...]`: the images of the services with a `build:` section.
struct ComposeBuild: ComposeCommand {
    static let spec = CommandSpec(
        name: "build", abstract: "Build the images of the services that have a build: section.",
        discussion: """
            Each service's image is built from its build: section (its context, dockerfile or dockerfile_inline, \
            args, target, labels) and tagged with the service's image: name, or PROJECT-SERVICE without one. \
            The layer cache makes an unchanged rebuild instant.
            """,
        usage: "[OPTIONS] [SERVICE...]",
        options: [
            .flag("no-cache", help: "Build every step again, without the cache."),
            .repeatable("build-arg", valueName: "name=value", help: "Set a build-time variable, over the file's args."),
            .flag("quiet", short: "q", help: "Print nothing but errors."),
        ])

    static var supervisesProcess: Bool { true }

    let global: GlobalOptions
    let compose: ComposeOptions
    let services: [String]
    let options: ComposeEngine.BuildOptions
    let quiet: Bool

    init(global: GlobalOptions, compose: ComposeOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        self.compose = compose
        services = parsed.positionals
        options = ComposeEngine.BuildOptions(
            noCache: parsed.flag("no-cache"),
            buildArgs: try BuildImage.pairs(parsed.strings("build-arg"), flag: "--build-arg", environmentFallback: true))
        quiet = parsed.flag("quiet")
    }

    /// A failed build is no bad input: `berth build`'s 1.
    static var failureCode: Int32 { 1 }

    func run() throws -> Int32 {
        let compose = try composeEngine(global, compose)
        let chosen = try compose.servicesToBuild(services, policy: .always)
        if chosen.isEmpty, !quiet { Output.error("no service of the project has a build: section to build") }
        try ComposeBuilds.run(chosen, of: compose, options: options, quiet: quiet, signalsBlocked: true)
        return 0
    }
}

/// The builds compose's commands make, their output on stderr as `berth build` writes it (the
/// live view on a terminal).
enum ComposeBuilds {
    /// Builds `services` one after the other. RUN steps are supervised containers, which need
    /// berth's signals blocked: a command that does not block them for its whole life
    /// (`signalsBlocked` false) has them blocked for the builds only.
    static func run(_ services: [ServiceDefinition], of compose: ComposeEngine, options: ComposeEngine.BuildOptions = .init(),
                    quiet: Bool = false, signalsBlocked: Bool = false) throws {
        guard !services.isEmpty else { return }
        if !signalsBlocked { ContainerSupervisor.blockSignals() }
        // `berth build`'s default: the live view on a terminal, Docker's classic lines elsewhere.
        let output = BuildOutput(quiet: quiet, live: isatty(STDERR_FILENO) == 1)
        try output.run { progress in
            for service in services {
                _ = try compose.build(service, options: options, progress: progress)
            }
        }
        // Only after builds that all worked: an interrupted one has already said so, and berth ends.
        if !signalsBlocked { ContainerSupervisor.unblockSignals() }
    }
}

import Build
import CommandLineParsing
import FileSystem
import ImageStore
import JSON
#if canImport(Glibc)
import Glibc
#endif

/// `berth build`: an image from a Dockerfile and a context directory (issue 16).
struct BuildImage: BerthCommand {
    static let spec = CommandSpec(
        name: "build", abstract: "Build an image from a Dockerfile.",
        discussion: """
            Reads CONTEXT/Dockerfile (or Containerfile, or -f FILE) and builds it in place: the \
            context is read where it is, filtered by its .dockerignore. RUN steps run in \
            containers on the default bridge (so apt-get install works), or --network none|host. Each step is cached: \
            a rebuild with nothing changed makes no container and no layer. With - as the \
            context the Dockerfile is read from stdin and there is no context.
            """,
        usage: "[OPTIONS] CONTEXT|-",
        options: [
            .repeatable("tag", short: "t", valueName: "name", help: "Name and tag the image (NAME[:TAG]); may be repeated."),
            .value("file", short: "f", valueName: "path", help: "The Dockerfile (default CONTEXT/Dockerfile; - for stdin)."),
            .repeatable("build-arg", valueName: "name=value", help: "Set a build-time variable an ARG declares."),
            .value("target", valueName: "stage", help: "Build up to this stage."),
            .repeatable("label", valueName: "name=value", help: "Set a label on the image."),
            .flag("no-cache", help: "Build every step again, without the cache."),
            .flag("quiet", short: "q", help: "Print only the image id."),
            .value("iidfile", valueName: "path", help: "Write the image id to this file."),
            .value("progress", valueName: "type",
                   help: "auto (a live view on a terminal, plain lines otherwise), plain, tty (the live view) or quiet (as -q)."),
            .value("network", valueName: "mode", help: "The network of RUN steps: bridge (the default), none or host."),
            .value("cgroup-parent", valueName: "path", help: "The cgroup parent of RUN steps' containers."),
            .flag("check", help: "Parse and check the Dockerfile only, without building."),
            .value("print", valueName: "what", help: "instructions: print the parsed instructions instead of building."),
            .value("format", valueName: "format", help: "With --print: json."),
        ])

    static var supervisesProcess: Bool { true }

    let global: GlobalOptions
    let context: String
    let file: String?
    let tags: [String]
    let buildArgs: [String: String]
    let target: String?
    let labels: [String: String]
    let noCache: Bool
    let quiet: Bool
    let iidfile: String?
    let network: String
    let cgroupParent: String?
    let check: Bool
    let printInstructions: Bool
    /// `--progress`: auto, plain or tty (quiet is `quiet`).
    let progressMode: String

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard parsed.positionals.count == 1 else {
            throw UsageError("build takes one context: berth build [OPTIONS] CONTEXT|- (see berth build --help)")
        }
        context = parsed.positionals[0]
        file = parsed.string("file")
        tags = parsed.strings("tag")
        buildArgs = try Self.pairs(parsed.strings("build-arg"), flag: "--build-arg", environmentFallback: true)
        target = parsed.string("target")
        labels = try Self.pairs(parsed.strings("label"), flag: "--label", environmentFallback: false)
        noCache = parsed.flag("no-cache")
        progressMode = parsed.string("progress") ?? "auto"
        quiet = parsed.flag("quiet") || progressMode == "quiet"
        iidfile = parsed.string("iidfile")
        network = parsed.string("network") ?? "bridge"
        check = parsed.flag("check")
        cgroupParent = parsed.string("cgroup-parent")
        if !["plain", "auto", "tty", "quiet"].contains(progressMode) {
            throw UsageError("--progress=\(progressMode) is not a progress type: use auto, plain, tty or quiet")
        }
        switch parsed.string("print") {
        case nil: printInstructions = false
        case "instructions"?: printInstructions = true
        case let other?: throw UsageError("--print=\(other) is not known: berth prints instructions (--print=instructions --format json)")
        }
        if let format = parsed.string("format"), format != "json" {
            throw UsageError("--format=\(format): --print writes json only")
        }
        if !["none", "bridge", "host", "default"].contains(network) {
            throw UsageError("--network=\(network): RUN steps take none, bridge or host")
        }
    }

    /// `K=V` flags; a `--build-arg K` alone takes K from berth's environment, as Docker's does.
    static func pairs(_ entries: [String], flag: String, environmentFallback: Bool) throws(UsageError) -> [String: String] {
        var result: [String: String] = [:]
        for entry in entries {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard !parts[0].isEmpty else { throw UsageError("\(flag) \(entry) names nothing: give NAME=value") }
            if parts.count == 2 {
                result[parts[0]] = parts[1]
            } else if environmentFallback {
                if let value = getenv(parts[0]) { result[parts[0]] = String(cString: value) }
            } else {
                result[parts[0]] = ""
            }
        }
        return result
    }

    func run() throws -> Int32 {
        let (text, name, contextDirectory, path) = try readDockerfile()
        let dockerfile = try Dockerfile.parse(text, file: name)
        let plan = try StagePlan(dockerfile, buildArgs: buildArgs)
        _ = try plan.target(target)
        if printInstructions {
            Output.print(String(decoding: JSON.serialize(DockerfilePrint.json(dockerfile, plan: plan)), as: UTF8.self))
            return 0
        }
        if check {
            let warnings = DockerfileCheck.warnings(dockerfile)
            for warning in warnings { Output.writeLine(STDERR_FILENO, warning) }
            Output.writeLine(STDERR_FILENO, warnings.isEmpty ? "Check complete, no warnings found."
                                                             : "Check complete, \(warnings.count) warning\(warnings.count == 1 ? "" : "s") found.")
            return warnings.isEmpty ? 0 : 1
        }
        let references = try tags.map(ImageReference.parse)
        var request = BuildRequest(dockerfile: dockerfile, context: contextDirectory)
        request.dockerfilePath = path
        request.buildArgs = buildArgs
        request.target = target
        request.tags = references
        request.labels = labels
        request.noCache = noCache
        request.network = network == "default" ? "bridge" : network
        if let cgroupParent { request.cgroupParent = cgroupParent }
        let engine = try global.engine()
        engine.removeLeftovers()
        let quiet = quiet
        let output = BuildOutput(quiet: quiet,
                                 live: progressMode == "tty" || (progressMode == "auto" && isatty(STDERR_FILENO) == 1))
        var builder = try Builder(engine: engine, request: request, progress: output.progress)
        let result = try output.run { _ in try builder.build() }
        if let iidfile {
            do {
                try AtomicFile.replace(iidfile, with: Array(result.image.id.description.utf8), durable: false)
            } catch {
                throw BerthError(.systemError, "the image was built but --iidfile \(iidfile) cannot be written: \(error)")
            }
        }
        if quiet {
            Output.print(result.image.id.description)
            return 0
        }
        Output.print("Successfully built \(result.image.id.short)")
        for reference in references { Output.print("Successfully tagged \(reference)") }
        return 0
    }

    /// The Dockerfile's text, its name in messages, the context directory (nil for `-`), and
    /// the Dockerfile's path (nil from stdin).
    func readDockerfile() throws -> (String, String, String?, String?) {
        if context == "-" {
            return (try Self.readAll(STDIN_FILENO, "stdin"), "Dockerfile", nil, nil)
        }
        var st = stat()
        guard stat(context, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw BerthError(.invalidArgument, "the build context \(context) is not a directory")
        }
        let directory = context.hasPrefix("/") ? context : Self.currentDirectory() + "/" + context
        if file == "-" { return (try Self.readAll(STDIN_FILENO, "stdin"), "Dockerfile", directory, nil) }
        let path = file ?? BuildRequest.defaultDockerfile(in: directory)
        guard let bytes = try? FileIO.readFile(path) else {
            throw BerthError(.notFound, "cannot read the Dockerfile \(path): give one with -f or put a Dockerfile in the context")
        }
        let name = file ?? String(path.split(separator: "/").last ?? "Dockerfile")
        return (String(decoding: bytes, as: UTF8.self), name, directory, path)
    }

    static func readAll(_ fd: Int32, _ what: String) throws -> String {
        do {
            return String(decoding: try FileIO.readAll(fd, path: what), as: UTF8.self)
        } catch {
            throw BerthError(.systemError, "cannot read the Dockerfile from \(what): \(error)")
        }
    }

    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// `berth builder prune`: the build cache's images that no tag and no container uses, and what
/// only they reached. The next build builds those steps again.
struct PruneBuildCache: BerthCommand {
    static let spec = CommandSpec(
        name: "prune", abstract: "Remove the build cache.",
        options: [
            .flag("all", short: "a", help: "Accepted for Docker's sake: berth's build cache is all of one kind."),
            .flag("force", short: "f", help: "Accepted for Docker's sake: berth does not ask for confirmation."),
        ])

    let global: GlobalOptions

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        if let extra = parsed.positionals.first { throw UsageError("builder prune takes no arguments (got \"\(extra)\")") }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        let report = try engine.images().prune(all: false, buildCache: .only, inUse: engine.manifestsInUse)
        Output.print("Deleted build cache objects: \(report.buildCacheImages)")
        Output.print("Total reclaimed space: \(humanSize(report.freedBytes))")
        return 0
    }
}

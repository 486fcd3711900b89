import Containers
import FileSystem
import ImageStore
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Builds an image from a Dockerfile: each stage from its base (an image of the store, an
/// earlier stage, or `scratch`), each instruction one image in the store (a new layer for RUN,
/// COPY, ADD and a WORKDIR that makes its directory; the config alone for the others), looked
/// up in the build cache first. RUN steps are containers of the engine, their upper directory
/// stored as the layer (the commit path); the container goes once its layer is stored, whether
/// the step worked or not. Only the final image is tagged.
public struct Builder {
    public let engine: ContainerEngine
    public let images: ImageStore
    public let cache: BuildCache
    public internal(set) var progress: BuildProgress
    /// The stage's name in front of each line of its RUN output (`[one 2/8] `), while other
    /// stages are built beside it; nil when it is built alone.
    var outputLabel: String?
    /// Shared by the stages built beside it: the first to fail stops the others.
    var cancellation: StageCancellation?
    var stepNumber = 0
    /// Every step of the stages built, their FROMs included (Docker's `Step N/M`).
    var stepCount = 0
    var stepsCached = 0
    let request: BuildRequest
    /// The finished stages, by index: what `COPY --from` and `FROM stage` read.
    var finished: [Int: StageState] = [:]
    var usedBuildArgs = Set<String>()
    /// The meta args' values (ARGs before the first FROM), for an `ARG NAME` in a stage.
    var metaArgs: [String: String] = [:]
    /// The stages, for `COPY --from` and `FROM stage`.
    var stagePlan: StagePlan?

    public init(engine: ContainerEngine, request: BuildRequest, progress: BuildProgress) throws {
        self.engine = engine
        self.images = try engine.images()
        self.cache = BuildCache(stateRoot: engine.stateRoot, images: images)
        self.progress = progress
        self.request = request
    }

    /// Runs the build; the result is tagged with the request's tags (untagged without one).
    public mutating func build() throws -> BuildResult {
        let plan = try StagePlan(request.dockerfile, buildArgs: request.buildArgs)
        Self.removeAbandonedSteps(engine)
        stagePlan = plan
        metaArgs = plan.metaArgs
        let target = try plan.target(request.target)
        let stages = plan.stagesNeeded(for: target)
        usedBuildArgs = Set(plan.metaArgs.keys)
        stepCount = stages.reduce(request.labels.isEmpty ? 0 : 1) { $0 + 1 + $1.instructions.count }
        // Each stage's steps are numbered as if the stages ran one after another.
        var firstSteps: [Int: Int] = [:]
        var steps = 0
        for stage in stages {
            firstSteps[stage.index] = steps
            steps += 1 + stage.instructions.count
        }
        for wave in Self.waves(stages, in: plan) {
            try buildWave(wave, plan: plan, firstSteps: firstSteps)
        }
        guard let lastStage = stages.last, var state = finished[lastStage.index] else {
            throw BuildError(.invalidArgument, "nothing to build")
        }
        if !request.labels.isEmpty {
            let text = request.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quoted($0.value))" }.joined(separator: " ")
            let label = Instruction(name: "LABEL", text: text, line: 0, original: "LABEL " + text)
            try step(label, state: &state)
        }
        let unused = request.buildArgs.keys.filter { !usedBuildArgs.contains($0) && !Self.predefinedArgs.contains($0) }.sorted()
        if !unused.isEmpty {
            progress.line("[Warning] One or more build-args [\(unused.joined(separator: " "))] were not consumed")
        }
        // A stage that is its base unchanged (FROM x alone) is stored as a step of its own, so
        // its tag names an image of this build.
        let manifest = try state.manifest ?? storeStep(&state, createdBy: "FROM scratch", layer: nil, key: nil)
        // A tag that already names the result is not written again: an unchanged rebuild writes
        // nothing at all.
        for tag in request.tags where (try? images.layout.resolve(tag))?.digest != manifest.description {
            try images.tag(manifest.hex, as: tag)
        }
        // Untagged, the result is still an image of its own (listed by `images -a`), as Docker's.
        if request.tags.isEmpty { try images.keepAsImage(manifest) }
        let id = try images.configuration(ofManifest: manifest).id
        return BuildResult(image: .init(manifest: manifest, id: id), steps: stepNumber, cachedSteps: stepsCached)
    }

    /// Docker's predefined proxy args: usable without an ARG line, never in the history.
    static let predefinedArgs: Set<String> = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                                              "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"]

    static func quoted(_ value: String) -> String {
        value.contains(where: { $0 == " " || $0 == "\"" || $0 == "\t" })
            ? "\"" + value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\"" : value
    }

    // MARK: stages

    mutating func base(of stage: StagePlan.Stage, plan: StagePlan) throws -> StageState {
        stepNumber += 1
        progress.line("Step \(stepNumber)/\(stepCount) : \(stage.from.original)")
        if let platform = stage.platform, !["linux/amd64", "linux/x86_64", "linux/amd64/v1"].contains(platform.lowercased()) {
            throw BuildError(.unsupported, "\(request.dockerfile.file):\(stage.from.line): FROM --platform=\(platform): berth builds "
                             + "for this machine only (linux/amd64); drop --platform or use linux/amd64")
        }
        var state: StageState
        if stage.base.lowercased() == "scratch" {
            state = .scratch()
        } else if let earlier = plan.stage(named: stage.base), earlier.index < stage.index, let result = finished[earlier.index] {
            state = result
            state.args = []
            state.cmdSet = false
        } else {
            do {
                let resolved = try images.resolve(stage.base)
                state = StageState(manifest: resolved.manifestDigest, config: resolved.config)
            } catch let error as BuildError {
                throw BuildError(error.code, "\(request.dockerfile.file):\(stage.from.line): FROM \(stage.base): \(error.message)")
            }
        }
        // Meta args are visible in the stage only once declared again without a value; the
        // predefined proxy args always are.
        for name in Self.predefinedArgs { if let value = request.buildArgs[name] { state.args.append((name, value)) } }
        let triggers = state.execution.onBuild ?? []
        if !triggers.isEmpty {
            state.execution.onBuild = nil
            progress.line("# Executing \(triggers.count) build trigger\(triggers.count == 1 ? "" : "s")")
            for trigger in triggers {
                let parsed = try Dockerfile.parse(trigger, file: "\(stage.base) (ONBUILD)")
                for instruction in parsed.instructions {
                    try carryOutReported(instruction, state: &state)
                }
            }
        }
        reportImage(of: state)
        return state
    }

    // MARK: steps

    /// One instruction: reported as Docker's builder does (`Step 3/9 : RUN make`, then ` --->
    /// Using cache` for a hit, and ` ---> ID`, the step's image), looked up in the cache, carried out.
    mutating func step(_ instruction: Instruction, state: inout StageState) throws {
        try Self.stopIfInterrupted()
        try cancellation?.stopIfCancelled()
        stepNumber += 1
        progress.line("Step \(stepNumber)/\(stepCount) : \(instruction.original)")
        try carryOutReported(instruction, state: &state)
        reportImage(of: state)
    }

    private mutating func carryOutReported(_ instruction: Instruction, state: inout StageState) throws {
        let before = stepsCached
        do {
            try carryOut(instruction, state: &state)
        } catch let error as BuildError {
            throw located(error, request.dockerfile.file, instruction)
        }
        if stepsCached > before { progress.line(" ---> Using cache") }
    }

    /// ` ---> ID`: the short id of the image a step left (nothing yet after `FROM scratch`).
    func reportImage(of state: StageState) {
        guard let manifest = state.manifest, let id = try? images.configuration(ofManifest: manifest).id else { return }
        progress.line(" ---> \(id.short)")
    }

    /// Flags Docker's reference has that berth parses but does not carry out yet: refused, never
    /// ignored (an ignored `--exclude` would copy what it excludes).
    static let unsupportedFlags: [String: Set<String>] = [
        "RUN": ["mount", "security"], "COPY": ["parents", "exclude"], "ADD": ["keep-git-dir", "exclude"],
        "HEALTHCHECK": ["start-interval"],
    ]

    mutating func carryOut(_ instruction: Instruction, state: inout StageState) throws {
        if let flag = instruction.flags.first(where: { Self.unsupportedFlags[instruction.name]?.contains($0.name) == true }) {
            throw BuildError(.unsupported, "--\(flag.name) is not supported by berth yet: build without it")
        }
        switch instruction.name {
        case "RUN": try run(instruction, state: &state)
        case "COPY", "ADD": try copy(instruction, state: &state)
        case "ARG": try declareArgs(instruction, state: &state)
        case "WORKDIR": try workdir(instruction, state: &state)
        case "ONBUILD":
            let inner = try Dockerfile.parse(instruction.text, file: request.dockerfile.file)
            guard let first = inner.instructions.first, !["ONBUILD", "FROM", "MAINTAINER"].contains(first.name) else {
                throw BuildError(.invalidArgument, "\(inner.instructions.first?.name ?? "it") isn't allowed as an ONBUILD trigger")
            }
            try metadata("ONBUILD " + instruction.text, state: &state) { state in
                state.execution.onBuild = (state.execution.onBuild ?? []) + [instruction.text]
            }
        default: try configInstruction(instruction, state: &state)
        }
    }

    /// A step that changes the config only, `change` making the change; cached like the rest.
    mutating func metadata(_ createdBy: String, state: inout StageState,
                           change: (inout StageState) throws -> Void) throws {
        let key = BuildCache.key(parent: state.manifest, [createdBy])
        if try useCache(key, state: &state) { return }
        try change(&state)
        _ = try storeStep(&state, createdBy: createdBy, layer: nil, key: key)
    }

    /// Takes the cached image for `key` when there is one (and the build may use the cache).
    mutating func useCache(_ key: Digest, state: inout StageState) throws -> Bool {
        guard !request.noCache, let manifest = cache.lookup(key) else { return false }
        let (_, config) = try images.configuration(ofManifest: manifest)
        state.manifest = manifest
        state.config = config
        stepsCached += 1
        return true
    }

    /// Stores the stage's config (and `layer`, a directory in overlay's form) as the step's
    /// image and remembers it under `key`.
    @discardableResult
    mutating func storeStep(_ state: inout StageState, createdBy: String, layer: String?, key: Digest?) throws -> Digest {
        let now = Timestamp.now()
        state.config.created = now
        let stored = try images.storeBuildStep(parent: state.manifest, layerDirectory: layer, config: state.config,
                                               history: OCIImage.History(created: now, createdBy: createdBy))
        state.manifest = stored.manifest
        state.config = try images.configuration(ofManifest: stored.manifest).config
        if let key { cache.record(key, manifest: stored.manifest) }
        return stored.manifest
    }

    /// berth blocks the signals a RUN's container is sent (its supervisor takes them through a
    /// signalfd), so a Ctrl-C between RUN steps stays pending: it ends the build here, before
    /// the next step. One a supervisor took (a RUN of another stage built at once was running)
    /// is remembered by `SupervisedContainers`: it ends this stage too.
    static func stopIfInterrupted() throws {
        var pending = sigset_t()
        sigemptyset(&pending)
        var signals: Set<Int32> = sigpending(&pending) == 0
            ? SupervisedContainers.stopSignals.filter { sigismember(&pending, $0) == 1 } : []
        if let taken = SupervisedContainers.stopSignal { signals.insert(taken) }
        if let signal = signals.min() {
            throw BuildError(.interrupted, "the build was interrupted (\(SignalName.name(signal))) before its next step; "
                             + "nothing of that step was made")
        }
    }
}

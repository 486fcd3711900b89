import Containers
import ImageStore
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// RUN: the command in a container of the step's image, with the stage's env, ARGs, workdir,
/// user and shell, on the build's network (the default bridge unless asked); its upper directory becomes
/// the step's layer. The container is removed at the end of the step, also when it failed.
extension Builder {
    mutating func run(_ instruction: Instruction, state: inout StageState) throws {
        let command = Self.runCommand(instruction, shell: state.shell)
        let arguments = state.runArguments.filter { !Self.predefinedArgs.contains(String($0.prefix { $0 != "=" })) }
        // Docker's form: the ARGs a RUN sees are part of what it is, so a changed one misses.
        let prefix = arguments.isEmpty ? "" : "|\(arguments.count) " + arguments.joined(separator: " ") + " "
        let network = instruction.flag("network").map { $0 == "default" ? "bridge" : $0 } ?? request.network
        let createdBy = "RUN " + prefix + command.joined(separator: " ")
        let key = BuildCache.key(parent: state.manifest, [createdBy, "network=" + network])
        if try useCache(key, state: &state) { return }
        guard let manifest = state.manifest else {
            throw BuildError(.invalidArgument, "has nothing to run: FROM scratch has no files until a COPY or ADD adds them")
        }
        var containerRequest = ContainerRequest(root: .image(manifest.hex), network: network)
        containerRequest.command = command
        containerRequest.entrypoint = ""
        containerRequest.env = state.runArguments
        containerRequest.cgroupParent = request.cgroupParent
        // A tiny init as pid 1: it reaps what the step's command leaves behind.
        containerRequest.useInit = true
        containerRequest.labels = [Self.builderLabel: String(getpid())]
        // Never made durable: the container lives for one step, and one a crash leaves behind is
        // removed by the next build (`removeAbandonedSteps`) or `tidy`.
        let created = try engine.create(containerRequest, sync: .deferred)
        progress.line(" ---> Running in \(created.record.shortID)")
        defer {
            try? engine.remove(created.record, force: true)
            // The image's VOLUMEs were mounted as anonymous volumes: what the step wrote there is
            // not part of its layer (Docker's rule) and the volumes go with the step.
            engine.removeAnonymousVolumes(of: created.record)
        }
        // Beside other stages, the output goes through a pipe of the step's own that labels its lines.
        let labeled = outputLabel.flatMap { LabeledOutput(label: "[\($0) \(stepNumber)/\(stepCount)] ", destination: progress.output) }
        defer { labeled?.finish() }
        // A Ctrl-C kills the step (every RUN running, `SupervisedContainers`): a shell waiting on
        // its command would take it only once that command has ended.
        // Another stage's failure kills it too (`StageCancellation`).
        let cancellation = self.cancellation
        var followed: Int?
        defer { cancellation?.release(followed) }
        let outcome = try engine.runForeground(created, interactive: false, output: labeled?.input ?? progress.output,
                                               killOnStop: true) { pidfd in followed = cancellation?.follow(pidfd) }
        labeled?.finish()
        if let signal = SupervisedContainers.stopSignal {
            throw BuildError(.interrupted, "was interrupted (\(SignalName.name(signal))): process \"\(command.joined(separator: " "))\" was killed")
        }
        try cancellation?.stopIfCancelled()
        guard outcome.exitCode == 0 else {
            throw BuildError(.invalidArgument, "failed: process \"\(command.joined(separator: " "))\" did not complete successfully: "
                             + "exit code \(outcome.exitCode)")
        }
        try storeStep(&state, createdBy: createdBy, layer: engine.store.upperDirectory(of: created.record.id), key: key)
        progress.line("Removing intermediate container \(created.record.shortID)")
    }

    /// The label that marks a RUN step's container with its builder's pid.
    static let builderLabel = "io.berth.build.pid"

    /// Removes the RUN containers of builds that were killed before their step's cleanup ran
    /// (their builder's pid is gone); those of running builds stay.
    static func removeAbandonedSteps(_ engine: ContainerEngine) {
        for record in engine.list() {
            guard let text = record.config.labels[builderLabel], let pid = Int32(text), pid != getpid(),
                  kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? engine.remove(record, force: true)
            engine.removeAnonymousVolumes(of: record)
        }
    }

    /// The command of a RUN: the exec form as it is; the shell form (and a lone heredoc, the
    /// script itself) run by the stage's shell; heredocs after a command are the shell's own.
    static func runCommand(_ instruction: Instruction, shell: [String]) -> [String] {
        if let json = instruction.json { return json }
        if let heredoc = instruction.heredocs.first, instruction.heredocs.count == 1,
           instruction.text.trimmingSpace().hasPrefix("<<"), !instruction.text.contains(" ") {
            return shell + [heredoc.body]
        }
        guard !instruction.heredocs.isEmpty else { return shell + [instruction.text] }
        let documents = instruction.heredocs.map { $0.body + $0.name }.joined(separator: "\n")
        return shell + [instruction.text + "\n" + documents]
    }
}

import BerthErrors
import CSpawn
import Runtime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Stages that do not depend on each other built at once (issue 16): the stages are cut into
/// waves, in Dockerfile order, of stages none of which reads another of its wave; the stages of
/// a wave each run on a thread of their own with a copy of the builder, and what they did is
/// merged back in Dockerfile order. Step numbers stay those of a build one stage after another.
/// Their RUN output is labelled line by line with the stage and step (`LabeledOutput`); a Ctrl-C
/// reaches every RUN running (`SupervisedContainers`) and ends every stage before its next step,
/// and so does the first failure of one of them (`StageCancellation`).
extension Builder {
    /// The earlier stages `stage` reads (its base, its COPY and ADD `--from`); nil when a
    /// `--from` holds a variable, which could name any of them.
    static func dependencies(of stage: StagePlan.Stage, in plan: StagePlan) -> Set<Int>? {
        var references = [stage.base]
        for instruction in stage.instructions where ["COPY", "ADD"].contains(instruction.name) {
            guard let from = instruction.flag("from") else { continue }
            if from.contains("$") { return nil }
            references.append(from)
        }
        return Set(references.compactMap { plan.stage(named: $0)?.index }.filter { $0 < stage.index })
    }

    /// `stages` in waves: a stage joins the current wave unless it reads one of its stages.
    static func waves(_ stages: [StagePlan.Stage], in plan: StagePlan) -> [[StagePlan.Stage]] {
        var waves: [[StagePlan.Stage]] = []
        var current: [StagePlan.Stage] = []
        for stage in stages {
            let reads = dependencies(of: stage, in: plan)
            if !current.isEmpty, current.contains(where: { reads?.contains($0.index) ?? true }) {
                waves.append(current)
                current = []
            }
            current.append(stage)
        }
        if !current.isEmpty { waves.append(current) }
        return waves
    }

    /// One stage: its base, then its instructions.
    mutating func buildStage(_ stage: StagePlan.Stage, plan: StagePlan) throws -> StageState {
        var state = try base(of: stage, plan: plan)
        for instruction in stage.instructions {
            try step(instruction, state: &state)
        }
        return state
    }

    /// Builds a wave's stages, each from `firstSteps[index]` on: on threads of their own when
    /// there are several. Every thread is waited for; the failure that stopped the others is
    /// thrown (the first in Dockerfile order when none did).
    mutating func buildWave(_ wave: [StagePlan.Stage], plan: StagePlan, firstSteps: [Int: Int]) throws {
        let cancellation = wave.count > 1 ? StageCancellation() : nil
        let runs = wave.map { stage in
            var copy = self
            copy.stepNumber = firstSteps[stage.index] ?? stepNumber
            copy.stepsCached = 0
            if wave.count > 1 {
                // Beside other stages: each line whole and said to be the stage's (`LabeledOutput`).
                copy.outputLabel = stage.name ?? "stage-\(stage.index)"
                copy.progress = progress.serialized()
                copy.cancellation = cancellation
            }
            return StageRun(builder: copy, stage: stage, plan: plan)
        }
        if runs.count == 1 {
            runs[0].run()
        } else {
            for run in runs { run.start() }
            for run in runs { run.join() }
        }
        if let cause = cancellation?.cause, case .failure(let error)? = runs.first(where: { $0.stage.index == cause })?.result {
            throw error
        }
        for run in runs {
            stepsCached += run.builder.stepsCached
            usedBuildArgs.formUnion(run.builder.usedBuildArgs)
            stepNumber = max(stepNumber, run.builder.stepNumber)
            switch run.result {
            case .success(let state)?: finished[run.stage.index] = state
            case .failure(let error)?: throw error
            case nil: throw BuildError(.systemError, "stage \(run.stage.name ?? String(run.stage.index)) was never built")
            }
        }
    }
}

/// One stage of a wave on a thread of its own: the builder's copy it uses, and what it made.
/// Only that thread touches it between `start` and `join`.
final class StageRun: @unchecked Sendable {
    var builder: Builder
    let stage: StagePlan.Stage
    let plan: StagePlan
    var result: Result<StageState, any Error>?
    private var thread: WorkerThread?

    init(builder: Builder, stage: StagePlan.Stage, plan: StagePlan) {
        self.builder = builder
        self.stage = stage
        self.plan = plan
    }

    func run() {
        result = Result { try builder.buildStage(stage, plan: plan) }
        if case .failure? = result { builder.cancellation?.cancel(for: stage.index) }
    }

    /// Runs the stage on a new thread (here, when no thread can be made).
    func start() {
        thread = WorkerThread.start { self.run() }
        if thread == nil { run() }
    }

    /// Waits for the stage; the thread (and its hold on this run) is let go.
    func join() {
        thread?.join()
        thread = nil
    }
}

/// The stages of a wave built at once: the first to fail stops the others, as BuildKit cancels a
/// build's other work, rather than the build reporting the failure only once their steps have
/// ended (a long RUN beside a quick failure). Their running RUN steps are killed, through a pidfd
/// of each, and none of them starts another step.
final class StageCancellation: Sendable {
    private struct State {
        /// The stage whose failure stopped the others.
        var cause: Int?
        /// Copies of the running RUN steps' pidfds, each with the token that releases it.
        var running: [(token: Int, pidfd: Int32)] = []
        var next = 0
    }

    private let state = Mutex(State())

    /// The stage whose failure stopped the wave; nil while none has failed.
    var cause: Int? { state.withLock { $0.cause } }

    /// Stops the wave for `stage`'s failure, unless another stage's came first.
    func cancel(for stage: Int) {
        state.withLock { state in
            guard state.cause == nil else { return }
            state.cause = stage
            for step in state.running { _ = berth_pidfd_send_signal(step.pidfd, SIGKILL) }
        }
    }

    /// Follows a RUN step's process (`pidfd`, valid during the call only) until `release`:
    /// killed at once when the wave has stopped already, else when it stops. Under the lock
    /// `cancel` takes, so a step that starts while another stage fails is killed either way.
    func follow(_ pidfd: Int32) -> Int? {
        guard pidfd >= 0 else { return nil }
        return state.withLock { state in
            if state.cause != nil {
                _ = berth_pidfd_send_signal(pidfd, SIGKILL)
                return nil
            }
            let copy = fcntl(pidfd, F_DUPFD_CLOEXEC, 3)
            guard copy >= 0 else { return nil }
            let token = state.next
            state.next += 1
            state.running.append((token, copy))
            return token
        }
    }

    /// Ends `follow`'s hold on a step that has ended.
    func release(_ token: Int?) {
        guard let token else { return }
        state.withLock { state in
            guard let index = state.running.firstIndex(where: { $0.token == token }) else { return }
            close(state.running.remove(at: index).pidfd)
        }
    }

    /// Throws once another stage has failed: a stage asks before each step and after each RUN.
    func stopIfCancelled() throws {
        guard cause != nil else { return }
        throw BuildError(.interrupted, "was stopped because another stage failed")
    }
}

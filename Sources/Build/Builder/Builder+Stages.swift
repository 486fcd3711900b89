import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Stages that do not depend on each other built at once (issue 16): the stages are cut into
/// waves, in Dockerfile order, of stages none of which reads another of its wave; the stages of
/// a wave each run on a thread of their own with a copy of the builder, and what they did is
/// merged back in Dockerfile order. Step numbers stay those of a build one stage after another.
/// Their RUN output is labelled line by line with the stage and step (`LabeledOutput`); a Ctrl-C
/// reaches every RUN running (`SupervisedContainers`) and ends every stage before its next step.
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
    /// there are several. Every thread is waited for; the first failure in Dockerfile order is
    /// thrown.
    mutating func buildWave(_ wave: [StagePlan.Stage], plan: StagePlan, firstSteps: [Int: Int]) throws {
        let runs = wave.map { stage in
            var copy = self
            copy.stepNumber = firstSteps[stage.index] ?? stepNumber
            copy.stepsCached = 0
            if wave.count > 1 {
                // Beside other stages: each line whole and said to be the stage's (`LabeledOutput`).
                copy.outputLabel = stage.name ?? "stage-\(stage.index)"
                copy.progress = progress.serialized()
            }
            return StageRun(builder: copy, stage: stage, plan: plan)
        }
        if runs.count == 1 {
            runs[0].run()
        } else {
            for run in runs { run.start() }
            for run in runs { run.join() }
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

extension ContainerEngine {
    /// berth-monitor's options that make it run the container's health check on its interval
    /// (`berth health-check ID`, see `runHealthCheck`); none when the container has no check.
    func healthArguments(of record: ContainerRecord, programs: MonitorPrograms) -> [String] {
        guard let check = record.config.healthcheck, check.command != nil else { return [] }
        let milliseconds = max(1, check.effectiveInterval / 1_000_000)
        let words = [programs.berth] + forwardedArguments + ["health-check", record.id]
        return ["--health-interval", String(milliseconds)] + words.flatMap { ["--health-arg", $0] }
    }
}

import BerthErrors
import Containers
#if canImport(Glibc)
import Glibc
#endif

extension ComposeEngine {
    /// Waits until every instance of `service` is healthy (`depends_on` with
    /// `condition: service_healthy`), reading the health its monitor records. Bounded by what
    /// the check itself allows: its start period and retries+1 rounds of interval and timeout,
    /// and 10 seconds more. An instance that is unhealthy, that ended or that has no check is
    /// an error naming it.
    public func waitUntilHealthy(_ service: String, progress: (String) -> Void = { _ in }) throws {
        let clock = ContinuousClock()
        for instance in instances(of: [service]) {
            guard let check = instance.record.config.healthcheck, check.command != nil else {
                throw BerthError(.invalidState, "service \(service) has no health check, so \(instance.record.name) can never be "
                                 + "healthy: give it a healthcheck, or depend on it with condition: service_started")
            }
            let allowed = check.startPeriod + Int64(check.effectiveRetries + 1) * (check.effectiveInterval + check.effectiveTimeout)
            let deadline = clock.now + .nanoseconds(allowed) + .seconds(10)
            var reported = false
            while true {
                let record = (try? engine.store.load(id: instance.record.id)) ?? instance.record
                let state = engine.state(of: record)
                guard state.status == .running else {
                    throw BerthError(.invalidState, "dependency \(record.name) is \(state.status.rawValue), not healthy: "
                                     + "see berth compose logs \(service)")
                }
                switch engine.health(of: record, state: state)?.status {
                case .healthy:
                    progress("Container \(record.name) Healthy")
                case .unhealthy:
                    throw BerthError(.invalidState, "dependency \(record.name) is unhealthy: see berth inspect \(record.name)")
                default:
                    guard clock.now < deadline else {
                        throw BerthError(.invalidState, "dependency \(record.name) was not healthy within "
                                         + "\(GoDuration.describe(allowed + 10_000_000_000)): see berth inspect \(record.name)")
                    }
                    if !reported { progress("Container \(record.name) Waiting") }
                    reported = true
                    usleep(100_000)
                    continue
                }
                break
            }
        }
    }
}

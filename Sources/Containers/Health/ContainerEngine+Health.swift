import JSON

extension ContainerEngine {
    /// The health of a running container with a check, Docker's `State.Health`; nil for one
    /// without a check or not running (what its last run found stays on disk, as Docker keeps it
    /// in inspect, but ps shows no health for a stopped container).
    public func health(of record: ContainerRecord, state: ContainerState) -> HealthState? {
        guard record.config.healthcheck?.command != nil else { return nil }
        guard state.status == .running else { return store.health(of: record.id) }
        return store.health(of: record.id) ?? HealthState()
    }

    /// ps's STATUS with the health after it: "Up 2 minutes (healthy)", "(unhealthy)",
    /// "(health: starting)".
    public func statusText(_ record: ContainerRecord, state: ContainerState, now: Int) -> String {
        let text = record.statusText(state, now: now)
        guard state.status == .running, !state.paused, let health = health(of: record, state: state) else { return text }
        return text + (health.status == .starting ? " (health: starting)" : " (\(health.status.rawValue))")
    }

    /// inspect's State with `Health` in it, when the container has a check.
    func addingHealth(to fields: inout [(key: String, value: JSONValue)], of record: ContainerRecord, state: ContainerState) {
        guard let health = health(of: record, state: state),
              let index = fields.firstIndex(where: { $0.key == "State" }), case .object(var members) = fields[index].value
        else { return }
        members.append((key: "Health", value: health.json))
        fields[index].value = .object(members)
    }
}

extension ContainerRecord {
    /// The record's state checked against the kernel: a container recorded as running whose
    /// supervisor is gone (`isRunning` false: berth was killed with it) is shown as exited with
    /// an unknown status, so `ps` never shows a dead container as running.
    public func verified(isRunning: (String) -> Bool) -> ContainerState {
        guard state.status == .running, !isRunning(id) else { return state }
        var state = state
        state.status = .exited
        state.pid = 0
        state.exitCode = nil
        return state
    }

    /// `ps`'s STATUS: "Up 3 seconds", "Exited (0) 2 minutes ago", "Exited (unknown)", "Created".
    public func statusText(_ state: ContainerState, now: Int) -> String {
        switch state.status {
        case .created:
            return "Created"
        case .running:
            return "Up " + (state.startedAt.flatMap(Timestamp.parse).map { Timestamp.humanDuration(now - $0) } ?? "")
        case .exited:
            guard let code = state.exitCode else { return "Exited (unknown)" }
            let ago = Timestamp.ago(state.finishedAt, now: now)
            return "Exited (\(code))" + (ago.isEmpty ? "" : " " + ago)
        }
    }
}

extension ContainerRecord {
    /// The record's state checked against the kernel: a container recorded as running whose
    /// supervisor is gone (`isRunning` false: berth was killed with it) is shown as exited with
    /// an unknown status, so `ps` never shows a dead container as running; one recorded as
    /// restarting whose monitor is gone stays exited with the status it ended with.
    public func verified(isRunning: (String) -> Bool) -> ContainerState {
        guard state.status == .running || state.status == .restarting, !isRunning(id) else { return state }
        var state = state
        if state.status == .running { state.exitCode = nil }
        state.status = .exited
        state.pid = 0
        return state
    }

    /// `ps`'s STATUS: "Up 3 seconds", "Up 2 minutes (Paused)", "Exited (0) 2 minutes ago", "Exited (unknown)",
    /// "Restarting (1) 1 second ago", "Created".
    public func statusText(_ state: ContainerState, now: Int) -> String {
        switch state.status {
        case .created:
            return "Created"
        case .running:
            let up = "Up " + (state.startedAt.flatMap(Timestamp.parse).map { Timestamp.humanDuration(now - $0) } ?? "")
            return state.paused ? up + " (Paused)" : up
        case .restarting, .exited:
            let word = state.status == .restarting ? "Restarting" : "Exited"
            guard let code = state.exitCode else { return word + " (unknown)" }
            let ago = Timestamp.ago(state.finishedAt, now: now)
            return "\(word) (\(code))" + (ago.isEmpty ? "" : " " + ago)
        }
    }
}

extension ContainerState {
    /// The state of a container whose init has just ended with `exitCode` (128+N for signal N).
    public func ended(exitCode: Int32, oomKilled: Bool) -> ContainerState {
        ContainerState(status: .exited, pid: 0, exitCode: exitCode, oomKilled: oomKilled,
                       startedAt: startedAt, finishedAt: Timestamp.now())
    }

    /// Whether `ps` without `-a` lists it (Docker shows restarting containers there too), and
    /// `rm` wants `-f` for it.
    public var isUp: Bool { status == .running || status == .restarting }
}

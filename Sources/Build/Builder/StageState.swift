import ImageStore

/// Where a stage is while it is built: the image its last step made (nil: still `scratch`),
/// that image's config being edited, and the ARGs declared so far.
struct StageState {
    var manifest: Digest?
    var config: OCIImage.Configuration
    /// Declared ARGs and their values (nil: declared without one), in declaration order.
    var args: [(name: String, value: String?)] = []
    /// Whether this stage set CMD (an ENTRYPOINT then keeps it; one from the base is cleared).
    var cmdSet = false

    var execution: OCIImage.ExecutionConfig {
        get { config.config ?? OCIImage.ExecutionConfig() }
        set { config.config = newValue }
    }

    /// What `$NAME` expands to: the ARGs, with ENV over them (Docker's precedence).
    var variables: [String: String] {
        var result: [String: String] = [:]
        for (name, value) in args { if let value { result[name] = value } }
        for entry in execution.env ?? [] {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return result
    }

    /// The ARGs a RUN sees as variables (those ENV does not set), as `NAME=value`.
    var runArguments: [String] {
        let env = Set((execution.env ?? []).map { String($0.split(separator: "=", maxSplits: 1)[0]) })
        return args.compactMap { name, value in value.map { "\(name)=\($0)" } }
            .filter { !env.contains(String($0.split(separator: "=", maxSplits: 1)[0])) }
    }

    mutating func setEnv(_ name: String, _ value: String) {
        var env = execution.env ?? []
        env.removeAll { $0 == name || $0.hasPrefix(name + "=") }
        env.append("\(name)=\(value)")
        execution.env = env
    }

    /// The shell of the shell form: SHELL's, or `/bin/sh -c`.
    var shell: [String] { execution.shell ?? ["/bin/sh", "-c"] }

    /// An image config for `FROM scratch`.
    static func scratch() -> StageState {
        StageState(manifest: nil, config: OCIImage.Configuration(
            created: nil, author: nil, architecture: "amd64", os: "linux",
            config: OCIImage.ExecutionConfig(env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]),
            rootfs: OCIImage.RootFS(diffIDs: []), history: []))
    }
}

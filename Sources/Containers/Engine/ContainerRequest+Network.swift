extension ContainerRequest {
    /// The network a container gets when `run` or `create` is given no `--network`: the one
    /// place that says so (`berth info` prints it).
    public static let defaultNetwork = "bridge"
}

/// The labels Docker Compose v2 puts on what it makes, which berth puts on the same things: a
/// project's containers, networks and volumes are found by them, not by their names.
public enum ComposeLabels {
    public static let project = "com.docker.compose.project"
    public static let service = "com.docker.compose.service"
    public static let containerNumber = "com.docker.compose.container-number"
    /// A hash of the service's resolved configuration: `up` keeps an instance whose hash is
    /// the file's, and replaces one whose configuration changed.
    public static let configHash = "com.docker.compose.config-hash"
    public static let network = "com.docker.compose.network"
    public static let volume = "com.docker.compose.volume"
}

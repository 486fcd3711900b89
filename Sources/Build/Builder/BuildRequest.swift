import ImageStore
#if canImport(Glibc)
import Glibc
#endif

/// What `berth build` is asked: the Dockerfile, the context it reads, the build args, the
/// stage to stop at, the tags and labels of the result.
public struct BuildRequest: Sendable {
    public var dockerfile: Dockerfile
    /// The context directory; nil for a Dockerfile from stdin without one (COPY then fails).
    public var context: String?
    /// The Dockerfile's path, for its own ignore file (`deploy/Dockerfile.dockerignore`), which
    /// the context's `.dockerignore` gives way to.
    public var dockerfilePath: String?
    public var buildArgs: [String: String] = [:]
    public var target: String?
    public var tags: [ImageReference] = []
    /// `--label`s, over the Dockerfile's LABELs.
    public var labels: [String: String] = [:]
    public var noCache = false
    /// The network of RUN steps: the default bridge, as Docker's, so that `apt-get install`
    /// works; `--network`, `RUN --network=` choose another.
    public var network = "bridge"
    /// The cgroup parent of RUN steps' containers (`--cgroup-parent`).
    public var cgroupParent = "berth"

    public init(dockerfile: Dockerfile, context: String?) {
        self.dockerfile = dockerfile
        self.context = context
    }
}

extension BuildRequest {
    /// The Dockerfile of a context directory when none is named: its `Dockerfile`, else its
    /// `Containerfile` when only that one is there.
    public static func defaultDockerfile(in directory: String) -> String {
        access(directory + "/Dockerfile", F_OK) == 0 || access(directory + "/Containerfile", F_OK) != 0
            ? directory + "/Dockerfile" : directory + "/Containerfile"
    }
}

/// What a build made.
public struct BuildResult: Sendable {
    public var image: ImageStore.StoredImage
    public var steps: Int
    public var cachedSteps: Int
}

/// The lines a build reports as it goes (`Step 3/9 : RUN make`, ` ---> Using cache`, ` ---> ID`), and where
/// RUN steps' output goes.
public struct BuildProgress: Sendable {
    public var line: @Sendable (String) -> Void
    /// The fd RUN steps write to (the caller's stderr; /dev/null for `-q`).
    public var output: Int32

    public init(output: Int32, line: @escaping @Sendable (String) -> Void) {
        self.output = output
        self.line = line
    }
}

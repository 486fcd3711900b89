extension OCIRuntimeSpec {
    /// Programs the runtime runs at points of the container's lifecycle, each list in order.
    /// `prestart` is deprecated by the spec in favour of the three that follow it.
    public struct Hooks: Codable, Sendable, Equatable {
        public var prestart: [Hook]?
        public var createRuntime: [Hook]?
        public var createContainer: [Hook]?
        public var startContainer: [Hook]?
        public var poststart: [Hook]?
        public var poststop: [Hook]?

        public init(prestart: [Hook]? = nil, createRuntime: [Hook]? = nil, createContainer: [Hook]? = nil,
                    startContainer: [Hook]? = nil, poststart: [Hook]? = nil, poststop: [Hook]? = nil) {
            self.prestart = prestart
            self.createRuntime = createRuntime
            self.createContainer = createContainer
            self.startContainer = startContainer
            self.poststart = poststart
            self.poststop = poststop
        }
    }

    /// One hook: an absolute program path, its argv (including argv[0]) and environment, and a
    /// timeout in seconds after which the runtime gives up on it.
    public struct Hook: Codable, Sendable, Equatable {
        public var path: String
        public var args: [String]?
        public var env: [String]?
        public var timeout: Int?

        public init(path: String, args: [String]? = nil, env: [String]? = nil, timeout: Int? = nil) {
            self.path = path
            self.args = args
            self.env = env
            self.timeout = timeout
        }
    }
}

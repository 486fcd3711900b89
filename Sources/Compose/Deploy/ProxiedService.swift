/// One service run behind the proxy, as the deploy code needs it: what `ComposeProject.proxied`
/// maps a service with `x-berth.proxy` onto. Everything is given; nothing is read from a file.
public struct ProxiedService: Codable, Sendable, Equatable {
    /// The service's name: the proxy's backend, and the prefix of its containers' names.
    public var name: String
    /// The image as the file or `--image` names it, for people.
    public var image: String
    /// The image's id when the version was made (`sha256:…`): what its instances start from, so
    /// that a tag the next build moves changes no recorded version, and a rollback goes back to
    /// exactly the image it left. nil: `image` as it resolves at each start.
    public var imageID: String?
    /// Replaces the image's Cmd when not empty.
    public var command: [String]
    /// Replaces the image's entrypoint ("" clears it); nil keeps it.
    public var entrypoint: String?
    /// `NAME=value` entries.
    public var environment: [String]
    /// The app's port inside its container.
    public var port: Int
    /// Active instances; as many `backups` take the traffic while the actives are moved.
    public var replicas: Int
    public var backups: Int
    /// What HAProxy's check and berth's direct probe GET; any 2xx passes.
    public var healthPath: String
    /// The container's own check (its monitor runs it), and the probe's timings.
    public var healthcheck: ProxiedHealthcheck
    /// "SIGTERM" when nil.
    public var stopSignal: String?
    /// Seconds a stopped instance has to finish its requests (the drain's bound too).
    public var stopGracePeriod: Int
    /// Seconds a new instance has to pass its probe before the deploy is rolled back.
    public var startTimeout: Int
    /// The berth network the instances join (made when missing).
    public var network: String
    public var proxy: ProxyListener
    /// Where the instances' cgroups go ("berth" by default; tests give their own).
    public var cgroupParent: String
    /// The service's volumes, labels, user, directory and network names, as a plain instance
    /// of it gets them. nil in a record written before instances had them: none.
    public var settings: InstanceSettings?

    public init(name: String, image: String, command: [String] = [], entrypoint: String? = nil,
                environment: [String] = [], port: Int, replicas: Int = 1, backups: Int = 1,
                healthPath: String = "/up", healthcheck: ProxiedHealthcheck = ProxiedHealthcheck(),
                stopSignal: String? = nil, stopGracePeriod: Int = 10, startTimeout: Int = 30,
                network: String, proxy: ProxyListener, cgroupParent: String = "berth", settings: InstanceSettings? = nil) {
        self.name = name
        self.image = image
        self.command = command
        self.entrypoint = entrypoint
        self.environment = environment
        self.port = port
        self.replicas = replicas
        self.backups = backups
        self.healthPath = healthPath
        self.healthcheck = healthcheck
        self.stopSignal = stopSignal
        self.stopGracePeriod = stopGracePeriod
        self.startTimeout = startTimeout
        self.network = network
        self.proxy = proxy
        self.cgroupParent = cgroupParent
        self.settings = settings
    }

    /// What its instances are created from.
    var imageToRun: String { imageID ?? image }

    /// The image as an outcome line shows it; with its short id when `other` names the same
    /// image by another id (a rebuild under the same tag).
    func shownImage(beside other: ProxiedService) -> String {
        guard image == other.image, let imageID, imageID != other.imageID else { return image }
        return "\(image) (\(imageID.dropFirst("sha256:".count).prefix(12)))"
    }

    /// Whether two versions of the service run the same instances (the proxy's side may differ).
    public func sameInstances(as other: ProxiedService) -> Bool {
        image == other.image && (imageID == nil || other.imageID == nil || imageID == other.imageID)
            && command == other.command && entrypoint == other.entrypoint
            && environment == other.environment && port == other.port && stopSignal == other.stopSignal
            && healthcheck == other.healthcheck && (settings ?? InstanceSettings()) == (other.settings ?? InstanceSettings())
    }
}

/// A service's health check: `test` is the container's own (Docker's form; empty: none), the
/// timings are the container check's and berth's direct probe's.
public struct ProxiedHealthcheck: Codable, Sendable, Equatable {
    public var test: [String]
    public var intervalMilliseconds: Int
    public var timeoutMilliseconds: Int
    public var retries: Int

    public init(test: [String] = [], intervalMilliseconds: Int = 1000, timeoutMilliseconds: Int = 2000, retries: Int = 3) {
        self.test = test
        self.intervalMilliseconds = intervalMilliseconds
        self.timeoutMilliseconds = timeoutMilliseconds
        self.retries = retries
    }
}

/// Where the proxy listens for a service: one HAProxy frontend each.
public struct ProxyListener: Codable, Sendable, Equatable {
    public var address: String
    public var port: Int

    public init(address: String = "127.0.0.1", port: Int) {
        self.address = address
        self.port = port
    }
}

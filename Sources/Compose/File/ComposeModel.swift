import Containers

/// A Compose file, checked and resolved: `${VAR}`s replaced, relative paths made absolute,
/// `env_file`s read into each service's environment, named volumes and networks given the names
/// they have on the host (`<project>_<name>` unless `external` or `name:` says otherwise).
public struct ComposeModel: Sendable, Equatable {
    /// The services in the file's order.
    public var services: [ServiceDefinition]
    /// The networks the file declares, plus `default` when a service uses it.
    public var networks: [NetworkDeclaration]
    public var volumes: [VolumeDeclaration]

    public func service(_ name: String) -> ServiceDefinition? { services.first { $0.name == name } }
}

/// One entry of `services`.
public struct ServiceDefinition: Sendable, Equatable {
    public var name: String
    /// The image the instances run: `image:`, else `<project>-<service>` for a service that is
    /// built (Docker Compose v2's name), which the build is tagged with either way.
    public var image: String
    /// `build:`: how the image is made when it is missing, or always with `up --build`.
    public var build: ServiceBuild?
    /// Replaces the image's Cmd; nil keeps it.
    public var command: [String]?
    /// Replaces the image's Entrypoint (and so drops its Cmd, as Docker does); nil keeps it.
    public var entrypoint: [String]?
    /// `NAME=value` entries: the env_files' first, `environment` over them. An entry without a
    /// value takes the caller's (or the `.env` file's) value; one set nowhere is left out.
    public var environment: [String] = []
    /// The env_files read, absolute, for `compose config`.
    public var envFiles: [String] = []
    /// `-p` entries as `run` takes them: `[ip:]host:container[/proto]` or `container[/proto]`.
    public var ports: [String] = []
    /// Ports the service says it listens on (documentation only: a network's members reach
    /// every port of each other).
    public var expose: [String] = []
    public var volumes: [ServiceMount] = []
    /// The network the service's instances join (berth joins a container to one network) and
    /// their aliases on it; the service's name is always one of them.
    public var network = ServiceNetwork(name: "default", aliases: [])
    public var dependsOn: [Dependency] = []
    public var healthcheck: HealthCheck?
    public var restart: RestartPolicy?
    public var stopSignal: String?
    /// Nanoseconds; nil is Docker's 10 s.
    public var stopGracePeriod: Int64?
    /// `deploy.replicas`: how many instances run (the active ones, for a proxied service).
    public var replicas = 1
    public var labels: [String: String] = [:]
    public var workingDir: String?
    public var user: String?
    public var hostname: String?
    public var cgroupParent: String?
    public var initProcess = false
    public var readOnly = false
    /// berth's `x-berth` extension: the app's port and its proxy.
    public var berth = BerthSettings()

    public init(name: String, image: String) {
        self.name = name
        self.image = image
    }

    /// How many instances the service runs: the `deploy.replicas` active ones, then a proxied
    /// service's backups (which its deployer names by slot, a1…aN and b1…bN, not by number).
    public var instanceCount: Int { replicas + (berth.proxy?.backups ?? 0) }

    /// The stop timeout in whole seconds, rounded up (Docker's default 10).
    public var stopTimeoutSeconds: Int {
        guard let period = stopGracePeriod else { return 10 }
        return Int((period + 999_999_999) / 1_000_000_000)
    }
}

/// A service's `build:` section, short (`build: ./dir`) or long form.
public struct ServiceBuild: Sendable, Equatable {
    /// The context directory, absolute.
    public var context: String
    /// The Dockerfile, absolute (`dockerfile:` is taken from the context); nil: the context's
    /// Dockerfile, else its Containerfile, as `berth build` finds them.
    public var dockerfile: String?
    /// `dockerfile_inline`: the Dockerfile's text itself.
    public var dockerfileInline: String?
    /// `args`: an arg listed without a value takes the caller's (or the `.env` file's); one set
    /// nowhere is left out, so the Dockerfile's default holds.
    public var args: [String: String] = [:]
    public var target: String?
    public var labels: [String: String] = [:]
    /// Further tags beside the service's image.
    public var tags: [String] = []
    public var noCache = false
    /// The network of RUN steps (bridge, none or host); nil: the builder's default.
    public var network: String?

    public init(context: String) {
        self.context = context
    }
}

/// A `depends_on` entry.
public struct Dependency: Sendable, Equatable {
    public enum Condition: String, Sendable {
        case started = "service_started"
        case healthy = "service_healthy"
    }

    public var service: String
    public var condition: Condition

    public init(service: String, condition: Condition) {
        self.service = service
        self.condition = condition
    }
}

/// A `volumes` entry of a service, short or long syntax.
public enum ServiceMount: Sendable, Equatable {
    /// A named volume of the file's top-level `volumes` (its key there).
    case volume(name: String, target: String, readOnly: Bool, noCopy: Bool)
    /// A host path, absolute (a relative one is taken from the Compose file's directory).
    case bind(source: String, target: String, readOnly: Bool)
    /// A volume of the container's own, removed with it.
    case anonymous(target: String)
    case tmpfs(target: String)

    public var target: String {
        switch self {
        case .volume(_, let target, _, _), .bind(_, let target, _), .anonymous(let target), .tmpfs(let target): target
        }
    }
}

/// The network a service joins, by its key in the file's `networks` (`default` unless named).
public struct ServiceNetwork: Sendable, Equatable {
    public var name: String
    public var aliases: [String]

    public init(name: String, aliases: [String]) {
        self.name = name
        self.aliases = aliases
    }
}

/// An entry of the top-level `networks`.
public struct NetworkDeclaration: Sendable, Equatable {
    /// Its key in the file.
    public var key: String
    /// Its name on the host.
    public var name: String
    /// Made by someone else: it must exist, and `down` leaves it.
    public var external: Bool
    public var subnet: String?
    public var labels: [String: String]

    public init(key: String, name: String, external: Bool = false, subnet: String? = nil, labels: [String: String] = [:]) {
        self.key = key
        self.name = name
        self.external = external
        self.subnet = subnet
        self.labels = labels
    }
}

/// An entry of the top-level `volumes`.
public struct VolumeDeclaration: Sendable, Equatable {
    public var key: String
    public var name: String
    public var external: Bool
    public var labels: [String: String]

    public init(key: String, name: String, external: Bool = false, labels: [String: String] = [:]) {
        self.key = key
        self.name = name
        self.external = external
        self.labels = labels
    }
}

/// A service's `x-berth` extension.
public struct BerthSettings: Sendable, Equatable {
    /// The app's port inside the container, which the proxy sends requests to.
    public var port: Int?
    /// Set when the service runs behind berth's HAProxy.
    public var proxy: ProxySettings?

    public init(port: Int? = nil, proxy: ProxySettings? = nil) {
        self.port = port
        self.proxy = proxy
    }
}

/// `x-berth.proxy`: where HAProxy listens for a service, how many backup instances stand by,
/// and the path its health checks ask for.
public struct ProxySettings: Sendable, Equatable {
    /// The listening address; "0.0.0.0" when `listen` names only a port.
    public var listenHost: String
    public var listenPort: Int
    /// Backup instances beside the `deploy.replicas` active ones.
    public var backups: Int
    public var healthPath: String

    public static let defaultHealthPath = "/"

    public init(listenHost: String, listenPort: Int, backups: Int = 0, healthPath: String = ProxySettings.defaultHealthPath) {
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.backups = backups
        self.healthPath = healthPath
    }
}

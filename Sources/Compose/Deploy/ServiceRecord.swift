import FileSystem
import JSON
#if canImport(Glibc)
import Glibc
#endif

/// What berth knows of a proxied service between commands: the version it runs and, for each
/// of its HAProxy server slots, the container behind it. `compose/<project>/services/<name>.json`,
/// replaced atomically after every slot that moves, so the proxy's configuration (written from
/// these records) and a berth killed mid-deploy always find the slots as they are.
public struct ServiceRecord: Codable, Sendable, Equatable {
    public var service: ProxiedService
    public var slots: [Slot]
    /// The version the last deploy moved away from: what `rollback` goes back to.
    public var previous: ProxiedService?

    /// One server slot: `a1`…`aN` are the actives, `b1`…`bN` the backups.
    public struct Slot: Codable, Sendable, Equatable {
        public var server: String
        public var backup: Bool
        /// The container's id, and its address on the service's network; nil while empty.
        public var container: String?
        public var address: String?
        /// The version the container runs.
        public var version: ProxiedService?
        /// The stopped instance this slot ran before the last cycle moved it: what a rollback
        /// (or a deploy's own abort) starts again instead of making a new container. The next
        /// cycle of the slot replaces it; nil when there is none (never deployed, or removed).
        public var standby: Standby?
    }

    /// A stopped instance kept for the rollback, and the version it runs.
    public struct Standby: Codable, Sendable, Equatable {
        public var container: String
        public var version: ProxiedService
    }

    /// Every container the record names: the slots' and their standbys'.
    var containers: [String] {
        slots.compactMap(\.container) + slots.compactMap(\.standby?.container)
    }

    /// A record with empty slots for `service`'s replicas and backups.
    init(service: ProxiedService) {
        self.service = service
        slots = (1...max(service.replicas, 1)).map { Slot(server: "a\($0)", backup: false) }
            + (0..<max(service.backups, 0)).map { Slot(server: "b\($0 + 1)", backup: true) }
    }

    /// The proxy's backend for this service.
    var backend: ProxyBackend {
        ProxyBackend(name: service.name, listenAddress: service.proxy.address, listenPort: service.proxy.port,
                     healthPath: service.healthPath, port: service.port,
                     servers: slots.map { ProxyServer(name: $0.server, backup: $0.backup, address: $0.address) })
    }
}

/// A project's directory in the state root, `compose/<project>/`: the service records, the
/// deploy journals, the locks and HAProxy's files.
public struct ProjectDirectory: Sendable {
    public let path: String
    public let project: String
    /// The project's HAProxy, its executable looked up once (a walk of PATH) rather than at
    /// each use of `proxy`.
    public let proxy: ProxyProcess

    public init(stateRoot: String, project: String) throws {
        guard !project.isEmpty, project.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ProxyError(.invalidArgument, "project name \"\(project)\" must be letters, digits, - and _")
        }
        self.project = project
        path = stateRoot + "/compose/" + project
        proxy = ProxyProcess(directory: path)
        do {
            try Directory.make(path + "/services", mode: 0o700)
            try Directory.make(path + "/journal", mode: 0o700)
        } catch {
            throw ProxyError(.systemError, "cannot make the project directory \(path): \(error)")
        }
    }

    func recordPath(_ service: String) -> String { path + "/services/\(service).json" }
    func journalPath(_ service: String) -> String { path + "/journal/\(service).json" }

    public func record(_ service: String) throws -> ServiceRecord? {
        try read(ServiceRecord.self, at: recordPath(service))
    }

    public func records() -> [ServiceRecord] {
        let names = (try? Directory.names(atPath: path + "/services")) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().compactMap {
            try? read(ServiceRecord.self, at: path + "/services/" + $0)
        }
    }

    func write(_ record: ServiceRecord) throws { try write(record, at: recordPath(record.service.name)) }

    func removeRecord(_ service: String) { unlink(recordPath(service)) }

    /// The proxy's whole configuration: every service's backend.
    func configuration() -> ProxyConfiguration {
        ProxyConfiguration(socketPath: proxy.socketPath, backends: records().map(\.backend))
    }

    /// Holds `name`'s lock (a file under the project) while `body` runs: one deploy of a service
    /// at a time, and one writer of the proxy's configuration.
    func whileLocked<T>(_ name: String, _ body: () throws -> T) throws -> T {
        let fd: Int32
        do { fd = try FileLock.acquire(path + "/\(name).lock") } catch {
            throw ProxyError(.systemError, "cannot lock \(name) in \(path): \(error)")
        }
        defer { close(fd) }
        return try body()
    }

    func read<T: Decodable>(_ type: T.Type, at path: String) throws -> T? {
        guard access(path, F_OK) == 0 else { return nil }
        do {
            return try JSON.decode(type, from: try FileIO.readFile(path), source: path)
        } catch {
            throw ProxyError(.corrupt, "cannot read \(path): \(error)")
        }
    }

    /// Replaces the file at `path` whole (a reader sees the old value or the new one); `durable`
    /// also waits for the disk, so that the new value survives the machine's crash.
    func write<T: Encodable>(_ value: T, at path: String, durable: Bool = true) throws {
        do {
            try AtomicFile.replace(path, with: try JSON.encode(value, pretty: true), mode: 0o600, durable: durable)
        } catch {
            throw ProxyError(.systemError, "cannot write \(path): \(error)")
        }
    }
}

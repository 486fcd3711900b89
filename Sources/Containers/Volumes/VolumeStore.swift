import FileSystem
import JSON
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// berth's local volumes, one directory each under the state root:
///
/// ```
/// <root>/volumes/<name>/volume.json   the Volume (name, created, labels), written before the rename
/// <root>/volumes/<name>/_data/        what containers see at the volume's mount point
/// <root>/volumes/.lock                flock'ed: shared while a container is created with volumes,
///                                     exclusive while volumes are removed
/// ```
///
/// A volume is made whole in a directory of its own (`.creating-<pid>-<n>`) and renamed to its
/// name: two commands that make one name at once both end with the same one volume, and an
/// interrupted creation leaves only a dot-directory, which `removeIncomplete` deletes once its
/// maker is dead.
public struct VolumeStore: Sendable {
    /// `<state root>/volumes`.
    public let root: String

    /// Docker's label on the volumes it makes for a container (`-v /path`, an image's VOLUME):
    /// `volume prune` removes these unless given --all, and `rm -v` removes them with their container.
    public static let anonymousLabel = "com.docker.volume.anonymous"

    public init(stateRoot: String) {
        root = stateRoot + "/volumes"
    }

    public func directory(of name: String) -> String { root + "/" + name }
    /// What is mounted into containers.
    public func dataDirectory(of name: String) -> String { directory(of: name) + "/_data" }

    // MARK: creating

    /// The volume `name` (a new anonymous name when nil), made if it does not exist, and whether
    /// this call made it. `labels` are those of a volume it makes; an existing one keeps its own.
    public func create(_ name: String?, labels: [(String, String)] = []) throws -> (volume: Volume, isNew: Bool) {
        let name = name ?? VolumeName.generate()
        guard VolumeName.isValid(name) else {
            throw ContainerError(.invalidArgument, "invalid volume name \"\(name)\": use \(VolumeName.rule)")
        }
        if let existing = try? find(name) { return (existing, false) }
        try makeRoot()
        let temporary = root + "/.creating-\(getpid())-" + VolumeName.generate().prefix(12)
        guard mkdir(temporary, 0o711) == 0 else { throw ContainerError.system("cannot create \(temporary)") }
        var renamed = false
        defer { if !renamed { try? TreeRemoval.remove(temporary) } }
        // _data has the mode of a new directory as Docker makes it; a copy-up gives it the
        // image's owner and mode.
        guard mkdir(temporary + "/_data", 0o755) == 0, chmod(temporary + "/_data", 0o755) == 0 else {
            throw ContainerError.system("cannot create \(temporary)/_data")
        }
        let volume = Volume(name: name, createdAt: Timestamp.now(), labels: labels, mountpoint: dataDirectory(of: name))
        do {
            try AtomicFile.replace(temporary + "/volume.json", with: JSON.serialize(volume.json), mode: 0o600, durable: true)
        } catch {
            throw ContainerError(.systemError, "cannot write the volume \(name)'s metadata: \(error)")
        }
        // The directory is the volume's once it has its name; another maker's rename got there
        // first when the name is taken (EEXIST, or ENOTEMPTY for a directory): that one is used.
        if rename(temporary, directory(of: name)) == 0 {
            renamed = true
            // The new volume and its name reach the disk before a container relies on them.
            try? Directory.sync(root)
            return (volume, true)
        }
        guard errno == EEXIST || errno == ENOTEMPTY else { throw ContainerError.system("cannot create the volume \(name)") }
        return (try find(name), false)
    }

    private func makeRoot() throws {
        guard mkdir(root, 0o711) == 0 || errno == EEXIST else { throw ContainerError.system("cannot create \(root)") }
    }

    // MARK: looking up

    /// The volume named `name`; "no such volume" when there is none.
    public func find(_ name: String) throws -> Volume {
        guard VolumeName.isValid(name) else { throw ContainerError(.notFound, "no such volume: \(name)") }
        let path = directory(of: name) + "/volume.json"
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(path)
        } catch {
            if error.errno == ENOENT || error.errno == ENOTDIR { throw ContainerError(.notFound, "no such volume: \(name)") }
            throw ContainerError(.systemError, "cannot read \(path): \(error)")
        }
        do {
            return try Volume(json: try JSON.parse(bytes), mountpoint: dataDirectory(of: name))
        } catch {
            throw ContainerError(.corrupt, "the volume \(name)'s metadata (\(path)) is not valid: \(error); remove the volume")
        }
    }

    /// Every volume, by name.
    public func all() -> [Volume] {
        let names = (try? Directory.names(atPath: root)) ?? []
        return names.filter { !$0.hasPrefix(".") }.compactMap { try? find($0) }
    }

    /// Whether the volume's data directory holds nothing.
    public func isEmpty(_ name: String) -> Bool {
        ((try? Directory.entries(atPath: dataDirectory(of: name))) ?? []).isEmpty
    }

    /// The bytes the files of the volume take (st_blocks), for prune's report.
    public func diskUsage(of name: String) -> Int64 {
        var total: Int64 = 0
        func walk(_ path: String, depth: Int) {
            // Deeper than any real tree: a bound on the recursion, not a limit anyone meets.
            guard depth < 4096, let entries = try? Directory.entries(atPath: path) else { return }
            for entry in entries {
                let child = path + "/" + String(decoding: entry.name, as: UTF8.self)
                var st = stat()
                guard lstat(child, &st) == 0 else { continue }
                total += Int64(st.st_blocks) * 512
                if (st.st_mode & S_IFMT) == S_IFDIR { walk(child, depth: depth + 1) }
            }
        }
        walk(dataDirectory(of: name), depth: 0)
        return total
    }

    // MARK: removing

    /// Removes the volume and its data: renamed out of sight first, so it is gone at once, even
    /// when the removal of a large tree is interrupted (`removeIncomplete` finishes it).
    public func remove(_ name: String) throws {
        _ = try find(name)
        let hidden = root + "/.removing-\(getpid())-" + VolumeName.generate().prefix(12)
        guard rename(directory(of: name), hidden) == 0 else {
            if errno == ENOENT { throw ContainerError(.notFound, "no such volume: \(name)") }
            throw ContainerError.system("cannot remove the volume \(name)")
        }
        try TreeRemoval.remove(hidden)
    }

    /// Deletes what interrupted creations and removals left: `.creating-` directories whose
    /// maker is dead, every `.removing-` one.
    public func removeIncomplete() {
        for name in (try? Directory.names(atPath: root)) ?? [] {
            if name.hasPrefix(".removing-") {
                try? TreeRemoval.remove(root + "/" + name)
            } else if name.hasPrefix(".creating-") {
                let pid = name.dropFirst(".creating-".count).split(separator: "-").first.flatMap { pid_t($0) }
                if let pid, kill(pid, 0) != 0, errno == ESRCH { try? TreeRemoval.remove(root + "/" + name) }
            }
        }
    }

    // MARK: the store's lock

    /// Runs `body` holding the store's lock: shared while containers that use volumes are being
    /// created (so a removal never takes a volume a record is about to name), exclusive while
    /// volumes are removed.
    public func withLock<T>(exclusive: Bool, _ body: () throws -> T) throws -> T {
        let fd = try lock(exclusive: exclusive)
        defer { close(fd) }
        return try body()
    }

    /// The store's lock, shared, as an fd: closing it lets go.
    func lockShared() throws -> Int32 { try lock(exclusive: false) }

    private func lock(exclusive: Bool) throws -> Int32 {
        try makeRoot()
        let path = root + "/.lock"
        do {
            return try FileLock.acquire(path, shared: !exclusive)
        } catch {
            throw ContainerError.system("cannot \(error.call == "open" ? "open" : "lock") \(path)", errno: error.errno)
        }
    }
}

/// One volume, as `volume inspect` shows it (Docker's keys).
public struct Volume: Sendable, Equatable {
    public var name: String
    /// RFC 3339.
    public var createdAt: String
    public var labels: [(String, String)]
    /// Its data directory on the host.
    public var mountpoint: String
    public var driver = "local"

    public init(name: String, createdAt: String, labels: [(String, String)], mountpoint: String) {
        self.name = name
        self.createdAt = createdAt
        self.labels = labels
        self.mountpoint = mountpoint
    }

    /// Made for one container (`-v /path`, an image's VOLUME), not named by a user.
    public var isAnonymous: Bool { labels.contains { $0.0 == VolumeStore.anonymousLabel } }

    public static func == (a: Volume, b: Volume) -> Bool {
        a.name == b.name && a.createdAt == b.createdAt && a.mountpoint == b.mountpoint && a.driver == b.driver
            && a.labels.map(\.0) == b.labels.map(\.0) && a.labels.map(\.1) == b.labels.map(\.1)
    }

    /// Docker's `volume inspect` document.
    public var json: JSONValue {
        .object([
            ("CreatedAt", .string(createdAt)), ("Driver", .string(driver)),
            ("Labels", .object(labels.map { ($0.0, JSONValue.string($0.1)) })),
            ("Mountpoint", .string(mountpoint)), ("Name", .string(name)), ("Options", .object([])), ("Scope", "local"),
        ])
    }

    init(json: JSONValue, mountpoint: String) throws(ContainerError) {
        guard let name = json["Name"]?.string, let created = json["CreatedAt"]?.string else {
            throw ContainerError(.corrupt, "Name or CreatedAt is missing")
        }
        let labels = (json["Labels"]?.object ?? []).compactMap { pair in pair.value.string.map { (pair.key, $0) } }
        self.init(name: name, createdAt: created, labels: labels, mountpoint: mountpoint)
        driver = json["Driver"]?.string ?? "local"
    }
}

import FileSystem
import JSON
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// The containers berth keeps, one directory each, under the state root:
///
/// ```
/// <root>/containers/<id>/config.json   the ContainerRecord (written atomically)
/// <root>/containers/<id>/launch.json   its launch spec, an OCI runtime spec (written at creation)
/// <root>/containers/<id>/upper/        overlayfs' upper and work dirs: the container's changes
/// <root>/containers/<id>/work/
/// <root>/containers/<id>/links/        short names for the layers of a deep image (made when needed)
/// <root>/container-names/<name>        a symlink to the id: the name is taken
/// ```
///
/// A name is reserved by creating its symlink, which the kernel does atomically, so two berth
/// processes never get the same name and no global lock is needed. A container exists once its
/// config.json does; a crash before that leaves a directory the next `removeIncomplete` deletes.
public struct ContainerStore: Sendable {
    public let root: String

    public var containersDirectory: String { root + "/containers" }
    var namesDirectory: String { root + "/container-names" }

    public init(root: String) throws {
        self.root = root
        for dir in [root, containersDirectory, namesDirectory] where mkdir(dir, 0o711) != 0 && errno != EEXIST {
            throw ContainerError.system("cannot create \(dir)")
        }
    }

    public func directory(of id: String) -> String { containersDirectory + "/" + id }
    public func upperDirectory(of id: String) -> String { directory(of: id) + "/upper" }
    public func workDirectory(of id: String) -> String { directory(of: id) + "/work" }
    /// upper/ is the root directory of the container: it gets the usual mode.
    static let upperMode: mode_t = 0o755
    static let workMode: mode_t = 0o700
    /// A container's own directory: its record and launch spec are no one else's.
    static let directoryMode: mode_t = 0o700
    /// Where the child mounts the overlay, in its own mount namespace only: the container's own
    /// directory, so no extra directory is made and removed at every start (on some
    /// filesystems each inode made and deleted costs a millisecond).
    public func rootfsDirectory(of id: String) -> String { directory(of: id) }
    public func linkDirectory(of id: String) -> String { directory(of: id) + "/links" }

    // MARK: creating

    /// When a new container's files reach the disk.
    public enum CreationSync: Sendable {
        /// Before `create` returns.
        case immediate
        /// When the caller calls `makeDurable`: a detached start waits for the disk while the
        /// container is being launched rather than before (an fsync costs milliseconds).
        case deferred
        /// Only the directory and the name before `create` returns; the launch spec and the
        /// record are written by `recordLaunch` once the container's process exists, while it
        /// sets itself up. For a container removed at its end whose root is a directory (a
        /// foreground `run --rootfs`): it has no layers that a prune could take before its
        /// record exists, and its start does not pay for its files first.
        case atLaunch
    }

    /// Creates the container's directories, reserves its name (`record.name`, or a generated one
    /// when it is empty) and writes its launch spec and record. Returns the record as stored.
    /// A container removed at its end (`--rm`) is not written durably: a crash removes it anyway.
    public func create(_ record: ContainerRecord, launch: ContainerConfig,
                       sync: CreationSync = .immediate) throws -> ContainerRecord {
        var record = record
        if !record.name.isEmpty { try ContainerNames.check(record.name) }
        let dir = directory(of: record.id)
        let durable = sync == .immediate && !record.hostConfig.autoRemove
        // A spare's files are rewritten without durability: only for a creation that needs none.
        let reused = !durable && SpareRecordDirectories(store: self, layered: record.hasImage).claim(as: dir)
        guard reused || mkdir(dir, Self.directoryMode) == 0 else { throw ContainerError.system("cannot create \(dir)") }
        var done = false
        defer { if !done { try? TreeRemoval.remove(dir) } }
        // A --rootfs container runs in its directory: it has no layer of its own.
        for (sub, mode) in record.hasImage && !reused ? [("upper", Self.upperMode), ("work", Self.workMode)] : [] {
            guard mkdir(dir + "/" + sub, mode) == 0 else {
                throw ContainerError.system("cannot create \(dir)/\(sub)")
            }
        }
        record.name = try reserveName(record.name, for: record.id)
        do {
            if sync == .atLaunch {
                // Until `recordLaunch`, the young directory without a record is one being
                // created, which `removeIncomplete` and the name check leave alone.
            } else if !durable {
                try writeLaunchSpec(launch, durability: .none, reusing: dir + "/" + SpareRecordDirectories.launchSpare)
                try write(record, durable: false, reusing: dir + "/" + SpareRecordDirectories.recordSpare)
            } else {
                // The record's directory sync makes the launch spec's rename durable too.
                try writeLaunchSpec(launch, durability: .contents)
                try write(record, durable: true)
            }
        } catch {
            unlink(namesDirectory + "/" + record.name)
            throw error
        }
        done = true
        return record
    }

    /// Writes the launch spec and the record of a container created with `.atLaunch` sync,
    /// the record as it is now (running, with its pid), neither of them durably.
    /// In a reused directory the spares' blocks are written again (`SpareRecordDirectories`).
    public func recordLaunch(_ record: ContainerRecord, launch: ContainerConfig) throws {
        let dir = directory(of: record.id)
        try writeLaunchSpec(launch, durability: .none, reusing: dir + "/" + SpareRecordDirectories.launchSpare)
        try write(record, durable: false, reusing: dir + "/" + SpareRecordDirectories.recordSpare)
    }

    /// Makes a container created with `.deferred` sync durable, as `.immediate` would have: its
    /// launch spec and record fsync'd, then their directory. Nothing for a `--rm` container.
    public func makeDurable(_ record: ContainerRecord) throws {
        guard !record.hostConfig.autoRemove else { return }
        let dir = directory(of: record.id)
        for path in [launchSpecPath(of: record.id), dir + "/config.json", dir] {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ContainerError.system("cannot open \(path) to write it to disk") }
            defer { close(fd) }
            guard fsync(fd) == 0 else { throw ContainerError.system("cannot write \(path) to disk (fsync)") }
        }
    }

    func reserveName(_ requested: String, for id: String) throws -> String {
        if !requested.isEmpty {
            if try link(name: requested, to: id) { return requested }
            let holder = (try? find(requested))?.shortID ?? "another container"
            throw ContainerError(.conflict,
                                 "the container name \"\(requested)\" is already in use by \(holder): "
                                     + "remove that container (berth rm \(requested)) or choose another name")
        }
        for attempt in 0..<64 {
            // After many collisions (thousands of containers), a digit widens the space, as Docker does.
            let name = ContainerNames.generate() + (attempt < 8 ? "" : String(attempt))
            if try link(name: name, to: id) { return name }
        }
        throw ContainerError(.conflict, "cannot find a free container name; choose one with --name")
    }

    /// Creates the name's symlink; false when a live container has it. A link left by a crash
    /// (its container never got a record, or is gone) is taken over.
    func link(name: String, to id: String) throws -> Bool {
        let path = namesDirectory + "/" + name
        for _ in 0..<2 {
            if symlink(NameLinkTarget.target(of: id), path) == 0 { return true }
            guard errno == EEXIST else { throw ContainerError.system("cannot reserve the name \(name)") }
            guard let holder = readNameLink(path), isStale(holder) else { return false }
            unlink(path)
        }
        return false
    }

    /// A name link whose container has no record and is not being created right now.
    private func isStale(_ id: String) -> Bool {
        let dir = directory(of: id)
        if access(dir + "/config.json", F_OK) == 0 { return false }
        var st = stat()
        guard lstat(dir, &st) == 0 else { return true }
        return time(nil) - st.st_mtim.tv_sec > 60
    }

    // MARK: reading

    /// Every container with a record, oldest first.
    public func all() -> [ContainerRecord] {
        listDirectory(containersDirectory)
            .filter { !$0.hasPrefix(".") }
            .compactMap { try? load(id: $0) }
            .sorted { $0.created < $1.created }
    }

    public func load(id: String) throws -> ContainerRecord {
        let path = directory(of: id) + "/config.json"
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(path)
        } catch {
            if error.errno == ENOENT { throw ContainerError(.notFound, "no such container: \(id)") }
            throw ContainerError.system("cannot read \(path)", errno: error.errno)
        }
        do {
            return try ContainerRecord(json: try JSON.parse(bytes))
        } catch let error as ContainerError where error.code == .unsupported {
            throw error.context("container \(id.prefix(12))")
        } catch {
            throw ContainerError(.systemError, "the record of container \(id.prefix(12)) is damaged (\(path)): \(error)")
        }
    }

    /// Whether the container still has its record. Only a record known to be missing counts as
    /// gone: a record that cannot be read for another reason still names a container.
    public func exists(id: String) -> Bool {
        access(directory(of: id) + "/config.json", F_OK) == 0 || errno != ENOENT
    }

    /// The container `text` names: a name, a full id, or a unique prefix of an id (Docker's rule).
    public func find(_ text: String) throws -> ContainerRecord {
        let trimmed = text.hasPrefix("/") ? String(text.dropFirst()) : text
        let isHex = !trimmed.isEmpty && trimmed.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
        // Docker's order: a full id, then a name, then an id prefix, so that no name can take
        // over another container's id.
        if ContainerNames.looksLikeID(trimmed), let record = try? load(id: trimmed) { return record }
        if ContainerNames.isValid(trimmed), let id = readNameLink(namesDirectory + "/" + trimmed),
           let record = try? load(id: id), record.name == trimmed {
            return record
        }
        guard isHex else { throw ContainerError(.notFound, "no such container: \(text)") }
        let matches = listDirectory(containersDirectory).filter { $0.hasPrefix(trimmed) }
        if matches.count > 1 {
            throw ContainerError(.conflict, "container id prefix \(trimmed) matches \(matches.count) containers: give more of the id")
        }
        guard let id = matches.first, let record = try? load(id: id) else {
            throw ContainerError(.notFound, "no such container: \(text)")
        }
        return record
    }

    // MARK: changing

    /// Replaces the container's record atomically (a reader sees the old one or the new one).
    ///
    /// `durable` (fsync'd, with its directory) is for what makes the container: its creation and
    /// its settings. The changes of its state (running, its pid, its end, the restart counts) are
    /// written without: every reader checks that state against the kernel anyway, so a power cut
    /// can lose no more than the exit code of a run that had just ended, and a start or a run
    /// does not wait for the disk two more times.
    ///
    /// `reusing`: a spare file of the directory whose blocks take the record (`recordLaunch`),
    /// which makes it not durable.
    public func write(_ record: ContainerRecord, durable: Bool, reusing spare: String? = nil) throws {
        let path = directory(of: record.id) + "/config.json"
        let bytes = JSON.serialize(record.json)
        do {
            try AtomicFile.replace(path, with: bytes, mode: 0o600, durability: durable ? .full : .none, reusing: spare)
        } catch {
            // The directory is gone: the container was removed meanwhile.
            if error.errno == ENOENT { throw ContainerError(.notFound, "container \(record.shortID) was removed") }
            throw ContainerError.system("cannot write \(error.path) (\(error.call))", errno: error.errno)
        }
    }

    /// Marks the container as being stopped on purpose, so its monitor does not restart it.
    public func markStopping(_ id: String) {
        let fd = open(directory(of: id) + "/stopping", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
    }

    public func clearStopping(_ id: String) { unlink(directory(of: id) + "/stopping") }

    public func isStopping(_ id: String) -> Bool { access(directory(of: id) + "/stopping", F_OK) == 0 }

    /// The container's log (Docker's json-file format), written by its monitor.
    public func logPath(of id: String) -> String { directory(of: id) + "/container.log" }

    /// Removes the container's record and files, and frees its name. The directory is first
    /// renamed out of sight, so a crash midway leaves no half container in `ps`. Throws "no such
    /// container" when another command removed it first: only one removal reports success.
    public func remove(_ record: ContainerRecord) throws {
        let dir = directory(of: record.id)
        let doomed = containersDirectory + "/.removing-" + record.id
        // The directory is locked before it is renamed and until it is gone, so that a second
        // rm, or another command's removeIncomplete, waits or passes instead of walking the
        // same tree at once (and failing on entries this one removed).
        let lock = lockTree(dir, wait: true) ?? lockTree(doomed, wait: true)
        defer { if let lock { close(lock) } }
        let namePath = namesDirectory + "/" + record.name
        if SpareRecordDirectories(store: self, layered: record.hasImage).retire(dir) {
            if readNameLink(namePath) == record.id { unlink(namePath) }
            return
        }
        guard rename(dir, doomed) == 0 else {
            if errno == ENOENT { throw ContainerError(.notFound, "no such container: \(record.name)") }
            throw ContainerError.system("cannot remove container \(record.shortID)")
        }
        if readNameLink(namePath) == record.id { unlink(namePath) }
        try TreeRemoval.remove(doomed)
    }

    /// `remove` for a container that goes at its end (`--rm`): another command that removed it
    /// first has done the same job.
    public func removeIfPresent(_ record: ContainerRecord) throws {
        do {
            try remove(record)
        } catch let error as ContainerError where error.code == .notFound {}
    }

    /// A flock on the directory at `path`, waiting for it or not; nil when there is no such
    /// directory, or (not waiting) when another process holds it.
    private func lockTree(_ path: String, wait: Bool) -> Int32? {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            if errno == EINTR { continue }
            close(fd)
            return nil
        }
        return fd
    }

    /// Removes what interrupted commands left: containers renamed for removal, directories that
    /// never got a record (older than a minute: younger ones may be being created), name links
    /// to containers that do not exist, and the extra link a rename cut short left.
    public func removeIncomplete() {
        // The containers seen with a record: their names need no second look at the disk.
        var recorded: Set<String> = []
        for name in listDirectory(containersDirectory) {
            let path = containersDirectory + "/" + name
            if name.hasPrefix(".removing-") {
                // One an rm is removing right now is left to it.
                guard let lock = lockTree(path, wait: false) else { continue }
                try? TreeRemoval.remove(path)
                close(lock)
            } else if !name.hasPrefix(".") {
                if access(path + "/config.json", F_OK) == 0 {
                    recorded.insert(name)
                } else if isStale(name) {
                    try? TreeRemoval.remove(path)
                }
            }
        }
        var namesByID: [String: [String]] = [:]
        for name in listDirectory(namesDirectory) {
            guard let id = readNameLink(namesDirectory + "/" + name) else { continue }
            if !recorded.contains(id) && isStale(id) {
                unlink(namesDirectory + "/" + name)
            } else {
                namesByID[id, default: []].append(name)
            }
        }
        // A container has one name link; only a rename cut short leaves it a second. So only
        // those records are read, not every container's on every command.
        for (id, names) in namesByID where names.count > 1 {
            for name in names where isLeftOverName(name, of: id) { unlink(namesDirectory + "/" + name) }
        }
    }
}

/// The id a name's link names (`NameLinkTarget`); nil when there is no such link.
func readNameLink(_ path: String) -> String? { FileIO.readLink(path).map(NameLinkTarget.id(from:)) }

/// The names in a directory; none when it cannot be read (a store being set up).
func listDirectory(_ path: String) -> [String] { (try? Directory.names(atPath: path)) ?? [] }

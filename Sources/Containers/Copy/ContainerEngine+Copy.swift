import CSpawn
import FileSystem
import ImageStore
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// One end of a `berth cp` on the host's side.
public enum CopyEndpoint: Sendable, Equatable {
    /// A path on the host.
    case host(String)
    /// A tar stream (`-`): stdout from a container, stdin into one.
    case stream(Int32)
}

/// `berth cp`, with Docker's rules: a file onto a file or into a directory, a directory into a
/// directory or as a new one, `SRC/.` for a directory's contents, `-` for a tar stream. The files
/// travel as a tar (the form Docker's API uses): written from the container's merged view or a
/// host tree, unpacked by `TreeExtraction` relative to a directory fd. The lifecycle lock is held,
/// so an rm or a start waits for the copy.
extension ContainerEngine {
    /// Copies `path` out of the container to `destination`; `followLink` follows a link that
    /// `path` names (`-L`).
    public func copy(from record: ContainerRecord, path: String, to destination: CopyEndpoint, followLink: Bool) throws {
        let (lock, current) = try store.lockLifecycle(of: record)
        defer { lock.release() }
        try withFiles(of: current) { files in
            let request = CopyPath(path)
            try refuseTmpfs(files, ContainerFiles.components(request.bytes), path, in: current)
            let resolved: ContainerFiles.Resolved
            do throws(ContainerFiles.ResolutionFailure) {
                resolved = try files.resolve(request.bytes, followLast: followLink || request.wantsDirectory)
            } catch {
                throw notFound(path, in: current)
            }
            guard case .existing(let components, let st) = resolved else { throw notFound(path, in: current) }
            try refuseTmpfs(files, components, path, in: current)
            let isDirectory = st.st_mode & S_IFMT == S_IFDIR
            if request.wantsDirectory, !isDirectory {
                throw ContainerError(.invalidArgument, "\(path) in container \(current.name) is not a directory")
            }
            switch destination {
            case .stream(let fd):
                try writeTar(files, components, to: fd)
            case .host(let hostPath):
                let target = try HostTarget(hostPath, sourceIsDirectory: isDirectory, contents: request.contents,
                                            sourceName: request.name ?? components.last ?? [])
                try withTemporaryFile(of: current) { temporary in
                    try writeTar(files, components, to: temporary)
                    guard lseek(temporary, 0, SEEK_SET) == 0 else { throw ContainerError.system("cannot read back the copy's tar") }
                    // The root's tar has no top entry: its names go into the directory it becomes.
                    guard components.isEmpty else {
                        try target.withDirectory { directory in
                            try TreeExtraction(top: target.top, owner: .caller).extract(from: temporary, into: directory)
                        }
                        return
                    }
                    try target.withDirectoryMade { directory in
                        try TreeExtraction(top: .keep, owner: .caller).extract(from: temporary, into: directory)
                    }
                }
            }
        }
    }

    /// Copies `source` (a host path, or a tar on a stream) to `path` in the container. Without
    /// `keepOwnership` what is written belongs to the container's root, as Docker does it.
    public func copy(to record: ContainerRecord, path: String, from source: CopyEndpoint,
                     followLink: Bool, keepOwnership: Bool) throws {
        let (lock, current) = try store.lockLifecycle(of: record)
        defer { lock.release() }
        let userNamespace = current.hostConfig.userNamespace
        if userNamespace != nil, keepOwnership {
            throw ContainerError(.invalidArgument, "cp -a into a container with its own user namespace is not supported: "
                                 + "copy without -a (files belong to its root)")
        }
        let rootOwner = userNamespace.map { (uid: $0.hostUID(of: 0), gid: $0.hostGID(of: 0)) } ?? (uid: 0, gid: 0)
        let owner: TreeExtraction.Owner = keepOwnership ? .archive : .fixed(uid: rootOwner.uid, gid: rootOwner.gid)
        let prefix = userNamespace == nil ? "trusted.overlay." : ImageStore.userNamespaceXattrPrefix
        try withFiles(of: current) { files in
            let request = CopyPath(path)
            try refuseTmpfs(files, ContainerFiles.components(request.bytes), path, in: current)
            let resolved: ContainerFiles.Resolved
            do throws(ContainerFiles.ResolutionFailure) {
                resolved = try files.resolve(request.bytes, followLast: true)
            } catch {
                if case .noDirectory(let prefix) = error {
                    throw notFound(ContainerFiles.text(prefix), in: current)
                }
                throw notFound(path, in: current)
            }
            let host: HostSource?
            if case .host(let hostPath) = source { host = try HostSource(hostPath, followLink: followLink) } else { host = nil }
            // The directory the tar is unpacked into, and what becomes of its first component.
            let directory: [[UInt8]]
            let top: TreeExtraction.Top
            switch resolved {
            case .existing(let components, let st):
                let isDirectory = st.st_mode & S_IFMT == S_IFDIR
                guard let host else {
                    guard isDirectory else {
                        throw ContainerError(.invalidArgument, "\(path) in container \(current.name) is not a directory: "
                                             + "a tar stream is unpacked into a directory")
                    }
                    directory = components
                    top = .keep
                    break
                }
                if isDirectory {
                    directory = components
                    top = host.isDirectory && host.contents ? .contents : .rename(host.name)
                } else {
                    guard !host.isDirectory else {
                        throw ContainerError(.invalidArgument, "cannot copy a directory to the file \(path) in container \(current.name)")
                    }
                    directory = Array(components.dropLast())
                    top = .rename(components.last ?? host.name)
                }
            case .missing(let parent, let name):
                guard let host else { throw notFound(path, in: current) }
                if request.wantsDirectory, !host.isDirectory {
                    throw ContainerError(.invalidArgument, "the destination directory \(path) does not exist in container "
                                         + "\(current.name): make it first, or name a file")
                }
                directory = parent
                top = .rename(name)
            }
            try refuseTmpfs(files, directory, path, in: current)
            try withDirectory(files, directory, in: current) { fd in
                let extraction = TreeExtraction(top: top, owner: owner, overlayXattrPrefix: prefix)
                guard let host else {
                    guard case .stream(let input) = source else { return }
                    try extraction.extract(from: input, into: fd)
                    return
                }
                try withTemporaryFile(of: current) { temporary in
                    try MergedTreeExport.write(layers: [MergedTreeExport.Layer(directory: host.parent)], at: [host.realName],
                                               to: temporary)
                    guard lseek(temporary, 0, SEEK_SET) == 0 else { throw ContainerError.system("cannot read back the copy's tar") }
                    try extraction.extract(from: temporary, into: fd)
                }
            }
        }
    }

    private func refuseTmpfs(_ files: ContainerFiles, _ components: [[UInt8]], _ path: String,
                             in record: ContainerRecord) throws {
        guard let mount = files.tmpfs(holding: components) else { return }
        throw ContainerError(.unsupported, "\(path) is on the tmpfs at \(mount.destination) of container \(record.name), "
                             + "which holds nothing while the container is stopped: start it first")
    }

    private func notFound(_ path: String, in record: ContainerRecord) -> ContainerError {
        ContainerError(.notFound, "Could not find the file \(path) in container \(record.name)")
    }

    /// The container's files for the length of `body`: a running container's through its init's
    /// root, checked to still be that process's after the open.
    private func withFiles<T>(of record: ContainerRecord, _ body: (ContainerFiles) throws -> T) throws -> T {
        if isRunning(record), record.state.pid > 0 {
            let pidfd = try openInit(record)
            defer { close(pidfd) }
            let rootFD = open("/proc/\(record.state.pid)/root", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard rootFD >= 0 else { throw ContainerError.system("cannot open container \(record.name)'s root") }
            defer { close(rootFD) }
            guard berth_pidfd_send_signal(pidfd, 0) == 0 else {
                throw ContainerError(.invalidState, "container \(record.name) ended while its files were opened: try again")
            }
            return try body(ContainerFiles(root: .directory("/proc/\(record.state.pid)/root", fd: rootFD), mounts: []))
        }
        let mounts = record.mounts
        if let rootfs = record.rootfs { return try body(ContainerFiles(root: .directory(rootfs, fd: nil), mounts: mounts)) }
        let lower = try images().resolve(record.imageManifest) { $0.layerDirectories }
        let userNamespace = record.hostConfig.userNamespace
        let upper = MergedTreeExport.Layer(
            directory: store.upperDirectory(of: record.id),
            overlayXattrPrefix: userNamespace == nil ? "trusted.overlay." : ImageStore.userNamespaceXattrPrefix,
            ownerMap: userNamespace?.layerOwnerMap)
        return try body(ContainerFiles(root: .layers(upper: upper, lower: lower), mounts: mounts))
    }

    /// The tar of what the container shows at `components` (resolved, no link among them).
    private func writeTar(_ files: ContainerFiles, _ components: [[UInt8]], to output: Int32) throws {
        switch files.place(components) {
        case .directory(let path, let fd, let below):
            var rootFD = fd ?? -1
            if fd == nil {
                rootFD = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                guard rootFD >= 0 else { throw ContainerError.system("cannot open \(path)") }
            }
            defer { if fd == nil { close(rootFD) } }
            try MergedTreeExport.write(layers: [MergedTreeExport.Layer(directory: path, descriptor: rootFD)], at: below, to: output)
        case .layers(let below):
            guard case .layers(let upper, let lower) = files.root else { return }
            try MergedTreeExport.write(layers: [upper] + lower.map { MergedTreeExport.Layer(directory: $0) }, at: below, to: output)
        }
    }

    /// Calls `body` with an fd of the container's directory `components` (resolved, existing)
    /// where writes go: through the running container's root, in a volume's or bind's source, or
    /// in the upper dir, after copying up the image's directories on the way there (with their
    /// modes and owners) so that overlay merges them as before.
    private func withDirectory(_ files: ContainerFiles, _ components: [[UInt8]], in record: ContainerRecord,
                               _ body: (Int32) throws -> Void) throws {
        let fd: Int32
        switch files.place(components) {
        case .directory(let path, let rootFD, let below):
            let root = rootFD.map { "/proc/self/fd/\($0)" } ?? path
            fd = berth_open_in_root(root, ContainerFiles.text(below), O_RDONLY | O_DIRECTORY)
        case .layers(let below):
            guard case .layers(let upper, _) = files.root else { return }
            try copyUpDirectories(files, below, upper: upper.directory, ownerMap: record.hostConfig.userNamespace)
            fd = berth_open_in_root(upper.directory, ContainerFiles.text(below), O_RDONLY | O_DIRECTORY)
        }
        guard fd >= 0 else {
            throw ContainerError.system("cannot open \(ContainerFiles.text(components)) in container \(record.name)")
        }
        defer { close(fd) }
        try body(fd)
    }

    private func copyUpDirectories(_ files: ContainerFiles, _ components: [[UInt8]], upper: String,
                                   ownerMap: UserNamespace?) throws {
        for depth in 0..<components.count {
            let prefix = Array(components[0...depth])
            let display = ContainerFiles.text(prefix)
            let made = ContainerFiles.inDirectory(upper, nil, prefix) { parent, name -> Bool? in
                guard let name else { return false }
                var st = stat()
                if fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { return false }
                guard errno == ENOENT, let merged = files.status(prefix) else { return nil }
                guard mkdirat(parent, name, merged.st_mode & 0o7777) == 0 else { return nil }
                let uid = ownerMap?.hostUID(of: merged.st_uid) ?? merged.st_uid
                let gid = ownerMap?.hostGID(of: merged.st_gid) ?? merged.st_gid
                guard fchownat(parent, name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0,
                      fchmodat(parent, name, merged.st_mode & 0o7777, 0) == 0 else { return nil }
                return true
            }
            guard case .some(.some) = made else { throw ContainerError.system("cannot copy up the directory \(display) into the container's layer") }
        }
    }

    /// An unlinked file in the container's directory for the tar between the two sides.
    private func withTemporaryFile(of record: ContainerRecord, _ body: (Int32) throws -> Void) throws {
        var template = Array((store.directory(of: record.id) + "/.cp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemp(base)
        }
        guard fd >= 0, fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else { throw ContainerError.system("cannot create the copy's temporary file") }
        template.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { _ = unlink(base) }
        }
        defer { close(fd) }
        try body(fd)
    }
}

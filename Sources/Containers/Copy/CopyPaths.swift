import ImageStore
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// A container path as `cp` was given it: what its spelling asks for beyond the path itself.
struct CopyPath {
    let bytes: [UInt8]
    /// Ends with "/" or "/.": it must be a directory (and a link it names is followed).
    let wantsDirectory: Bool
    /// Ends with "/.": a directory's contents, not the directory.
    let contents: Bool
    /// The last component as written (a link's own name under -L), nil for the root.
    let name: [UInt8]?

    init(_ path: String) {
        bytes = Array(path.utf8)
        contents = path.hasSuffix("/.") || path == "."
        wantsDirectory = contents || path.hasSuffix("/")
        name = ContainerFiles.components(bytes).last
    }
}

/// A host path copied into a container: its parent as the walk's root (links resolved by the
/// host, which is trusted) and the name it gets there.
struct HostSource {
    let parent: String
    /// The name in `parent` (the link's target's name under -L).
    let realName: [UInt8]
    /// The name as given, which the copy gets.
    let name: [UInt8]
    let isDirectory: Bool
    let contents: Bool

    init(_ path: String, followLink: Bool) throws {
        let request = CopyPath(path)
        guard let given = request.name else {
            throw ContainerError(.invalidArgument, "cannot copy the host's root directory into a container: name a directory below it")
        }
        var st = stat()
        let found = followLink || request.wantsDirectory ? stat(path, &st) : lstat(path, &st)
        guard found == 0 else { throw ContainerError.system("cannot copy \(path)") }
        isDirectory = st.st_mode & S_IFMT == S_IFDIR
        if request.wantsDirectory, !isDirectory { throw ContainerError(.invalidArgument, "\(path) is not a directory") }
        contents = request.contents
        name = given
        let named = followLink || request.wantsDirectory ? path : Self.parentPath(path)
        guard let resolved = realpath(named, nil) else { throw ContainerError.system("cannot resolve \(path)") }
        defer { free(resolved) }
        let real = String(cString: resolved)
        if followLink || request.wantsDirectory {
            guard real != "/" else {
                throw ContainerError(.invalidArgument, "cannot copy the host's root directory into a container: name a directory below it")
            }
            let cut = real.lastIndex(of: "/") ?? real.startIndex
            parent = cut == real.startIndex ? "/" : String(real[..<cut])
            realName = Array(real[real.index(after: cut)...].utf8)
        } else {
            parent = real
            realName = given
        }
    }

    /// The directory `path` is in, as written (".." left to realpath).
    private static func parentPath(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }
}

/// Where a copy out of a container goes on the host, by Docker's rules: into an existing
/// directory, over an existing file, or as a new file or directory in an existing parent.
struct HostTarget {
    /// The directory the tar is unpacked into.
    let directory: String
    let top: TreeExtraction.Top

    init(_ path: String, sourceIsDirectory: Bool, contents: Bool, sourceName: [UInt8]) throws {
        let request = CopyPath(path)
        var st = stat()
        if stat(path, &st) == 0 {
            if st.st_mode & S_IFMT == S_IFDIR {
                directory = path
                top = sourceIsDirectory && contents ? .contents : .rename(sourceName)
                return
            }
            guard !sourceIsDirectory else { throw ContainerError(.invalidArgument, "cannot copy a directory to the file \(path)") }
            guard let name = request.name else { throw ContainerError(.invalidArgument, "\(path) is not a directory") }
            directory = HostSource.parentDirectory(path)
            top = .rename(name)
            return
        }
        guard errno == ENOENT, let name = request.name else { throw ContainerError.system("cannot copy to \(path)") }
        if request.wantsDirectory, !sourceIsDirectory {
            throw ContainerError(.invalidArgument, "the destination directory \(path) does not exist: make it first, or name a file")
        }
        directory = HostSource.parentDirectory(path)
        var parent = stat()
        guard stat(directory, &parent) == 0, parent.st_mode & S_IFMT == S_IFDIR else {
            throw ContainerError(.notFound, "the destination's directory \(directory) does not exist: make it first")
        }
        top = .rename(name)
    }

    /// For a tar without a top entry (a container's root): the directory the top would have
    /// been, made if missing.
    func withDirectoryMade(_ body: (Int32) throws -> Void) throws {
        guard case .rename(let name) = top else { return try withDirectory(body) }
        let made = directory + "/" + String(decoding: name, as: UTF8.self)
        guard mkdir(made, 0o755) == 0 || errno == EEXIST else { throw ContainerError.system("cannot create \(made)") }
        try HostTarget(directory: made, top: .keep).withDirectory(body)
    }

    private init(directory: String, top: TreeExtraction.Top) {
        self.directory = directory
        self.top = top
    }

    func withDirectory(_ body: (Int32) throws -> Void) throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ContainerError.system("cannot open \(directory)") }
        defer { close(fd) }
        try body(fd)
    }
}

extension HostSource {
    static func parentDirectory(_ path: String) -> String { parentPath(path) }
}

extension UserNamespace {
    /// The host's id of the container's `id` (the overflow id when unmapped).
    func hostUID(of id: UInt32) -> UInt32 { Self.host(id, uidMappings) }
    func hostGID(of id: UInt32) -> UInt32 { Self.host(id, gidMappings) }

    private static func host(_ id: UInt32, _ mappings: [IDMapping]) -> UInt32 {
        guard let m = mappings.first(where: { id >= $0.containerID && UInt64(id) < UInt64($0.containerID) + UInt64($0.size) }) else {
            return 65534
        }
        return m.hostID + (id - m.containerID)
    }
}

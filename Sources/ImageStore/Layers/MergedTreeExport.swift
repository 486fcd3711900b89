#if canImport(Glibc)
import Glibc
#endif

/// Writes what a stack of overlay layer directories shows — a container's root as its overlay
/// mount presents it — as one plain tar (`berth export`), without mounting anything: each path
/// comes from the topmost layer that has it (overlay's lookup rule, as `OverlayLookup`), a
/// whiteout hides the path in the layers below, an opaque directory hides what they hold under
/// it, and none of overlay's own marks are written.
public enum MergedTreeExport {
    /// One layer directory, in overlay's on-disk form.
    public struct Layer: Sendable {
        public let directory: String
        /// Where overlay keeps its marks there: "trusted.overlay.", or "user.overlay." for the
        /// upper dir of a container with its own user namespace.
        public let overlayXattrPrefix: String
        /// That container's upper dir is owned by host ids: written as the container's.
        public let ownerMap: LayerOwnerMap?
        /// The directory already open (a running container's root through /proc): the walk
        /// starts from a copy of this fd instead of opening `directory`, which only names it.
        public let descriptor: Int32?

        public init(directory: String, overlayXattrPrefix: String = "trusted.overlay.", ownerMap: LayerOwnerMap? = nil,
                    descriptor: Int32? = nil) {
            self.directory = directory
            self.overlayXattrPrefix = overlayXattrPrefix
            self.ownerMap = ownerMap
            self.descriptor = descriptor
        }
    }

    /// Writes the merged tree of `layers` (topmost first) to `output` (not closed); returns the
    /// number of entries. The files are read as they are: a container that runs meanwhile gives
    /// some state each file had.
    @discardableResult
    public static func write(layers: [Layer], to output: Int32) throws(LayerError) -> Int {
        try write(layers: layers, at: [], to: output)
    }

    /// The tar of what the merged tree shows at `path` (components below the root, each parent a
    /// directory in the merged view; `berth cp`): the entry is named by its last component, a
    /// directory's contents below it. No component is followed as a link: the caller resolves
    /// links inside the container's root first. An empty `path` is the whole tree, as `write`.
    @discardableResult
    public static func write(layers: [Layer], at path: [[UInt8]], to output: Int32) throws(LayerError) -> Int {
        let writer = try LayerTarWriter(fd: output, compression: .none, level: nil, observer: LayerStreamObserver())
        let walk = UpperDirWalk(writer: writer, overlayXattrPrefix: layers.first?.overlayXattrPrefix ?? "trusted.overlay.")
        var roots: [(layer: Int, fd: Int32)] = []
        defer { for root in roots { close(root.fd) } }
        for (index, layer) in layers.enumerated() {
            let fd = layer.descriptor.map { fcntl($0, F_DUPFD_CLOEXEC, 0) } ?? open(layer.directory, LayerFS.directoryFlags)
            guard fd >= 0 else { throw LayerError.system("open layer directory \(layer.directory)", entry: nil) }
            roots.append((index, fd))
            walk.prefix = layer.overlayXattrPrefix
            // An opaque root hides every layer below it.
            if try walk.readXattrs(.descriptor(fd), entry: "/").opaque { break }
        }
        let merged = MergedWalk(walk: walk, layers: layers)
        if let name = path.last {
            var parents = roots
            var opened: [Int32] = []
            defer { for fd in opened { close(fd) } }
            for component in path.dropLast() {
                parents = try merged.shown(component, in: parents)
                opened += parents.map(\.fd)
                guard !parents.isEmpty else {
                    throw LayerError(.systemError, entry: walk.show(path), "no such directory in the merged tree", errno: ENOENT)
                }
            }
            try merged.entry(name, [], parents)
            guard walk.entries > 0 else {
                throw LayerError(.systemError, entry: walk.show(path), "no such file in the merged tree", errno: ENOENT)
            }
        } else {
            try merged.directory(roots, [])
        }
        try writer.close()
        return walk.entries
    }
}

/// The walk of `MergedTreeExport`: a directory's names are the union of its names in the layers
/// that show it, and each name is written from the topmost of them (through `UpperDirWalk`'s
/// entry writer, set to that layer's xattr prefix and owner map).
private struct MergedWalk {
    let walk: UpperDirWalk
    let layers: [MergedTreeExport.Layer]

    /// `directories`: the directory at `parent` in each layer that shows it, topmost first.
    func directory(_ directories: [(layer: Int, fd: Int32)], _ parent: [[UInt8]]) throws(LayerError) {
        let display = parent.isEmpty ? "/" : walk.show(parent)
        var names: [[UInt8]] = []
        var seen = Set<[UInt8]>()
        for directory in directories {
            for name in try DirectoryListing.names(directory.fd, entry: display) where seen.insert(name).inserted {
                names.append(name)
            }
        }
        names.sort { $0.lexicographicallyPrecedes($1) }
        for name in names { try entry(name, parent, directories) }
    }

    private func use(_ layer: Int) {
        walk.prefix = layers[layer].overlayXattrPrefix
        walk.ownerMap = layers[layer].ownerMap
    }

    /// The directory `name` in each of `directories` (one directory of the merged view, topmost
    /// first) that the merged view shows, opened without following links; empty when the merged
    /// view has no directory there. The caller closes the fds.
    func shown(_ name: [UInt8], in directories: [(layer: Int, fd: Int32)]) throws(LayerError) -> [(layer: Int, fd: Int32)] {
        var shown: [(layer: Int, fd: Int32)] = []
        var complete = false
        defer { if !complete { for opened in shown { close(opened.fd) } } }
        for directory in directories {
            guard let st = LayerFS.lstatAt(directory.fd, name) else {
                if errno == ENOENT { continue }
                throw LayerError.system("stat", entry: walk.show([name]))
            }
            guard LayerFS.fileType(st.st_mode) == S_IFDIR else { break }
            let fd = LayerFS.withCName(name) { openat(directory.fd, $0, LayerFS.directoryFlags) }
            guard fd >= 0 else { throw LayerError.system("open directory", entry: walk.show([name])) }
            shown.append((directory.layer, fd))
            use(directory.layer)
            if try walk.readXattrs(.descriptor(fd), entry: walk.show([name])).opaque { break }
        }
        complete = true
        return shown
    }

    func entry(_ name: [UInt8], _ parent: [[UInt8]], _ directories: [(layer: Int, fd: Int32)]) throws(LayerError) {
        let path = parent + [name]
        var shown: [(layer: Int, fd: Int32)] = []
        defer { for directory in shown { close(directory.fd) } }
        for directory in directories {
            guard let st = LayerFS.lstatAt(directory.fd, name) else {
                if errno == ENOENT { continue }
                throw LayerError.system("stat", entry: walk.show(path))
            }
            let type = LayerFS.fileType(st.st_mode)
            // A whiteout: deleted here, so hidden in every layer below.
            if type == S_IFCHR, st.st_rdev == 0 { break }
            if shown.isEmpty, type != S_IFDIR {
                use(directory.layer)
                try walk.entry(directory.fd, path)
                return
            }
            // Below a directory, a lower layer's file at the same path is hidden by it.
            guard type == S_IFDIR else { break }
            let fd = LayerFS.withCName(name) { openat(directory.fd, $0, LayerFS.directoryFlags) }
            guard fd >= 0 else { throw LayerError.system("open directory", entry: walk.show(path)) }
            shown.append((directory.layer, fd))
            use(directory.layer)
            let xattrs = try walk.readXattrs(.descriptor(fd), entry: walk.show(path))
            if shown.count == 1 { try walk.write(path, st, xattrs: xattrs.kept) }
            if xattrs.opaque { break }
        }
        if !shown.isEmpty { try directory(shown, path) }
    }
}

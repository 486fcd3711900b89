#if canImport(Glibc)
import Glibc
#endif

/// Unpacks a plain tar of files into a directory that already holds a tree (`berth cp`): a
/// container's upper dir or mounted root, or a host directory. The entries are created the way
/// `LayerExtraction` creates a layer's (every parent opened without following a link, relative to
/// `directory`), with the tar's first component renamed as `cp`'s rules ask; a name overlay
/// reserves (`.wh.*`) is refused rather than read as a whiteout.
public struct TreeExtraction: Sendable {
    /// What becomes of the tar's first path component.
    public enum Top: Sendable, Equatable {
        /// Written as it is, below `directory`.
        case keep
        /// Written under this name instead.
        case rename([UInt8])
        /// Left out: what is below it goes straight into `directory` (`cp SRC/. DEST`).
        case contents
    }

    /// Who owns what is written.
    public enum Owner: Sendable, Equatable {
        /// Whoever runs berth (Docker's copy to the host).
        case caller
        /// The tar's numeric ids (`cp -a`).
        case archive
        /// These ids for every entry (a copy into a container without `-a`: its root).
        case fixed(uid: UInt32, gid: UInt32)
    }

    public let top: Top
    public let owner: Owner
    /// Where an opaque directory is marked, when one replaces a whiteout of an upper dir.
    public let overlayXattrPrefix: String

    public init(top: Top, owner: Owner, overlayXattrPrefix: String = "trusted.overlay.") {
        self.top = top
        self.owner = owner
        self.overlayXattrPrefix = overlayXattrPrefix
    }

    /// Reads a tar from `input` (to its end) into the directory open as `directory` (not closed);
    /// returns the number of entries written. On error what was written so far stays, as with
    /// Docker's cp.
    @discardableResult
    public func extract(from input: Int32, into directory: Int32) throws(LayerError) -> Int {
        let reader = try LayerTarReader(fd: input, observer: LayerStreamObserver())
        // A device node from a container is not made on the host: whoever can write into a
        // container would otherwise plant a door to the host's disks in a host directory.
        let options = LayerUnpacker.Options(allowDevices: owner != .caller, preserveOwnership: owner != .caller,
                                            overlayXattrPrefix: overlayXattrPrefix)
        let extraction = LayerExtraction(rootFD: directory, options: options, reader: reader)
        var entries = 0
        while let entry = try reader.nextEntry() {
            var header = TarEntryHeader(entry)
            let path = try LayerPath.parse(header.path)
            if let reserved = path.components.first(where: { $0.starts(with: Array(".wh.".utf8)) }) {
                throw LayerError(.unsafePath, entry: path.display,
                                 "the name \"\(String(decoding: reserved, as: UTF8.self))\" is reserved by overlayfs: rename it before copying")
            }
            guard let components = renamed(path.components) else { continue }
            header.path = LayerPath.join(components)
            if case .fixed(let uid, let gid) = owner {
                header.uid = Int64(uid)
                header.gid = Int64(gid)
            }
            if header.hardlinkTarget?.isEmpty == false, let target = header.hardlinkTarget {
                let parsed = try LayerPath.parse(target)
                guard let linked = renamed(parsed.components), !linked.isEmpty else {
                    throw LayerError(.badArchive, entry: path.display, "hardlink to the copied directory itself")
                }
                header.hardlinkTarget = LayerPath.join(linked)
            }
            // The directory the copy goes into keeps its own mode and owner.
            if components.isEmpty { continue }
            try extraction.apply(header)
            entries += 1
        }
        try reader.finish()
        try extraction.finish()
        return entries
    }

    /// The entry's components once the first is renamed; nil for the left-out top itself.
    private func renamed(_ components: [[UInt8]]) -> [[UInt8]]? {
        guard !components.isEmpty else { return top == .contents ? nil : [] }
        switch top {
        case .keep: return components
        case .rename(let name): return [name] + components.dropFirst()
        case .contents: return components.count == 1 ? nil : Array(components.dropFirst())
        }
    }
}

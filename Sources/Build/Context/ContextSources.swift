import FileSystem
import ImageStore
#if canImport(Glibc)
import Glibc
#endif

/// The files of the build context a COPY or ADD names: its sources matched (globs, one name at
/// a time) and checked to stay inside the context and outside `.dockerignore`, the digest of
/// what they hold (names, types, modes, owners, bytes, link targets; not times) for the cache,
/// and their copy into a layer directory. Links in the context are copied as links and never
/// followed.
public struct ContextSources: Sendable {
    public let root: String
    public let ignore: DockerIgnore

    public init(root: String, ignore: DockerIgnore) {
        self.root = root
        self.ignore = ignore
    }

    /// The context-relative paths `sources` name ("" is the context's root).
    public func resolve(_ sources: [String]) throws -> [String] {
        var found: [String] = []
        for source in sources {
            guard Self.staysInside(source) else {
                throw BuildError(.invalidArgument, "\(source) is outside the build context: COPY and ADD read only the context")
            }
            let clean = ContextPath.clean(source)
            if ContextPath.hasGlob(clean) {
                let matches = glob(clean.split(separator: "/").map(String.init)[...], under: "")
                found += matches.filter { !ignore.excludes($0) }
                continue
            }
            // A link on the way would lead out of the context: links are copied, never followed.
            let parts = clean.split(separator: "/")
            for depth in parts.indices.dropLast() {
                let parent = parts[...depth].joined(separator: "/")
                var st = stat()
                if lstat(path(parent), &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK {
                    throw BuildError(.invalidArgument, "\(source) goes through the link \(parent) of the build context, which is "
                                     + "never followed: name the link's target in the context instead")
                }
            }
            var st = stat()
            guard lstat(path(clean), &st) == 0, clean.isEmpty || !ignore.excludes(clean) else {
                throw BuildError(.notFound, "\(source) is not in the build context (or .dockerignore excludes it)")
            }
            found.append(clean)
        }
        guard !found.isEmpty else {
            throw BuildError(.notFound, "no source files were specified: \(sources.joined(separator: " ")) matches nothing in the build context")
        }
        return found
    }

    /// Whether a relative path's `..` never climb above where it starts.
    static func staysInside(_ path: String) -> Bool {
        var depth = 0
        for part in path.split(separator: "/") where part != "." {
            depth += part == ".." ? -1 : 1
            if depth < 0 { return false }
        }
        return true
    }

    func path(_ relative: String) -> String { relative.isEmpty ? root : root + "/" + relative }

    private func glob(_ pattern: ArraySlice<String>, under directory: String) -> [String] {
        guard let first = pattern.first else { return [directory] }
        let names = (try? Directory.names(atPath: path(directory))) ?? []
        var matches: [String] = []
        for name in names where ContextPath.matches(first, name) {
            let relative = directory.isEmpty ? name : directory + "/" + name
            if pattern.count == 1 {
                matches.append(relative)
                continue
            }
            var st = stat()
            if lstat(path(relative), &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                matches += glob(pattern.dropFirst(), under: relative)
            }
        }
        return matches
    }

    /// Every path at or below `relative` that the context gives (not excluded), parents first.
    public func walk(_ relative: String) -> [String] {
        var result: [String] = []
        var pending = [relative]
        var budget = 10_000_000
        while let next = pending.popLast(), budget > 0 {
            budget -= 1
            if !next.isEmpty, next != relative, ignore.excludes(next) {
                var st = stat()
                if lstat(path(next), &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, !ignore.prunes(next) {
                    pending += children(of: next).reversed()
                }
                continue
            }
            result.append(next)
            pending += children(of: next).reversed()
        }
        return result
    }

    private func children(of relative: String) -> [String] {
        var st = stat()
        guard lstat(path(relative), &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return [] }
        return ((try? Directory.names(atPath: path(relative))) ?? []).map { relative.isEmpty ? $0 : relative + "/" + $0 }
    }

    /// The digest of what copying `sources` reads: each path below them, its type, mode,
    /// owner, size, bytes or link target.
    public func digest(_ sources: [String]) throws -> Digest {
        var digester = Digester()
        for source in sources {
            for relative in walk(source) {
                let full = path(relative)
                var st = stat()
                guard lstat(full, &st) == 0 else { throw BuildError.system("cannot read \(full) of the build context") }
                let meta = "\(relative)\0\(st.st_mode)\0\(st.st_uid)\0\(st.st_gid)\0\(st.st_size)\0"
                digester.update(Array(meta.utf8))
                switch st.st_mode & S_IFMT {
                case S_IFREG: try hashFile(full, into: &digester)
                case S_IFLNK: digester.update(Array((FileIO.readLink(full) ?? "").utf8))
                default: break
                }
            }
        }
        return digester.finalize()
    }

    private func hashFile(_ path: String, into digester: inout Digester) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw BuildError.system("cannot open \(path) of the build context") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw BuildError.system("cannot read \(path) of the build context") }
            if n == 0 { return }
            buffer.withUnsafeBytes { digester.update(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        }
    }
}

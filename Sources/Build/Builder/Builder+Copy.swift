import FileSystem
import ImageStore
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// COPY and ADD: the sources (context files, heredocs, or a path of another stage or image
/// with `--from`) placed at their destination in a new directory that becomes the step's
/// layer. Parent directories the image has keep its owner and mode there; new ones are root's,
/// 0755. ADD unpacks a local tar archive (plain, gzip, bzip2, xz, zstd) into the destination.
extension Builder {
    mutating func copy(_ instruction: Instruction, state: inout StageState) throws {
        let isAdd = instruction.name == "ADD"
        let expansion = WordExpansion(variables: state.variables, escape: request.dockerfile.escape)
        var words = try instruction.json ?? expansion.words(instruction.text)
        guard words.count >= 2, let rawDestination = words.popLast() else {
            throw BuildError(.invalidArgument, "requires at least two arguments, a source and a destination")
        }
        let heredocNames = Set(instruction.heredocs.map(\.name))
        let heredocs = instruction.heredocs
        var sources = words.filter { word in !(word.hasPrefix("<<") && heredocNames.contains(Self.heredocName(word))) }
        let urls = sources.filter(Self.isURL)
        sources.removeAll(where: Self.isURL)
        if let url = urls.first {
            guard isAdd else { throw BuildError(.invalidArgument, "cannot fetch \(url): use ADD for a URL") }
            if let git = urls.first(where: Self.isGitURL) {
                throw BuildError(.unsupported, "\(git) is a git repository, which berth does not clone: clone it into the context and COPY it")
            }
        }
        let checksum = try instruction.flag("checksum").map { text in
            guard let digest = Digest(try expansion.word(text)) else {
                throw BuildError(.invalidArgument, "--checksum=\(text) is not a digest such as sha256:<64 hex digits>")
            }
            guard urls.count == 1, sources.isEmpty else {
                throw BuildError(.invalidArgument, "--checksum needs exactly one source, and that an http(s) URL")
            }
            return digest
        }
        let chownText = try instruction.flag("chown").map { try expansion.word($0) }
        let chmod = try instruction.flag("chmod").map { text -> mode_t in
            guard let mode = mode_t(try expansion.word(text), radix: 8), mode <= 0o7777 else {
                throw BuildError(.invalidArgument, "--chmod=\(text) is not an octal mode such as 755")
            }
            return mode
        }
        let from = try instruction.flag("from").map { try expansion.word($0) }
        let workdir = state.execution.workingDir ?? "/"
        let destination = rawDestination.hasPrefix("/") ? rawDestination : (workdir.hasSuffix("/") ? workdir : workdir + "/") + rawDestination

        // What the step reads, for its cache key.
        var described = [instruction.name, chownText ?? "", chmod.map { String($0, radix: 8) } ?? "", destination]
        var copySource: CopySource
        if let from {
            let (manifest, layers) = try sourceImage(from)
            described += ["from=" + manifest.description] + sources
            copySource = .image(layers)
        } else if !sources.isEmpty {
            guard let root = request.context else {
                throw BuildError(.invalidArgument, "has no build context to read \(sources.joined(separator: " ")) from: the Dockerfile "
                                 + "came from stdin; give a context directory")
            }
            let context = ContextSources(root: root, ignore: try contextIgnore(root))
            sources = try context.resolve(sources)
            described += sources + [try context.digest(sources).description]
            copySource = .context(context)
        } else {
            copySource = .none
        }
        // Downloaded before the cache is asked: their content is part of the key, as Docker's.
        let downloads = urls.isEmpty ? nil : try URLSources.fetch(urls, into: try images.makeTemporaryDirectory("download"),
                                                                  checksum: checksum, progress: progress)
        defer { downloads.map { try? FileTree.remove($0.directory) } }
        if let downloads { described += downloads.files.flatMap { ["url=" + $0.url, $0.file.digest.description] } }
        // Counted once globs are matched: one file matched by a glob may go to a file's path.
        let many = sources.count + heredocs.count + urls.count > 1
        if many, !destination.hasSuffix("/") {
            throw BuildError(.invalidArgument, "with more than one source file, the destination must be a directory and end with a /")
        }
        for heredoc in heredocs {
            let body = heredoc.expands ? try expansion.document(heredoc.body) : heredoc.body
            described += ["<<" + heredoc.name, body]
        }
        let createdBy = "\(instruction.name) " + (from.map { "--from=\($0) " } ?? "") + (chownText.map { "--chown=\($0) " } ?? "")
            + (words + [rawDestination]).joined(separator: " ")
        let key = BuildCache.key(parent: state.manifest, described)
        if try useCache(key, state: &state) { return }

        let layers = try state.manifest.map { try images.resolve($0.hex).layerDirectories } ?? []
        let owner = try chownText.map { spec -> (uid: UInt32, gid: UInt32) in
            let user = try UserSpec.resolve(spec, roots: layers)
            return (user.uid, user.gid)
        } ?? (0, 0)
        let staging = try images.makeTemporaryDirectory("build")
        defer { try? FileTree.remove(staging) }
        let layer = staging + "/layer"
        guard mkdir(layer, 0o755) == 0 else { throw BuildError.system("cannot make \(layer)") }
        let target = StagingTarget(layer: layer, lookup: OverlayLookup(layers: layers))
        let copier = TreeCopy(owner: owner, mode: chmod)

        switch copySource {
        case .none:
            break
        case .context(let context):
            for source in sources {
                let full = context.path(source)
                var st = stat()
                guard lstat(full, &st) == 0 else { throw BuildError.system("cannot read \(full)") }
                if (st.st_mode & S_IFMT) == S_IFDIR {
                    let directory = try target.directory(destination)
                    let entries = context.walk(source).map { $0 == source ? "" : String($0.dropFirst(source.isEmpty ? 0 : source.count + 1)) }
                    try copier.copy(full, entries: entries.filter { !$0.isEmpty }, to: directory)
                } else if isAdd, (st.st_mode & S_IFMT) == S_IFREG, Self.isArchive(full) {
                    try extractArchive(full, into: try target.directory(destination), owner: chownText == nil ? nil : owner)
                } else {
                    try copier.copyEntry(full, try target.file(destination, name: Self.baseName(source), intoDirectory: many))
                }
            }
        case .image(let sourceLayers):
            for source in sources {
                try copyFromImage(sourceLayers, path: source, to: destination, target: target,
                                  owner: chownText == nil ? nil : owner, many: many)
            }
        }
        // A downloaded archive is placed as it is, never unpacked (Docker's rule for URLs).
        for download in downloads?.files ?? [] {
            let name = URLSources.fileName(download.url)
            let path = try target.file(destination, name: name ?? "", intoDirectory: many)
            guard name != nil || !path.hasSuffix("/") else {
                throw BuildError(.invalidArgument,
                                 "\(download.url) names no file to call the download by in \(destination): give a destination file name")
            }
            try copier.copyEntry(download.path, path)
        }
        for heredoc in heredocs {
            let path = try target.file(destination, name: heredoc.name, intoDirectory: many || destination.hasSuffix("/"))
            let body = heredoc.expands ? try expansion.document(heredoc.body) : heredoc.body
            try Self.writeFile(path, body, mode: chmod ?? 0o644, owner: owner)
        }
        try storeStep(&state, createdBy: createdBy, layer: layer, key: key)
    }

    enum CopySource {
        case none
        case context(ContextSources)
        case image([String])
    }

    static func isURL(_ source: String) -> Bool {
        source.hasPrefix("http://") || source.hasPrefix("https://") || isGitURL(source)
    }

    static func isGitURL(_ source: String) -> Bool {
        source.hasPrefix("git@") || source.hasPrefix("git://") || source.hasSuffix(".git")
            && (source.hasPrefix("http://") || source.hasPrefix("https://"))
    }

    static func heredocName(_ word: String) -> String {
        var name = word.dropFirst(2)
        if name.hasPrefix("-") { name = name.dropFirst() }
        return String(name.filter { $0 != "\"" && $0 != "'" })
    }

    static func baseName(_ path: String) -> String {
        String(path.split(separator: "/").last ?? Substring(path))
    }

    /// The stage or image `--from` names: a finished stage of this build, or an image.
    func sourceImage(_ name: String) throws -> (Digest, [String]) {
        if let stage = stagePlan?.stage(named: name) {
            guard let state = finished[stage.index] else {
                throw BuildError(.invalidArgument, "--from=\(name) names a stage that is not built before this one")
            }
            guard let manifest = state.manifest else { return (Digest.of([UInt8]()), []) }
            return (manifest, try images.resolve(manifest.hex).layerDirectories)
        }
        let resolved = try images.resolve(name)
        return (resolved.manifestDigest, resolved.layerDirectories)
    }

    /// The Dockerfile's own `<Dockerfile>.dockerignore` when there is one, else the context's
    /// `.dockerignore` (BuildKit's rule).
    func contextIgnore(_ root: String) throws -> DockerIgnore {
        let candidates = (request.dockerfilePath.map { [$0 + ".dockerignore"] } ?? []) + [root + "/.dockerignore"]
        for path in candidates {
            if let bytes = try? FileIO.readFile(path) { return DockerIgnore.parse(String(decoding: bytes, as: UTF8.self)) }
        }
        return .none
    }

    /// `path` of another stage or image, through a tar of its merged layers (`cp`'s path).
    func copyFromImage(_ layers: [String], path: String, to destination: String, target: StagingTarget,
                       owner: (uid: UInt32, gid: UInt32)?, many: Bool) throws {
        let components = path.split(separator: "/").map { Array($0.utf8) }
        let lookup = OverlayLookup(layers: layers)
        guard case .visible(_, let status) = lookup.find(path) else {
            throw BuildError(.notFound, "\(path) is not in the --from image")
        }
        let isDirectory = (status.st_mode & S_IFMT) == S_IFDIR
        let staging = try images.makeTemporaryDirectory("from")
        defer { try? FileTree.remove(staging) }
        let tar = staging + "/tree.tar"
        let fd = open(tar, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BuildError.system("cannot create \(tar)") }
        defer { close(fd) }
        _ = try MergedTreeExport.write(layers: layers.map { MergedTreeExport.Layer(directory: $0) }, at: components, to: fd)
        lseek(fd, 0, SEEK_SET)
        let directory: String
        let top: TreeExtraction.Top
        if isDirectory {
            directory = try target.directory(destination)
            top = .contents
        } else {
            let file = try target.file(destination, name: Self.baseName(path), intoDirectory: many)
            directory = String(file[..<(file.lastIndex(of: "/") ?? file.endIndex)])
            top = .rename(Array(Self.baseName(file).utf8))
        }
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirfd >= 0 else { throw BuildError.system("cannot open \(directory)") }
        defer { close(dirfd) }
        let extraction = TreeExtraction(top: top, owner: owner.map { .fixed(uid: $0.uid, gid: $0.gid) } ?? .archive)
        try extraction.extract(from: fd, into: dirfd)
    }

    func extractArchive(_ path: String, into directory: String, owner: (uid: UInt32, gid: UInt32)?) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BuildError.system("cannot open \(path)") }
        defer { close(fd) }
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirfd >= 0 else { throw BuildError.system("cannot open \(directory)") }
        defer { close(dirfd) }
        let extraction = TreeExtraction(top: .keep, owner: owner.map { .fixed(uid: $0.uid, gid: $0.gid) } ?? .archive)
        try extraction.extract(from: fd, into: dirfd)
    }

    /// A tar by its first bytes: gzip, bzip2, xz, zstd, or `ustar` at 257.
    static func isArchive(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 262)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 6 else { return false }
        if head.starts(with: [0x1F, 0x8B]) || head.starts(with: Array("BZh".utf8)) || head.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00])
            || head.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return true }
        return n >= 262 && Array(head[257..<262]) == Array("ustar".utf8)
    }

    static func writeFile(_ path: String, _ body: String, mode: mode_t, owner: (uid: UInt32, gid: UInt32)) throws {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw BuildError.system("cannot create \(path)") }
        defer { close(fd) }
        do {
            try FileIO.writeAll(fd, Array(body.utf8), path: path)
        } catch {
            throw BuildError(.systemError, "cannot write \(path): \(error.reason)", errno: error.errno)
        }
        guard fchown(fd, owner.uid, owner.gid) == 0, fchmod(fd, mode) == 0 else { throw BuildError.system("cannot set the owner of \(path)") }
    }
}

/// Where a COPY's destination lands in its new layer directory: each parent made there with
/// the owner and mode the image gives it (or root's 0755), a parent that is a link in the
/// image followed inside the image's root (so `/bin` of a merged-usr image stays a link).
struct StagingTarget {
    let layer: String
    let lookup: OverlayLookup

    /// The directory `path` (inside the image) in the layer, made with its parents.
    func directory(_ path: String) throws -> String {
        let resolved = resolveLinks(path)
        var current = layer
        var inImage = ""
        for component in resolved {
            current += "/" + component
            inImage += "/" + component
            var st = stat()
            if lstat(current, &st) == 0 { continue }
            var mode: mode_t = 0o755
            var uid: UInt32 = 0
            var gid: UInt32 = 0
            if case .visible(_, let existing) = lookup.find(inImage), (existing.st_mode & S_IFMT) == S_IFDIR {
                mode = existing.st_mode & 0o7777
                uid = existing.st_uid
                gid = existing.st_gid
            }
            guard mkdir(current, mode) == 0, chown(current, uid, gid) == 0, chmod(current, mode) == 0 else {
                throw BuildError.system("cannot make \(inImage) in the new layer")
            }
        }
        return current
    }

    /// The layer path a source file named `name` is written to: inside `destination` when it is
    /// a directory (a trailing `/`, several sources, or a directory in the image), else at it.
    func file(_ destination: String, name: String, intoDirectory: Bool) throws -> String {
        var isDirectory = intoDirectory || destination.hasSuffix("/")
        if !isDirectory, case .visible(_, let st) = lookup.find("/" + resolveLinks(destination).joined(separator: "/")),
           (st.st_mode & S_IFMT) == S_IFDIR {
            isDirectory = true
        }
        if isDirectory { return try directory(destination) + "/" + name }
        let components = destination.split(separator: "/").map(String.init)
        guard let last = components.last else { return try directory("/") + "/" + name }
        let parent = try directory(components.dropLast().joined(separator: "/"))
        return parent + "/" + last
    }

    /// `path`'s components with its links resolved in the image (40 at most), the last one
    /// too: a directory that is a link in the image (`/bin` of a merged-usr image) stays one.
    func resolveLinks(_ path: String) -> [String] {
        var pending = path.split(separator: "/").map(String.init)
        var resolved: [String] = []
        var hops = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component == "." { continue }
            if component == ".." {
                if !resolved.isEmpty { resolved.removeLast() }
                continue
            }
            let candidate = resolved + [component]
            if hops < 40, case .visible(let index, let st) = lookup.find("/" + candidate.joined(separator: "/")),
               (st.st_mode & S_IFMT) == S_IFLNK,
               let target = FileIO.readLink(lookup.layers[index] + "/" + candidate.joined(separator: "/")) {
                hops += 1
                if target.hasPrefix("/") { resolved = [] }
                pending = target.split(separator: "/").map(String.init) + pending
                continue
            }
            resolved.append(component)
        }
        return resolved
    }
}

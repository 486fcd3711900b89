import CommandLineParsing
import Containers
#if canImport(Glibc)
import Glibc
#endif

/// `berth cp CONTAINER:SRC DEST` and `berth cp SRC CONTAINER:DEST`.
struct CopyCommand: BerthCommand {
    static let spec = CommandSpec(
        name: "cp", abstract: "Copy files between a container and the host.",
        discussion: """
            A file goes onto a file or into a directory; a directory into a directory, or becomes \
            the new directory DEST; SRC/. copies a directory's contents. - as SRC is a tar on stdin \
            (unpacked into the container's directory DEST), as DEST a tar on stdout. Container paths \
            are resolved inside the container: its links never lead outside it. Works on running \
            and stopped containers.
            """,
        usage: "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
        options: [
            .flag("archive", short: "a", help: "Keep the files' uid and gid (otherwise they belong to the container's root)."),
            .flag("follow-link", short: "L", help: "Copy what a link named as SRC points to, not the link."),
        ])

    enum Direction: Equatable {
        case fromContainer(container: String, path: String, to: String)
        case toContainer(from: String, container: String, path: String)
    }

    let global: GlobalOptions
    let direction: Direction
    let archive: Bool
    let followLink: Bool

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard parsed.positionals.count == 2 else {
            throw UsageError("cp takes a source and a destination: berth cp CONTAINER:SRC DEST, or berth cp SRC CONTAINER:DEST")
        }
        archive = parsed.flag("archive")
        followLink = parsed.flag("follow-link")
        let source = parsed.positionals[0], destination = parsed.positionals[1]
        switch (Self.containerPath(source), Self.containerPath(destination)) {
        case (let from?, nil):
            guard !destination.isEmpty else { throw UsageError("the destination path is empty") }
            direction = .fromContainer(container: from.container, path: from.path, to: destination)
        case (nil, let to?):
            guard !source.isEmpty else { throw UsageError("the source path is empty") }
            direction = .toContainer(from: source, container: to.container, path: to.path)
        case (.some, .some):
            throw UsageError("copying between two containers is not supported: copy through the host")
        case (nil, nil):
            throw UsageError("one of the paths must be CONTAINER:PATH")
        }
        if case .fromContainer(_, _, "-") = direction, isatty(STDOUT_FILENO) != 0 {
            throw UsageError("refusing to write a tar to a terminal: redirect stdout or name a host path")
        }
    }

    /// `CONTAINER:PATH` as Docker reads it: a path starting with / or . is the host's even with a
    /// colon in it; the container part is what comes before the first colon.
    static func containerPath(_ argument: String) -> (container: String, path: String)? {
        guard !argument.hasPrefix("/"), !argument.hasPrefix("."), let colon = argument.firstIndex(of: ":") else { return nil }
        let container = String(argument[..<colon])
        guard !container.isEmpty else { return nil }
        let path = String(argument[argument.index(after: colon)...])
        return (container, path.isEmpty ? "/" : path)
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        switch direction {
        case .fromContainer(let container, let path, let destination):
            let endpoint: CopyEndpoint = destination == "-" ? .stream(STDOUT_FILENO) : .host(destination)
            try engine.copy(from: try engine.find(container), path: Self.absolute(path), to: endpoint, followLink: followLink)
        case .toContainer(let source, let container, let path):
            let endpoint: CopyEndpoint = source == "-" ? .stream(STDIN_FILENO) : .host(source)
            try engine.copy(to: try engine.find(container), path: Self.absolute(path), from: endpoint,
                            followLink: followLink, keepOwnership: archive)
        }
        return 0
    }

    /// A relative container path is relative to the root (Docker: to the working directory,
    /// which berth's containers default to "/").
    private static func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : "/" + path }
}

import CommandLineParsing
import Containers
import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// `berth export`: a container's filesystem as a tar, on stdout or in a file.
struct ExportContainer: BerthCommand {
    static let spec = CommandSpec(
        name: "export", abstract: "Write a container's filesystem as a tar archive.",
        discussion: """
            The tar holds what the container sees at / : its image's files with its own changes \
            over them (deleted files left out). A running container is exported as it runs.
            """,
        usage: "[OPTIONS] CONTAINER",
        options: [.value("output", short: "o", valueName: "file", help: "Write to this file instead of stdout.")])

    let global: GlobalOptions
    let container: String
    let output: String?

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard parsed.positionals.count == 1 else { throw UsageError("export takes one container name or id") }
        container = parsed.positionals[0]
        output = parsed.string("output")
        if output?.isEmpty == true { throw UsageError("-o is empty: give the tar file's path") }
        if output == nil, isatty(STDOUT_FILENO) != 0 {
            throw UsageError("refusing to write a tar to a terminal: use -o FILE or redirect stdout")
        }
    }

    /// A file is written beside its final path and renamed there once complete: a failed export
    /// leaves no partial tar, and an existing file stays as it was.
    func run() throws -> Int32 {
        let engine = try global.engine()
        let record = try engine.find(container)
        guard let output else {
            try engine.export(record, to: STDOUT_FILENO)
            return 0
        }
        let temporary = output + ".berth-export-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ContainerError.system("cannot create \(temporary)") }
        var done = false
        defer {
            close(fd)
            if !done { unlink(temporary) }
        }
        try engine.export(record, to: fd)
        guard fsync(fd) == 0 else { throw ContainerError.system("cannot write \(output) to disk (fsync)") }
        guard rename(temporary, output) == 0 else { throw ContainerError.system("cannot rename \(temporary) to \(output)") }
        done = true
        return 0
    }
}

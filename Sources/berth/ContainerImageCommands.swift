import CommandLineParsing
import Containers
import ImageStore
#if canImport(Glibc)
import Glibc
#endif

/// `berth diff`: what a container changed in its image's files.
struct DiffContainer: BerthCommand {
    static let spec = CommandSpec(
        name: "diff", abstract: "List the files a container added (A), changed (C) or deleted (D).",
        usage: "CONTAINER")

    let global: GlobalOptions
    let container: String

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard parsed.positionals.count == 1 else { throw UsageError("diff takes one container name or id") }
        container = parsed.positionals[0]
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        let record = try engine.find(container)
        guard record.hasImage else {
            throw ContainerError(.unsupported, "container \(record.name) runs in a --rootfs directory: it has no layer of its own to diff")
        }
        let image = try engine.images().resolve(record.imageManifest)
        // A container with its own user namespace keeps overlay's marks in user.overlay.*.
        let prefix = record.hostConfig.userNamespace == nil ? "trusted.overlay." : ImageStore.userNamespaceXattrPrefix
        let changes = try LayerDiff.changes(upperDirectory: engine.store.upperDirectory(of: record.id),
                                            overlayXattrPrefix: prefix,
                                            lower: LayerDiff.lowerLookup(layers: image.layerDirectories))
        for change in changes { Output.print(change.description) }
        return 0
    }
}

/// `berth commit`: a container's changes become a new image on top of its own.
struct CommitContainer: BerthCommand {
    static let spec = CommandSpec(
        name: "commit", abstract: "Create a new image from a container's changes.",
        discussion: """
            The container's writable layer becomes one new layer on top of its image's, with \
            the author, the message and the container's command in the image's history. \
            Without a name the image is untagged: use its id, or berth tag.
            """,
        usage: "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
        options: [
            .value("author", short: "a", valueName: "name", help: "Author (e.g. \"Ada Lovelace <ada@example.com>\")."),
            .value("message", short: "m", valueName: "text", help: "Commit message."),
            .flag("pause", short: "p",
                  help: "Pause a running container while its files are read; on by default, --pause=false commits it running."),
            .repeatable("change", short: "c", valueName: "instruction",
                        help: "Apply a Dockerfile instruction to the image's config "
                            + "(CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)."),
        ])

    let global: GlobalOptions
    let container: String
    let reference: String?
    let author: String?
    let message: String?
    let changes: [ConfigChange]
    let pause: Bool

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard (1...2).contains(parsed.positionals.count) else {
            throw UsageError("commit takes a container and an optional image name: berth commit CONTAINER [REPOSITORY[:TAG]]")
        }
        container = parsed.positionals[0]
        reference = parsed.positionals.count == 2 ? parsed.positionals[1] : nil
        author = parsed.string("author")
        message = parsed.string("message")
        var changes: [ConfigChange] = []
        for text in parsed.strings("change") { changes.append(try ConfigChange.parse(text)) }
        self.changes = changes
        pause = parsed.flag("pause", default: true)
    }

    func run() throws -> Int32 {
        let target = try reference.map(ImageReference.parse)
        let engine = try global.engine()
        engine.tidy()
        let changes = changes
        let request = CommitRequest(target: target, author: author, message: message, pause: pause) { execution in
            for change in changes { change.apply(&execution) }
        }
        Output.print(try engine.commit(try engine.find(container), request).id.description)
        return 0
    }
}

import CommandLineParsing
import Containers
import ImageStore
import JSON
#if canImport(Glibc)
import Glibc
#endif

/// The image store of a state root, and the manifests its containers use (which rmi and prune
/// must keep).
struct ImageContext {
    let store: ImageStore
    let containers: ContainerStore

    init(global: GlobalOptions) throws {
        store = try ImageStore(root: global.stateRoot)
        containers = try ContainerStore(root: global.stateRoot)
    }

    /// Asked by the store with its exclusive lock held, so no container is being created meanwhile.
    func manifestsInUse() -> Set<Digest> {
        Set(containers.all().compactMap { Digest($0.imageManifest) })
    }
}

/// `berth import`: a directory or a tar file becomes a one-layer base image.
struct ImportImage: BerthCommand {
    static let spec = CommandSpec(
        name: "import", abstract: "Create a base image from a root filesystem directory or tar file.",
        discussion: """
            SOURCE is a directory, a tar file (plain, gzip, xz or zstd) or - for a tar on stdin. \
            Entries that would land outside the image (../ paths, links out of it) are refused, \
            as are device nodes unless --allow-devices is given.
            """,
        usage: "[OPTIONS] SOURCE REPOSITORY[:TAG]",
        options: [
            .value("message", short: "m", valueName: "text", help: "A comment for the image's history."),
            .flag("allow-devices", help: "Keep device nodes found in the source."),
            .repeatable("change", short: "c", valueName: "instruction",
                        help: "Apply a Dockerfile instruction to the image's config "
                            + "(CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)."),
        ])

    let global: GlobalOptions
    let source: String
    let reference: String
    let message: String?
    let allowDevices: Bool
    let changes: [ConfigChange]

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard parsed.positionals.count == 2 else {
            throw UsageError("import takes a source and an image name: berth import SOURCE REPOSITORY[:TAG]")
        }
        source = parsed.positionals[0]
        reference = parsed.positionals[1]
        message = parsed.string("message")
        allowDevices = parsed.flag("allow-devices")
        var changes: [ConfigChange] = []
        for text in parsed.strings("change") { changes.append(try ConfigChange.parse(text)) }
        self.changes = changes
    }

    func run() throws -> Int32 {
        let reference = try ImageReference.parse(self.reference)
        let store = try ImageStore(root: global.stateRoot)
        let path = source == "-" ? "/dev/stdin" : absolutePath(source)
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw ImageStoreError(.notFound, "cannot import \(source): no such file or directory")
        }
        let input: ImportSource = (st.st_mode & S_IFMT) == S_IFDIR ? .directory(path) : .tarFile(path)
        let summary = try store.importImage(
            from: input, as: reference, comment: message ?? "Imported from \(source)",
            createdBy: "berth import \(source)", date: Timestamp.now(),
            options: .init(allowDevices: allowDevices),
            configChanges: changes.isEmpty ? nil : { config in for change in changes { change.apply(&config) } })
        Output.print(summary.id.description)
        return 0
    }
}

/// `berth images`: the tagged images, Docker's columns.
struct ListImages: BerthCommand {
    static let spec = CommandSpec(
        name: "images", abstract: "List images.", usage: "[OPTIONS] [REPOSITORY[:TAG]]",
        options: [
            .flag("all", short: "a", help: "Show untagged images too."),
            .flag("digests", help: "Show each image's registry digest (a multi-platform pull's index): what NAME@DIGEST runs."),
            .repeatable("filter", short: "f", valueName: "filter",
                        help: "Only images matching KEY=VALUE: dangling (true or false), reference (a pattern), label."),
        ] + ListFormat.options(quietHelp: "Only show image ids."))

    let global: GlobalOptions
    let all: Bool
    let digests: Bool
    let format: ListFormat
    let noTrunc: Bool
    let filter: String?
    let filters: ImageFilter

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        filters = try ImageFilter(parsed.strings("filter"))
        all = parsed.flag("all") || filters.wantsDangling
        digests = parsed.flag("digests")
        format = try ListFormat(parsed)
        noTrunc = parsed.flag("no-trunc")
        guard parsed.positionals.count <= 1 else { throw UsageError("images takes at most one REPOSITORY[:TAG]") }
        filter = parsed.positionals.first
    }

    func run() throws -> Int32 {
        if let filter { _ = try ImageReference.parse(filter) }
        let store = try ImageStore(root: global.stateRoot)
        let now = Int(time(nil))
        var table = Table(digests ? ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]
                                  : ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"])
        let templated = format.templateOutput(headers: ["ID": "IMAGE ID", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT"])
        var seen: Set<Digest> = []
        for image in try store.images(includeUntagged: all) {
            let (repository, tag) = splitReference(image.reference)
            if let filter, filter != repository, filter != image.reference { continue }
            guard filters.matches(image, labels: { (try? store.resolve(image.manifest.description))?.config.config?.labels ?? [:] })
            else { continue }
            let id = noTrunc ? image.id.description : image.id.short
            switch format {
            case .quiet:
                if seen.insert(image.id).inserted { Output.print(id) }
            case .json, .template:
                try emitRow(templated, [
                    ("Repository", .string(repository)), ("Tag", .string(tag)), ("Digest", .string(image.manifest.description)),
                    ("ID", .string(id)),
                    ("CreatedAt", .string(image.created ?? "")), ("CreatedSince", .string(Timestamp.ago(image.created, now: now))),
                    ("Size", .string(humanSize(image.size))), ("Layers", .number(JSONNumber(image.layerCount))),
                ])
            case .table:
                table.add([repository, tag] + (digests ? [image.registryDigest.description] : [])
                          + [id, Timestamp.ago(image.created, now: now), humanSize(image.size)])
            }
        }
        templated?.finish()
        if format == .table { Output.print(table.render()) }
        return 0
    }
}

/// `berth history`: an image's layers, newest first.
struct ImageHistory: BerthCommand {
    static let spec = CommandSpec(
        name: "history", abstract: "Show the history of an image.", usage: "[OPTIONS] IMAGE",
        options: ListFormat.options(quietHelp: "Only show image ids."))

    let global: GlobalOptions
    let image: String
    let format: ListFormat
    let noTrunc: Bool

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard parsed.positionals.count == 1 else { throw UsageError("history takes one image name or id") }
        image = parsed.positionals[0]
        format = try ListFormat(parsed)
        noTrunc = parsed.flag("no-trunc")
    }

    func run() throws -> Int32 {
        let store = try ImageStore(root: global.stateRoot)
        let now = Int(time(nil))
        var table = Table(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"])
        let templated = format.templateOutput(headers: ["ID": "IMAGE", "CreatedSince": "CREATED", "CreatedBy": "CREATED BY"])
        for entry in try store.history(image) {
            let id = entry.id.map { noTrunc ? $0.description : $0.short } ?? "<missing>"
            var createdBy = entry.createdBy ?? ""
            if !noTrunc, createdBy.count > 45 { createdBy = createdBy.prefix(44) + "…" }
            switch format {
            case .quiet:
                Output.print(id)
            case .json, .template:
                try emitRow(templated, [
                    ("ID", .string(id)), ("CreatedAt", .string(entry.created ?? "")),
                    ("CreatedSince", .string(Timestamp.ago(entry.created, now: now))),
                    ("CreatedBy", .string(createdBy)), ("Size", .string(humanSize(entry.size))),
                    ("Comment", .string(entry.comment ?? "")), ("Author", .string(entry.author ?? "")),
                ])
            case .table:
                table.add([id, Timestamp.ago(entry.created, now: now), createdBy, humanSize(entry.size), entry.comment ?? ""])
            }
        }
        templated?.finish()
        if format == .table { Output.print(table.render()) }
        return 0
    }
}

/// `berth tag SOURCE TARGET`.
struct TagImage: BerthCommand {
    static let spec = CommandSpec(name: "tag", abstract: "Give an image another name.",
                                  usage: "SOURCE_IMAGE TARGET_IMAGE[:TAG]")

    let global: GlobalOptions
    let source: String
    let target: String

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard parsed.positionals.count == 2 else { throw UsageError("tag takes two names: berth tag SOURCE TARGET[:TAG]") }
        source = parsed.positionals[0]
        target = parsed.positionals[1]
    }

    func run() throws -> Int32 {
        try ImageStore(root: global.stateRoot).tag(source, as: try ImageReference.parse(target))
        return 0
    }
}

/// `berth rmi`: removes tags and images (refusing images containers use, unless -f).
struct RemoveImages: BerthCommand {
    static let spec = CommandSpec(
        name: "rmi", abstract: "Remove one or more images.", usage: "[OPTIONS] IMAGE [IMAGE...]",
        options: [.flag("force", short: "f", help: "Remove the image even when several tags or a container use it.")])

    let global: GlobalOptions
    let force: Bool
    let images: [String]

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        force = parsed.flag("force")
        images = parsed.positionals
        if images.isEmpty { throw UsageError("rmi needs at least one image name or id") }
    }

    func run() throws -> Int32 {
        let context = try ImageContext(global: global)
        return forEachReportingFailures(images) { image in
            for removed in try context.store.removeImage(image, force: force, inUse: context.manifestsInUse) {
                Output.print(describe(removed))
            }
        }
    }
}

/// `berth image prune`.
struct PruneImages: BerthCommand {
    static let spec = CommandSpec(
        name: "prune", abstract: "Remove untagged images and the content no image uses.",
        options: [
            .flag("all", short: "a", help: "Remove every image no container uses, tagged or not."),
            .flag("force", short: "f", help: "Accepted for Docker's sake: berth does not ask for confirmation."),
        ])

    let global: GlobalOptions
    let all: Bool

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        all = parsed.flag("all")
        if let extra = parsed.positionals.first { throw UsageError("image prune takes no arguments (got \"\(extra)\")") }
    }

    func run() throws -> Int32 {
        let context = try ImageContext(global: global)
        let report = try context.store.prune(all: all, inUse: context.manifestsInUse)
        if !report.removed.isEmpty {
            Output.print("Deleted Images:")
            for removed in report.removed { Output.print(describe(removed)) }
            Output.print("")
        }
        printDeletedDownloads(report.deletedDownloads)
        Output.print("Total reclaimed space: \(humanSize(report.freedBytes))")
        return 0
    }
}

/// The partial downloads a prune removed, one line when there were any (Docker has no such line:
/// its pulls keep nothing to resume).
func printDeletedDownloads(_ count: Int) {
    guard count > 0 else { return }
    Output.print("Deleted partial downloads of interrupted pulls: \(count)")
}

private func describe(_ removed: ImageStore.RemovedImage) -> String {
    switch removed {
    case .untagged(let reference): "Untagged: \(reference)"
    case .deleted(let id): "Deleted: \(id)"
    }
}

/// "busybox:1.35" → ("busybox", "1.35"); a reference without a tag shows "<none>".
func splitReference(_ reference: String) -> (String, String) {
    let lastSlash = reference.lastIndex(of: "/") ?? reference.startIndex
    if let at = reference[lastSlash...].firstIndex(of: "@") {
        return (String(reference[..<at]), "<none>")
    }
    guard let colon = reference[lastSlash...].lastIndex(of: ":") else { return (reference, "<none>") }
    return (String(reference[..<colon]), String(reference[reference.index(after: colon)...]))
}

/// Docker's sizes: decimal units, three significant digits ("4.26MB", "980kB", "12B").
func humanSize(_ bytes: Int64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1000, unit < units.count - 1 {
        value /= 1000
        unit += 1
    }
    if unit == 0 { return "\(bytes)B" }
    let decimals = value < 10 ? 2 : (value < 100 ? 1 : 0)
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = decimals == 0 ? String(Int(rounded)) : String(rounded)
    // String(Double) may drop trailing zeros ("4.2"): Docker's %.3g drops them too.
    if text.hasSuffix(".0") { text.removeLast(2) }
    return text + units[unit]
}

import CommandLineParsing
import Containers
import ImageStore
import Registry
#if canImport(Glibc)
import Glibc
#endif

/// `berth save`: images to a tar that is an OCI image layout (and carries Docker's
/// manifest.json), for `berth load`, `docker load` or skopeo's `oci-archive:`.
struct SaveImages: BerthCommand {
    static let spec = CommandSpec(
        name: "save", abstract: "Save images to a tar archive (OCI layout, docker-load compatible).",
        usage: "[OPTIONS] IMAGE [IMAGE...]",
        options: [
            .value("output", short: "o", valueName: "file", help: "Write to this file instead of stdout."),
            .value("platform", valueName: "os/arch[/variant]", help: "Save only this platform's image (an error if the store has another)."),
        ])

    let global: GlobalOptions
    let images: [String]
    let output: String?
    let platform: OCIImage.Platform?

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        images = parsed.positionals
        output = parsed.string("output")
        if let text = parsed.string("platform") {
            do {
                let choice = try PlatformChoice.parse(text)
                platform = OCIImage.Platform(architecture: choice.architecture, os: choice.os, variant: choice.variant)
            } catch {
                throw UsageError(String(describing: error))
            }
        } else {
            platform = nil
        }
        if images.isEmpty { throw UsageError("save needs at least one image name or id") }
        if output == nil, isatty(STDOUT_FILENO) != 0 {
            throw UsageError("refusing to write an archive to a terminal: use -o FILE or redirect stdout")
        }
    }

    func run() throws -> Int32 {
        let store = try ImageStore(root: global.stateRoot)
        if let output {
            try store.save(images, platform: platform, toFile: absolutePath(output))
        } else {
            try store.save(images, platform: platform, to: STDOUT_FILENO)
        }
        return 0
    }
}

/// `berth load`: images from a `save` archive, an OCI layout tar or a `docker save` tar.
struct LoadImages: BerthCommand {
    static let spec = CommandSpec(
        name: "load", abstract: "Load images from a tar archive (berth save, docker save, OCI layout).",
        options: [
            .value("input", short: "i", valueName: "file", help: "Read from this file instead of stdin."),
            .flag("quiet", short: "q", help: "Print nothing."),
        ])

    let global: GlobalOptions
    let input: String?
    let quiet: Bool

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        input = parsed.string("input")
        quiet = parsed.flag("quiet")
        if let extra = parsed.positionals.first { throw UsageError("load takes no arguments (got \"\(extra)\"): use -i FILE") }
        if input == nil, isatty(STDIN_FILENO) != 0 {
            throw UsageError("refusing to read an archive from a terminal: use -i FILE or redirect stdin")
        }
    }

    func run() throws -> Int32 {
        let store = try ImageStore(root: global.stateRoot)
        let loaded = try input.map { try store.load(fromFile: absolutePath($0)) } ?? store.load(from: STDIN_FILENO)
        if !quiet {
            for image in loaded {
                Output.print(image.reference == ImageSummary.untaggedReference
                             ? "Loaded image ID: \(image.id)" : "Loaded image: \(image.reference)")
            }
        }
        return 0
    }
}

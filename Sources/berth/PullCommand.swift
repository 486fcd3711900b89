import CommandLineParsing
import ImageStore
import Registry
#if canImport(Glibc)
import Glibc
#endif

/// `berth pull`: an image from a registry into the store.
struct PullImage: BerthCommand {
    static let spec = CommandSpec(
        name: "pull", abstract: "Download an image from a registry.",
        discussion: """
            NAME is a reference as Docker reads it (busybox, me/app:v2, localhost:5000/me/app@sha256:…). \
            Registries are spoken to over HTTPS, except loopback ones and those given with \
            --insecure-registry, which use plain HTTP (with a warning). From a multi-platform image the \
            entry for this machine (linux/amd64) is taken, or --platform's.
            """,
        usage: "[OPTIONS] NAME[:TAG|@DIGEST]",
        options: PullFlags.options + [.flag("quiet", short: "q", help: "Print only the image's name at the end.")])

    let global: GlobalOptions
    let reference: String
    let flags: PullFlags
    let quiet: Bool

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard parsed.positionals.count == 1 else { throw UsageError("pull takes one image name: berth pull NAME[:TAG|@DIGEST]") }
        reference = parsed.positionals[0]
        flags = try PullFlags(parsed)
        quiet = parsed.flag("quiet")
    }

    func run() throws -> Int32 {
        let reference = try ImageReference.parse(self.reference)
        let store = try ImageStore(root: global.stateRoot)
        _ = try flags.pull(reference, into: store, display: quiet ? .quiet : .automatic)
        if quiet { Output.print(reference.description) }
        return 0
    }
}

/// The flags `pull` and `run --pull` share.
struct PullFlags: Sendable {
    static let options: [OptionSpec] = [
        .value("platform", valueName: "os/arch[/variant]", help: "The platform to take from a multi-platform image."),
        .repeatable("insecure-registry", valueName: "host[:port]", help: "Speak plain HTTP to this registry."),
        .value("tls-ca", valueName: "file", help: "Trust this CA certificate (PEM) besides the system's and certs.d's."),
    ]

    let platform: PlatformChoice?
    let insecureRegistries: [String]
    let caFile: String?

    init(_ parsed: ParsedArguments) throws(UsageError) {
        if let text = parsed.string("platform") {
            do {
                platform = try PlatformChoice.parse(text)
            } catch {
                throw UsageError(String(describing: error))
            }
        } else {
            platform = nil
        }
        insecureRegistries = parsed.strings("insecure-registry")
        caFile = parsed.string("tls-ca")
    }

    /// Pulls `reference` into `store`, showing progress as `display` says.
    func pull(_ reference: ImageReference, into store: ImageStore, display: PullProgress.Mode,
              output: Int32 = STDOUT_FILENO) throws -> ImageSummary {
        let options = PullOptions(platform: platform ?? .host, insecureRegistries: insecureRegistries,
                                  credentials: try CredentialStore.credentials(for: reference.domain), caFile: caFile)
        let puller = ImagePuller(store: store, options: options)
        let progress = PullProgress(mode: display, reference: reference, output: output)
        let summary = try waitFor { try await puller.pull(reference) { progress.handle($0) } }
        progress.finish(summary)
        return summary
    }
}

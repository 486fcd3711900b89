import CommandLineParsing
import ImageStore
import Registry
#if canImport(Glibc)
import Glibc
#endif

/// `berth push`: an image of the store to the registry its name says.
struct PushImage: BerthCommand {
    static let spec = CommandSpec(
        name: "push", abstract: "Upload an image to a registry.",
        discussion: """
            NAME is the image's tag in the store, which names the registry and repository \
            (localhost:5000/me/app:v2; berth tag gives an image such a name). Only the blobs the \
            registry lacks are sent (a blob another of its repositories has is mounted from there \
            when berth knows of it); the manifest goes last.
            """,
        usage: "[OPTIONS] NAME[:TAG]",
        options: [
            .repeatable("insecure-registry", valueName: "host[:port]", help: "Speak plain HTTP to this registry."),
            .value("tls-ca", valueName: "file", help: "Trust this CA certificate (PEM) besides the system's and certs.d's."),
            .flag("quiet", short: "q", help: "Print only the image's name at the end."),
        ])

    let global: GlobalOptions
    let reference: String
    let insecureRegistries: [String]
    let caFile: String?
    let quiet: Bool

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        guard parsed.positionals.count == 1 else { throw UsageError("push takes one image name: berth push NAME[:TAG]") }
        reference = parsed.positionals[0]
        insecureRegistries = parsed.strings("insecure-registry")
        caFile = parsed.string("tls-ca")
        quiet = parsed.flag("quiet")
    }

    func run() throws -> Int32 {
        let reference = try ImageReference.parse(self.reference)
        guard reference.digest == nil else {
            throw RegistryError(.invalidReference, "cannot push \(reference): push a tag, not a digest")
        }
        let store = try ImageStore(root: global.stateRoot)
        let pusher = ImagePusher(store: store, insecureRegistries: insecureRegistries,
                                 credentials: try CredentialStore.credentials(for: reference.domain), caFile: caFile,
                                 chunkSize: try Self.chunkSize())
        let quiet = self.quiet
        let digest = try waitFor {
            try await pusher.push(reference.description, as: reference) { event in
                Self.show(event, quiet: quiet)
            }
        }
        Output.print(quiet ? reference.description : "\(reference.tag ?? "latest"): digest: \(digest)")
        return 0
    }

    /// `BERTH_PUSH_CHUNK_SIZE` (bytes), for tests: blobs larger than it go up in PATCH chunks of
    /// it (64 MiB when unset).
    static func chunkSize() throws -> Int64 {
        guard let value = getenv("BERTH_PUSH_CHUNK_SIZE").map({ String(cString: $0) }) else { return 64 << 20 }
        guard let bytes = Int64(value), bytes > 0 else {
            throw UsageError("BERTH_PUSH_CHUNK_SIZE is \"\(value)\"; give a number of bytes above 0 or unset it")
        }
        return bytes
    }

    private static func show(_ event: PushEvent, quiet: Bool) {
        switch event {
        case .plainHTTP(let registry):
            Output.writeLine(STDERR_FILENO, "berth: warning: registry \(registry) is spoken to over plain HTTP (not encrypted)")
        case .blobExists(let digest) where !quiet: Output.print("\(digest.short): Layer already exists")
        case .blobMounted(let digest, let from) where !quiet: Output.print("\(digest.short): Mounted from \(from)")
        case .blobPushed(let digest) where !quiet: Output.print("\(digest.short): Pushed")
        default: break
        }
    }
}

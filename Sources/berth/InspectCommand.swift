import CommandLineParsing
import Containers
import ImageStore
import JSON
#if canImport(Glibc)
import Glibc
#endif

/// `berth inspect`: containers (or images) as a Docker-shaped JSON array.
struct Inspect: BerthCommand {
    static let spec = CommandSpec(
        name: "inspect", abstract: "Show containers or images as JSON.", usage: "[OPTIONS] NAME [NAME...]",
        options: [
            .value("type", valueName: "type", help: "container or image (default: whichever the name names, a container first)."),
            .value("format", short: "f", valueName: "template",
                   help: "A Go template for each one: {{.State.Pid}}, {{json .Config}}, {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}."),
        ])

    let global: GlobalOptions
    let names: [String]
    let type: String?
    let template: GoTemplate?

    init(global: GlobalOptions, _ parsed: ParsedArguments) throws(UsageError) {
        self.global = global
        names = parsed.positionals
        type = parsed.string("type")
        template = try parsed.string("format").map { text throws(UsageError) in try GoTemplate(text) }
        if names.isEmpty { throw UsageError("inspect needs at least one container or image") }
        if let type, type != "container", type != "image" {
            throw UsageError("unknown --type \"\(type)\": use container or image")
        }
    }

    func run() throws -> Int32 {
        let engine = try global.engine()
        engine.tidy()
        var images: ImageStore?
        var results: [JSONValue] = []
        var failed = false
        for name in names {
            do {
                if type != "image", let record = try? engine.find(name) {
                    results.append(engine.inspect(record))
                    continue
                }
                guard type != "container" else { throw ContainerError(.notFound, "no such container: \(name)") }
                let store = try images ?? engine.images()
                images = store
                results.append(try describe(image: name, store))
            } catch {
                Output.error(error)
                failed = true
            }
        }
        guard let template else {
            Output.print(String(decoding: JSON.serialize(.array(results), pretty: true), as: UTF8.self))
            return failed ? 1 : 0
        }
        for result in results { Output.print(try template.render(result)) }
        return failed ? 1 : 0
    }

    private func describe(image name: String, _ store: ImageStore) throws -> JSONValue {
        let resolved = try store.resolve(name)
        let tags = try store.images().filter { $0.manifest == resolved.manifestDigest }.map { JSONValue.string($0.reference) }
        return .object([
            (key: "Id", value: .string(resolved.configDigest.description)),
            (key: "RepoTags", value: .array(tags)),
            (key: "RepoDigests", value: .array(try store.repositoryDigests(of: resolved.manifestDigest).map { .string($0) })),
            (key: "Manifest", value: .string(resolved.manifestDigest.description)),
            (key: "Created", value: .string(resolved.config.created ?? "")),
            (key: "Author", value: .string(resolved.config.author ?? "")),
            (key: "Architecture", value: .string(resolved.config.architecture)),
            (key: "Os", value: .string(resolved.config.os)),
            (key: "Size", value: .number(JSONNumber(resolved.manifest.layers.reduce(0) { $0 + $1.size }))),
            (key: "Config", value: try JSON.encodeToValue(resolved.config.config ?? OCIImage.ExecutionConfig())),
            (key: "RootFS", value: try JSON.encodeToValue(resolved.config.rootfs)),
            (key: "GraphDriver", value: .object([
                (key: "Name", value: "overlay"),
                (key: "Data", value: .object([
                    (key: "LowerDir", value: .string(resolved.layerDirectories.joined(separator: ":"))),
                ])),
            ])),
        ])
    }
}

import BerthErrors

/// A service's `build:` section: a context directory alone (`build: ./dir`), or the long form
/// with the keys the compose spec gives it that berth's builder carries out; the others are
/// named in the warning line like any unsupported key.
extension ComposeDecoder {
    static let buildKeys = ["context", "dockerfile", "dockerfile_inline", "args", "target", "labels", "tags", "no_cache", "network"]

    mutating func build(_ node: YAMLNode, _ path: String) throws(BerthError) -> ServiceBuild {
        if node.mapping == nil {
            guard let text = node.scalar, !node.isNull else { throw failure(node, path, "must be a context directory or a mapping") }
            return ServiceBuild(context: try context(text, node, path))
        }
        let f = try fields(node, path, known: Self.buildKeys)
        let contextText = try f["context"].map { (node) throws(BerthError) in try string(node, path + ".context") } ?? "."
        var build = ServiceBuild(context: try context(contextText, f["context"] ?? node, path + ".context"))
        if let dockerfile = f["dockerfile"] {
            let text = try string(dockerfile, path + ".dockerfile")
            build.dockerfile = text.hasPrefix("/") ? text : build.context + "/" + text
        }
        if let inline = f["dockerfile_inline"] {
            guard build.dockerfile == nil else {
                throw failure(inline, path + ".dockerfile_inline", "and \(path).dockerfile both name the Dockerfile: keep one")
            }
            build.dockerfileInline = try string(inline, path + ".dockerfile_inline")
        }
        if let args = f["args"] {
            for (key, value) in try keyValues(args, path + ".args") {
                guard let value = value ?? environment[key] else { continue }
                build.args[key] = value
            }
        }
        if let target = f["target"] { build.target = try string(target, path + ".target") }
        if let labels = f["labels"] { build.labels = try self.labels(labels, path + ".labels") }
        if let tags = f["tags"] { build.tags = try strings(tags, path + ".tags") }
        if let noCache = f["no_cache"] { build.noCache = try bool(noCache, path + ".no_cache") }
        if let network = f["network"] {
            let text = try string(network, path + ".network")
            guard ["bridge", "none", "host", "default"].contains(text) else {
                throw failure(network, path + ".network", "is \(text): RUN steps take bridge, none or host")
            }
            build.network = text == "default" ? "bridge" : text
        }
        return build
    }

    /// The context as an absolute directory; a URL (a Git repository, a tarball) is refused:
    /// berth builds from a directory it reads in place.
    private func context(_ text: String, _ node: YAMLNode, _ path: String) throws(BerthError) -> String {
        if text.isEmpty { throw failure(node, path, "is empty: name the build's context directory") }
        if text.contains("://") || text.hasPrefix("git@") {
            throw BerthError(.unsupported, "\(file):\(node.line): \(path) is \(text): berth builds from a local directory only; "
                             + "clone it and name the directory")
        }
        return hostPath(text)
    }
}

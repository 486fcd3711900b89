import FileSystem
import ImageStore
#if canImport(Glibc)
import Glibc
#endif

/// WORKDIR: a relative path is joined to the previous one; a directory the image lacks is made
/// (a layer holding only it, root's, 0755) so RUN steps and the container can enter it.
extension Builder {
    mutating func workdir(_ instruction: Instruction, state: inout StageState) throws {
        let expansion = WordExpansion(variables: state.variables, escape: request.dockerfile.escape)
        let text = try expansion.word(instruction.text)
        let previous = state.execution.workingDir ?? "/"
        let path = "/" + ContextPath.clean(text.hasPrefix("/") ? text : previous + "/" + text)
        let createdBy = "WORKDIR " + path
        let key = BuildCache.key(parent: state.manifest, [createdBy])
        if try useCache(key, state: &state) { return }
        state.execution.workingDir = path
        let layers = try state.manifest.map { try images.resolve($0.hex).layerDirectories } ?? []
        let target = StagingTarget(layer: "", lookup: OverlayLookup(layers: layers))
        let resolved = "/" + target.resolveLinks(path).joined(separator: "/")
        if path == "/" || { if case .visible = target.lookup.find(resolved) { return true } else { return false } }() {
            try storeStep(&state, createdBy: createdBy, layer: nil, key: key)
            return
        }
        let staging = try images.makeTemporaryDirectory("build")
        defer { try? FileTree.remove(staging) }
        let layer = staging + "/layer"
        guard mkdir(layer, 0o755) == 0 else { throw BuildError.system("cannot make \(layer)") }
        _ = try StagingTarget(layer: layer, lookup: target.lookup).directory(path)
        try storeStep(&state, createdBy: createdBy, layer: layer, key: key)
    }
}

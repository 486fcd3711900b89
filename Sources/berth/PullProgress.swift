import ImageStore
import Registry
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What `pull` shows while it works: on a terminal, a line per layer with its bytes and a bar,
/// redrawn in place; otherwise a plain line per finished layer; nothing with `-q`. Warnings go to
/// stderr in every mode.
final class PullProgress: Sendable {
    enum Mode: Sendable { case automatic, quiet }

    private struct Layer {
        let digest: Digest
        var bytes: Int64 = 0
        var total: Int64
        var state = "Waiting"
    }

    private struct State {
        var layers: [Layer] = []
        /// Lines drawn last time (the cursor goes up over them to redraw).
        var drawn = 0
        var lastDraw: UInt64 = 0
    }

    private let terminal: Bool
    private let quiet: Bool
    private let reference: ImageReference
    /// stdout for `pull`; stderr for `run`, whose stdout is the container's.
    private let output: Int32
    private let state = Mutex(State())

    init(mode: Mode, reference: ImageReference, output: Int32) {
        quiet = mode == .quiet
        terminal = mode == .automatic && isatty(output) == 1
        self.reference = reference
        self.output = output
    }

    func handle(_ event: PullEvent) {
        switch event {
        case .plainHTTP(let registry):
            Output.writeLine(STDERR_FILENO, "berth: warning: registry \(registry) is spoken to over plain HTTP (not encrypted)")
        case .resolved(_, let layers):
            guard !quiet else { return }
            state.withLock { $0.layers = layers.compactMap { d in Digest(d.digest).map { Layer(digest: $0, total: d.size) } } }
            if !terminal { Output.writeLine(output, "Pulling from \(reference.name)") }
            draw(force: true)
        case .layerPresent(let digest):
            update(digest, plain: "Already exists") { $0.state = "Already exists"; $0.bytes = $0.total }
        case .layerProgress(let digest, let bytes, _):
            update(digest, plain: nil) { $0.state = "Downloading"; $0.bytes = bytes }
        case .layerDone(let digest):
            update(digest, plain: "Pull complete") { $0.state = "Pull complete"; $0.bytes = $0.total }
        }
    }

    func finish(_ summary: ImageSummary) {
        guard !quiet else { return }
        draw(force: true)
        Output.writeLine(output, "Digest: \(summary.registryDigest)")
        Output.writeLine(output, "Status: Downloaded \(reference.description)")
    }

    private func update(_ digest: Digest, plain: String?, _ change: (inout Layer) -> Void) {
        guard !quiet else { return }
        // Config blobs are not among the layers shown.
        let known = state.withLock { state -> Bool in
            guard let i = state.layers.firstIndex(where: { $0.digest == digest }) else { return false }
            change(&state.layers[i])
            return true
        }
        guard known else { return }
        if terminal {
            draw(force: plain != nil)
        } else if let plain {
            Output.writeLine(output, "\(digest.short): \(plain)")
        }
    }

    /// Redraws every layer's line in place, at most ten times a second unless forced.
    private func draw(force: Bool) {
        guard terminal else { return }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let ms = UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
        let text = state.withLock { state -> String? in
            guard force || ms - state.lastDraw >= 100 else { return nil }
            state.lastDraw = ms
            var text = state.drawn > 0 ? "\u{1B}[\(state.drawn)A" : ""
            for layer in state.layers {
                text += "\r\u{1B}[2K" + Self.line(layer) + "\n"
            }
            state.drawn = state.layers.count
            return text
        }
        if let text { Output.write(output, text) }
    }

    private static func line(_ layer: Layer) -> String {
        let head = "\(layer.digest.short): \(layer.state)"
        guard layer.state == "Downloading", layer.total > 0 else { return head }
        let width = 30
        let filled = Int(min(layer.bytes, layer.total) * Int64(width) / layer.total)
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "")
            + String(repeating: " ", count: max(0, width - filled - 1))
        return head + " [\(bar)] \(humanSize(layer.bytes))/\(humanSize(layer.total))"
    }
}

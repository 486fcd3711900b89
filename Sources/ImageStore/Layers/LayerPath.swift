/// A tar entry name, checked and split into components, before anything touches the disk.
///
/// Names stay bytes: a layer may hold names that are not UTF-8, and decoding them into `String`
/// would silently change which file gets written. `display` is only for messages.
struct LayerPath: Equatable {
    /// The components below the layer root; empty for the root itself (`./`).
    let components: [[UInt8]]
    /// The name as the tar gave it, for errors.
    let display: String

    var isRoot: Bool { components.isEmpty }
    var parent: [[UInt8]] { Array(components.dropLast()) }
    var name: [UInt8] { components.last ?? [] }

    init(components: [[UInt8]], display: String) {
        self.components = components
        self.display = display
    }

    /// Splits `raw` and refuses every form that could leave the root. `.` and empty components
    /// (`a//b`, `./a`) are dropped the way tar itself reads them; `..` is refused outright rather than
    /// resolved, because a layer has no legitimate reason to climb and resolving it is how
    /// path-traversal bugs are born.
    static func parse(_ raw: [UInt8]) throws(LayerError) -> LayerPath {
        let display = String(decoding: raw, as: UTF8.self)
        guard !raw.isEmpty else { throw LayerError(.badArchive, entry: display, "empty entry name") }
        guard raw.first != slash else {
            throw LayerError(.unsafePath, entry: display, "absolute path: a layer entry must be relative to the layer root")
        }
        var components: [[UInt8]] = []
        for part in raw.split(separator: slash, omittingEmptySubsequences: true) {
            if part.elementsEqual(dot) { continue }
            if part.elementsEqual(dotDot) {
                throw LayerError(.unsafePath, entry: display, "\"..\" component: a layer entry may not leave the layer root")
            }
            components.append(Array(part))
        }
        return LayerPath(components: components, display: display)
    }

    /// The path as a tar names it ("etc/motd"), for entries the packer writes.
    static func join(_ components: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for (i, c) in components.enumerated() {
            if i > 0 { out.append(slash) }
            out.append(contentsOf: c)
        }
        return out
    }
}

private let slash = UInt8(ascii: "/")
private let dot: [UInt8] = [UInt8(ascii: ".")]
private let dotDot: [UInt8] = [UInt8(ascii: "."), UInt8(ascii: ".")]

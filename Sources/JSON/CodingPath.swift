/// One step of a coding path, as the decoder and encoder keep it: the key itself, or an array
/// index. Paths are linked lists through the decoders and encoders (each knows its parent), so
/// the `[CodingKey]` arrays Codable's API asks for are only built when someone asks, which is
/// mostly when an error is being reported.
enum PathComponent {
    case key(any CodingKey)
    case index(Int)

    var codingKey: any CodingKey {
        switch self {
        case .key(let key): return key
        case .index(let index): return IndexKey(index)
        }
    }
}

/// The coding key of an array element, so error paths can print `mounts[2]` rather than a key.
struct IndexKey: CodingKey {
    let index: Int

    init(_ index: Int) {
        self.index = index
    }

    init?(stringValue: String) { nil }

    init?(intValue: Int) {
        self.index = intValue
    }

    var stringValue: String { "Index \(index)" }
    var intValue: Int? { index }
}

/// A key made from a string at run time: `superDecoder()`'s "super", and the keys of
/// `JSONValue`'s own Codable conformance.
struct StringKey: CodingKey {
    let stringValue: String

    init(_ string: String) {
        stringValue = string
    }

    init?(stringValue: String) {
        self.stringValue = stringValue
    }

    init?(intValue: Int) {
        stringValue = String(intValue)
    }

    var intValue: Int? { nil }
}

enum CodingPathText {
    /// `process.user.uid`, `mounts[2].options[0]`, `annotations["org.opencontainers.image.title"]`:
    /// dotted while keys look like identifiers, bracketed and quoted when they don't.
    static func render(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            // A cast per key is fine here: this only runs to print an error.
            if let index = key as? IndexKey {
                text += "[\(index.index)]"
            } else if isPlainName(key.stringValue) {
                text += text.isEmpty ? key.stringValue : "." + key.stringValue
            } else {
                text += "[" + JSONValue.string(key.stringValue).description + "]"
            }
        }
        return text
    }

    private static func isPlainName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }
}

/// A decoder or encoder as a node of the coding path: the path is read by walking up to the
/// root, so both sides share this one walk.
protocol CodingPathNode: AnyObject {
    var parent: Self? { get }
    var component: PathComponent? { get }
}

extension CodingPathNode {
    /// The path to a value at `component` below `parent`, built by walking up the chain.
    static func codingPath(parent: Self?, component: PathComponent?) -> [any CodingKey] {
        var keys: [any CodingKey] = []
        if let component { keys.append(component.codingKey) }
        var node = parent
        while let current = node {
            if let component = current.component { keys.append(component.codingKey) }
            node = current.parent
        }
        return keys.reversed()
    }

    /// The path to the child of this node at `component`.
    func codingPath(appending component: PathComponent) -> [any CodingKey] {
        Self.codingPath(parent: self, component: component)
    }
}

import BerthErrors
import CYAML

/// Reads one YAML document into `YAMLNode`s with libyaml's event parser. Anchors and aliases
/// are resolved as the document is built (an alias is a copy of its anchor's node), and a
/// mapping's merge keys (`<<: *base`, `<<: [*a, *b]`) are folded in as YAML 1.1 says: keys the
/// mapping has itself win, then the earlier of the merged mappings.
public enum YAMLReader {
    /// At most this many nodes, aliases counted with their whole size: a "billion laughs"
    /// document of nested aliases ends in an error instead of filling the memory.
    public static let nodeLimit = 1_000_000

    /// The document in `text`; an empty document is an empty mapping. `file` names the file in
    /// errors ("compose.yaml:7: ...").
    public static func read(_ text: [UInt8], file: String) throws(BerthError) -> YAMLNode {
        // libyaml asserts that its input has an address, which an empty array need not have.
        guard !text.isEmpty else { return YAMLNode(.mapping([]), line: 1) }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw BerthError(.systemError, "cannot start the YAML parser for \(file): out of memory")
        }
        defer { yaml_parser_delete(&parser) }
        return try text.withUnsafeBufferPointer { (buffer) throws(BerthError) -> YAMLNode in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = Builder(file: file)
            var event = yaml_event_t()
            // Every event is consumed once; the stream's end ends the loop (libyaml reports it
            // exactly once, after which it reports nothing new).
            while true {
                guard yaml_parser_parse(&parser, &event) == 1 else { throw syntaxError(parser, file: file) }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { break }
                try builder.take(event)
            }
            return builder.document ?? YAMLNode(.mapping([]), line: 1)
        }
    }

    private static func syntaxError(_ parser: yaml_parser_t, file: String) -> BerthError {
        let problem = parser.problem.map { String(cString: $0) } ?? "not valid YAML"
        let context = parser.context.map { String(cString: $0) + ": " } ?? ""
        return BerthError(.invalidArgument,
                          "\(file):\(parser.problem_mark.line + 1): \(context)\(problem): fix the file's YAML syntax")
    }

    /// The nodes being built: a stack of open sequences and mappings.
    private struct Builder {
        let file: String
        var document: YAMLNode?
        var anchors: [String: (node: YAMLNode, weight: Int)] = [:]
        /// The nodes made so far, each alias counted as the size of what it copies.
        var nodes = 0
        /// The size of each open collection so far, parallel to `stack`.
        var weights: [Int] = []

        private enum Open {
            case sequence(items: [YAMLNode], anchor: String?, line: Int, column: Int)
            case mapping(entries: [(key: String, value: YAMLNode)], pendingKey: YAMLNode?, merged: [YAMLNode],
                         anchor: String?, line: Int, column: Int)
        }
        private var stack: [Open] = []

        init(file: String) { self.file = file }

        mutating func take(_ event: yaml_event_t) throws(BerthError) {
            let line = Int(event.start_mark.line) + 1, column = Int(event.start_mark.column) + 1
            switch event.type {
            case YAML_DOCUMENT_START_EVENT:
                if document != nil {
                    throw BerthError(.invalidArgument, "\(file):\(line): a second YAML document: a Compose file holds one")
                }
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                let node = YAMLNode(.scalar(text, plain: scalar.style == YAML_PLAIN_SCALAR_STYLE), line: line, column: column)
                try add(node, weight: 1, anchor: scalar.anchor.map { String(cString: $0) })
            case YAML_ALIAS_EVENT:
                let name = event.data.alias.anchor.map { String(cString: $0) } ?? ""
                guard let (anchored, weight) = anchors[name] else {
                    throw BerthError(.invalidArgument, "\(file):\(line): alias *\(name) names no anchor defined before it")
                }
                var node = anchored
                node.line = line
                node.column = column
                try add(node, weight: weight, anchor: nil)
            case YAML_SEQUENCE_START_EVENT:
                weights.append(1)
                stack.append(.sequence(items: [], anchor: event.data.sequence_start.anchor.map { String(cString: $0) },
                                       line: line, column: column))
            case YAML_MAPPING_START_EVENT:
                weights.append(1)
                stack.append(.mapping(entries: [], pendingKey: nil, merged: [],
                                      anchor: event.data.mapping_start.anchor.map { String(cString: $0) },
                                      line: line, column: column))
            case YAML_SEQUENCE_END_EVENT:
                guard case .sequence(let items, let anchor, let line, let column) = stack.popLast() else { return }
                let weight = weights.popLast() ?? 1
                try add(YAMLNode(.sequence(items), line: line, column: column), weight: weight, anchor: anchor)
            case YAML_MAPPING_END_EVENT:
                guard case .mapping(var entries, _, let merged, let anchor, let line, let column) = stack.popLast() else { return }
                for source in merged {
                    for entry in source.mapping ?? [] where !entries.contains(where: { $0.key == entry.key }) {
                        entries.append(entry)
                    }
                }
                let weight = weights.popLast() ?? 1
                try add(YAMLNode(.mapping(entries), line: line, column: column), weight: weight, anchor: anchor)
            default:
                break
            }
        }

        private mutating func add(_ node: YAMLNode, weight: Int, anchor: String?) throws(BerthError) {
            nodes += weight
            guard nodes <= YAMLReader.nodeLimit else {
                throw BerthError(.invalidArgument, "\(file):\(node.line): the document expands to more than "
                                 + "\(YAMLReader.nodeLimit) nodes (aliases of aliases?): make it smaller")
            }
            if let anchor { anchors[anchor] = (node, weight) }
            if !weights.isEmpty { weights[weights.count - 1] += weight }
            guard let top = stack.popLast() else {
                document = node
                return
            }
            switch top {
            case .sequence(var items, let anchor, let line, let column):
                items.append(node)
                stack.append(.sequence(items: items, anchor: anchor, line: line, column: column))
            case .mapping(var entries, let pendingKey, var merged, let anchor, let line, let column):
                guard let key = pendingKey else {
                    guard let text = node.scalar else {
                        throw BerthError(.invalidArgument, "\(file):\(node.line): a mapping key is \(node.kindName): "
                                         + "keys must be plain words")
                    }
                    if entries.contains(where: { $0.key == text }) {
                        throw BerthError(.invalidArgument, "\(file):\(node.line): the key \"\(text)\" appears twice in one mapping")
                    }
                    stack.append(.mapping(entries: entries, pendingKey: node, merged: merged, anchor: anchor,
                                          line: line, column: column))
                    return
                }
                if case .scalar("<<", plain: true) = key.value {
                    // A merge key: one mapping or a list of them, the earlier list entries winning.
                    let sources = node.sequence ?? [node]
                    for source in sources where source.mapping == nil {
                        throw BerthError(.invalidArgument, "\(file):\(source.line): a merge key (<<) takes a mapping "
                                         + "or a list of mappings, not \(source.kindName)")
                    }
                    merged += sources
                } else {
                    entries.append((key.scalar ?? "", node))
                }
                stack.append(.mapping(entries: entries, pendingKey: nil, merged: merged, anchor: anchor,
                                      line: line, column: column))
            }
        }
    }
}

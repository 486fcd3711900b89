/// One row of HAProxy's `show stat` CSV (a frontend, a backend or a server), its fields by
/// the header's column names: the column order changes between versions, the names do not.
public struct ProxyStat: Sendable {
    public let fields: [String: String]

    public var proxy: String { fields["pxname"] ?? "" }
    public var server: String { fields["svname"] ?? "" }
    /// "UP", "DOWN", "DRAIN", "MAINT", with " 1/2" while a check's rise or fall is under way.
    public var status: String { fields["status"] ?? "" }
    /// Sessions in flight and requests queued: a drain is over when both are 0.
    public var sessions: Int { Int(fields["scur"] ?? "") ?? 0 }
    public var queued: Int { Int(fields["qcur"] ?? "") ?? 0 }
    public var address: String { fields["addr"] ?? "" }

    public subscript(_ column: String) -> String? { fields[column] }

    /// Parses `show stat`'s answer: a `# ` header line, then one line per row.
    static func parse(csv text: String) throws -> [ProxyStat] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard let header = lines.first, header.hasPrefix("# ") else {
            throw ProxyError(.systemError, "HAProxy's \"show stat\" answered no CSV header: \(lines.first ?? "nothing")")
        }
        let names = header.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.dropFirst().map { line in
            let values = line.split(separator: ",", omittingEmptySubsequences: false)
            var fields: [String: String] = [:]
            for (name, value) in zip(names, values) where !name.isEmpty { fields[name] = String(value) }
            return ProxyStat(fields: fields)
        }
    }
}

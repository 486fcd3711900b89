/// Parses the flat "key value" files the kernel keeps events in: v2 `memory.events`
/// (`oom_kill 3`) and v1 `memory.oom_control` (`oom_kill 3`, beside `under_oom`).
enum CgroupEventsParser {
    /// The events in a `memory.events` or `memory.oom_control` text. A missing `oom_kill` line
    /// (kernels before 4.13 on v1) reads as zero: no kill was recorded.
    static func events(fromMemoryEvents text: String) -> CgroupEvents {
        CgroupEvents(oomKills: value(of: "oom_kill", in: text).map { Int(clamping: $0) } ?? 0)
    }

    /// The number after `key` on its own line, if there is such a line.
    static func value(of key: String, in text: String) -> Int64? {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 1)
            if fields.count == 2, fields[0] == key {
                return Int64(fields[1].trimmingSpaces())
            }
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" || s.last == "\r" { s = s.dropLast() }
        return s
    }
}

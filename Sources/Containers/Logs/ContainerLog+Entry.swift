import JSON

extension ContainerLog {
    /// One record of a json-file log: a line of the container's output (or a 16 KiB piece of a
    /// longer one), which stream it came on, and when the monitor read it.
    public struct Entry: Sendable, Equatable {
        public enum Stream: String, Sendable {
            case stdout, stderr
        }

        public let stream: Stream
        /// RFC 3339 in UTC with nanoseconds, as the monitor wrote it: `2026-11-25T17:30:01.123456789Z`.
        public let time: String
        /// The output itself, its newline included when it ended a line.
        public let log: [UInt8]

        public init(stream: Stream, time: String, log: [UInt8]) {
            self.stream = stream
            self.time = time
            self.log = log
        }

        /// Reads one line of the log, `{"log":"…","stream":"stdout","time":"…"}`; nil when the
        /// line is not such an object (a damaged line is skipped, not fatal to `berth logs`).
        init?(line: [UInt8]) {
            guard let value = try? JSON.parse(line),
                  let log = value["log"]?.string,
                  let stream = value["stream"]?.string.flatMap(Stream.init(rawValue:))
            else { return nil }
            self.init(stream: stream, time: value["time"]?.string ?? "", log: Array(log.utf8))
        }
    }
}

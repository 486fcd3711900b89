#if canImport(Glibc)
import Glibc
#endif

/// A container's log as berth-monitor writes it: Docker's json-file format, one JSON object per
/// line, in `path` and the rotated files `path.1` (older), `path.2` (older still), ….
///
/// Reading never takes a lock: the monitor only appends to `path` and renames files on rotation,
/// so a reader sees whole lines, and notices a rotation by `path` naming another inode than the
/// file it has open.
public struct ContainerLog: Sendable {
    /// Where a follow starts.
    public enum Start: Sendable, Equatable {
        /// Everything still on disk, rotated files included.
        case beginning
        /// The last N lines, counted across the rotated files (0: only what comes next).
        case last(Int)
        /// What was written after `position()` gave this: `start -a` takes it before the
        /// container starts, so that none of its first output is missed.
        case after(Position)
    }

    /// A place in the log: a file (by device and inode) and an offset in it.
    public struct Position: Sendable, Equatable {
        let identity: LogFileReader.Identity?
        let offset: Int
    }

    /// The end of the log as it is now (the start of a log not written yet).
    public func position() -> Position {
        var st = stat()
        guard stat(path, &st) == 0 else { return Position(identity: nil, offset: 0) }
        return Position(identity: LogFileReader.Identity(st), offset: Int(st.st_size))
    }

    public let path: String
    /// The longest `follow` waits between looks at the file (microseconds): what it waits when
    /// nothing is written, after which `until` is asked again.
    public var pollInterval: UInt32 = 100_000
    /// The shortest time between two looks (microseconds): a container writing all the time is
    /// read in batches, not once per write.
    public var minimumInterval: UInt32 = 10_000

    public init(path: String) {
        self.path = path
    }

    /// The log's files that exist, oldest first: …, path.2, path.1 (path itself not included).
    func rotatedPaths() -> [String] {
        var paths: [String] = []
        for n in 1...1000 {
            let rotated = "\(path).\(n)"
            guard access(rotated, F_OK) == 0 else { break }
            paths.append(rotated)
        }
        return paths.reversed()
    }

    /// The entries on disk, oldest first: all of them, or the last `tail` (counted across the
    /// rotated files). A log that does not exist yet has none.
    public func entries(tail: Int? = nil) throws(ContainerError) -> [Entry] {
        var entries: [Entry] = []
        try read(tail: tail) { entries.append($0) }
        return entries
    }

    /// Like `entries(tail:)`, one entry at a time: a large log is never held in memory.
    public func read(tail: Int? = nil, emit: (Entry) -> Void) throws(ContainerError) {
        let current = try LogFileReader(path: path)
        try readStart(current: current, start: tail.map(Start.last) ?? .beginning, emit: emit)
    }

    /// Emits the entries on disk from `start`, then every entry written after, following the log
    /// across rotations, until `until()` returns true (it is asked after each look at the file,
    /// e.g. "has the container stopped?"); what was written by then is read before returning.
    ///
    /// A rotation is noticed by `path` naming another file than the open one: the old file is
    /// read to its end (the monitor writes nothing more to it once it has renamed it), then every
    /// rotated file newer than it, oldest first, then the new one, so each line is read once and
    /// in order however many rotations came between two looks. When the old file has itself been
    /// rotated away (deleted), files between it and the oldest left may be gone unread:
    /// `linesLost` is told so.
    ///
    /// Between looks it waits for the monitor to write (inotify on the log's directory), for
    /// `pollInterval` at most, and for `minimumInterval` at least.
    public func follow(from start: Start = .last(0), until: () -> Bool,
                       linesLost: () -> Void = {}, emit: (Entry) -> Void) throws(ContainerError) {
        // The monitor's writes: to the log, its creation or rotation (a rename), its close at
        // the container's end.
        let writes = DirectoryWatch(directory, events: IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF)
        var current = try LogFileReader(path: path)
        try readStart(current: current, start: start, emit: emit)
        while true {
            let nextLook = Deadline(milliseconds: Int(minimumInterval) / 1000)
            try readNew(&current, linesLost: linesLost, emit: emit)
            if until() {
                try readNew(&current, linesLost: linesLost, emit: emit)
                return
            }
            guard let writes else {
                // Out of inotify instances or watches: a look every `pollInterval`.
                usleep(pollInterval)
                continue
            }
            writes.wait(milliseconds: Int((pollInterval + 999) / 1000))
            if let early = nextLook.remaining { usleep(UInt32(early) * 1000) }
        }
    }

    /// The directory that holds the log and its rotated files.
    private var directory: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Reads what `current` (the open `path`) has now, then, whenever `path` names another file,
    /// the rotated files newer than `current` and the new `path`, each to its end.
    private func readNew(_ current: inout LogFileReader?, linesLost: () -> Void,
                         emit: (Entry) -> Void) throws(ContainerError) {
        try current?.rewindIfTruncated()
        try current?.readLines { if let entry = Entry(line: $0) { emit(entry) } }
        // Bounded: a log that keeps rotating while this reads is caught up with in later polls.
        for _ in 0..<100 {
            guard let now = LogFileReader.identity(of: path), now != current?.identity else { return }
            // `path` is another file now: the old one is complete. Read its end (still open, even
            // if it was deleted since), then the files that came after it.
            try current?.readLines { if let entry = Entry(line: $0) { emit(entry) } }
            // One look at the rotated files, each opened once, so a rotation during the reading
            // cannot show a file twice; the newest file itself is the next round's `current`.
            let newest = try LogFileReader(path: path)
            var rotated: [LogFileReader] = []
            for file in rotatedPaths() {
                if let reader = try LogFileReader(path: file), reader.identity != newest?.identity { rotated.append(reader) }
            }
            if let old = current?.identity, let index = rotated.firstIndex(where: { $0.identity == old }) {
                rotated.removeFirst(index + 1)
            } else if current != nil, !rotated.isEmpty {
                linesLost()
            }
            for file in rotated {
                try file.readLines { if let entry = Entry(line: $0) { emit(entry) } }
            }
            current = newest
            try current?.readLines { if let entry = Entry(line: $0) { emit(entry) } }
        }
    }

    /// The entries on disk from `start`: the rotated files, then `current` (the open `path`),
    /// which is left positioned after what was read. A rotated file that is `current` itself
    /// (a rotation between opening `path` and listing) is read only as `current`.
    private func readStart(current: LogFileReader?, start: Start, emit: (Entry) -> Void) throws(ContainerError) {
        var older: [LogFileReader] = []
        for rotated in rotatedPaths() {
            guard let reader = try LogFileReader(path: rotated), reader.identity != current?.identity else { continue }
            older.append(reader)
        }
        var files = older + (current.map { [$0] } ?? [])
        if case .after(let position) = start, let identity = position.identity,
           let marked = files.firstIndex(where: { $0.identity == identity }) {
            // The marked file from its offset, then every newer one. (A marked file rotated away
            // since, or a log that did not exist, is read from its oldest file on.)
            try files[marked].seek(to: position.offset)
            files = Array(files[marked...])
        }
        if case .last(let count) = start {
            // Walk back from the newest file until `count` lines are found; older files are skipped.
            var remaining = max(count, 0)
            var first = files.count
            while first > 0 {
                let file = files[first - 1]
                let (offset, lines) = try file.tailStart(lines: remaining)
                try file.seek(to: offset)
                first -= 1
                remaining -= lines
                if remaining == 0 { break }
            }
            files = Array(files[first...])
        }
        for file in files {
            try file.readLines { if let entry = Entry(line: $0) { emit(entry) } }
        }
    }
}

import CFileSystem
import FileSystem
import Runtime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A RUN step's output while other stages are built beside it. Two containers writing to one fd
/// would mix their lines, and a line written in two pieces could be cut by the other's: here the
/// step's container writes into a pipe of its own, a thread cuts what comes into lines, and each
/// whole line goes to the build's output in one write with the step's label in front
/// (`[one 2/8] text`), under the lock every concurrent stage's writes take.
final class LabeledOutput: @unchecked Sendable {
    /// Taken around each write of a concurrent stage: its labelled lines and the builder's own.
    static let writes = Mutex(())

    /// Longer than this without a line end, the text so far is written as a line of its own.
    static let longestLine = 16384

    /// What the step's container writes to.
    let input: Int32
    private let readEnd: Int32
    private let label: [UInt8]
    private let destination: Int32
    /// Set once the container has ended: whatever it wrote is in the pipe by then.
    private let ending = Atomic<Bool>(false)
    /// The relay; nil once `finish` has joined it.
    private var thread: WorkerThread?
    private var pending: [UInt8] = []

    /// Nil when no pipe or thread can be made: the step then writes to `destination` itself.
    init?(label: String, destination: Int32) {
        var fds: [Int32] = [-1, -1]
        // Close-on-exec from the start: another stage's container is cloned meanwhile, and a
        // copy of the write end it kept would be one more writer.
        guard berth_pipe_cloexec(&fds) == 0 else { return nil }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        readEnd = fds[0]
        input = fds[1]
        self.label = Array(label.utf8)
        self.destination = destination
        thread = WorkerThread.start { self.relay() }
        if thread == nil {
            close(readEnd)
            close(input)
            return nil
        }
    }

    /// After the container's end: the rest of its output written (a last line without its end
    /// gets one), the thread joined and the pipe closed. Once; later calls do nothing.
    func finish() {
        guard let thread else { return }
        self.thread = nil
        ending.store(true, ordering: .sequentiallyConsistent)
        thread.join()
        close(readEnd)
        close(input)
    }

    /// The thread: reads what comes until `finish`, then what is left (the pipe is not waited
    /// to close: a process of the container that outlived it could hold it open).
    private func relay() {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            // Asked first: when it is set, the container has ended and all it wrote can be read now.
            let last = ending.load(ordering: .sequentiallyConsistent)
            var entry = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            if !last { _ = poll(&entry, 1, 100) }
            while true {
                let n = read(readEnd, &buffer, buffer.count)
                if n > 0 {
                    take(buffer[0..<n])
                } else if n < 0, errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            if last { break }
        }
        if !pending.isEmpty { emit(pending) }
        pending = []
    }

    private func take(_ bytes: ArraySlice<UInt8>) {
        pending += bytes
        var lines: [UInt8] = []
        while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
            lines += label + pending[..<end] + [UInt8(ascii: "\n")]
            pending.removeSubrange(...end)
        }
        if pending.count > Self.longestLine {
            lines += label + pending + [UInt8(ascii: "\n")]
            pending = []
        }
        if !lines.isEmpty { write(lines) }
    }

    private func emit(_ line: [UInt8]) { write(label + line + [UInt8(ascii: "\n")]) }

    /// Whole lines, in one write under the lock. Nowhere to report a failed write: dropped.
    private func write(_ bytes: [UInt8]) {
        Self.writes.withLock { _ in try? FileIO.writeAll(destination, bytes, path: "the build's output") }
    }
}

extension BuildProgress {
    /// The same progress with each of its lines written under `LabeledOutput.writes`: a stage
    /// built beside others never writes a line into the middle of another's.
    func serialized() -> BuildProgress {
        let line = self.line
        return BuildProgress(output: output) { text in LabeledOutput.writes.withLock { _ in line(text) } }
    }
}

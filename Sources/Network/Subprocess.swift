import CFileSystem
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to its end with `input` on its stdin, and returns its exit status and what it
/// wrote: the `nft` front end of libnftables for berth's table, and CNI plugins. Never through a
/// shell; the environment is only what is given.
enum Subprocess {
    struct Result {
        var status: Int32
        var output: [UInt8]
        var errorOutput: [UInt8]

        var errorText: String {
            let text = String(decoding: errorOutput.isEmpty ? output : errorOutput, as: UTF8.self)
            return text.split(whereSeparator: \.isNewline).prefix(3).joined(separator: "; ")
        }
    }

    /// `timeout` (seconds): a program still running then is killed (a CNI plugin waiting on a
    /// daemon that never answers must not hang a container's start).
    static func run(_ path: String, _ arguments: [String], environment: [String] = [], input: [UInt8],
                    timeout: Int = 300) throws -> Result {
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard berth_pipe_cloexec(&inPipe) == 0 else { throw NetworkError.system("cannot run \(path): pipe") }
        guard berth_pipe_cloexec(&outPipe) == 0 else {
            inPipe.forEach { close($0) }
            throw NetworkError.system("cannot run \(path): pipe")
        }
        guard berth_pipe_cloexec(&errPipe) == 0 else {
            (inPipe + outPipe).forEach { close($0) }
            throw NetworkError.system("cannot run \(path): pipe")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
        close(inPipe[0])
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            [inPipe[1], outPipe[0], errPipe[0]].forEach { close($0) }
            throw NetworkError.system("cannot run \(path)", errno: rc)
        }
        // Small inputs and outputs: the input fits the pipe, so writing it all first cannot
        // dead-lock with a child blocked on a full output pipe before reading its input.
        var written = 0
        input.withUnsafeBytes { bytes in
            while written < bytes.count {
                guard let base = bytes.baseAddress else { break }
                let n = write(inPipe[1], base + written, bytes.count - written)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                written += n
            }
        }
        close(inPipe[1])
        let (output, errorOutput, timedOut) = readBoth(outPipe[0], errPipe[0], deadline: time(nil) + timeout)
        close(outPipe[0])
        close(errPipe[0])
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        if timedOut {
            return Result(status: exit, output: [], errorOutput: Array("it did not finish within \(timeout) seconds and was killed".utf8))
        }
        return Result(status: exit, output: output, errorOutput: errorOutput)
    }

    /// Reads two pipes to their ends, whichever has data first, until `deadline` (true: it passed).
    private static func readBoth(_ a: Int32, _ b: Int32, deadline: time_t) -> ([UInt8], [UInt8], Bool) {
        var out: [[UInt8]] = [[], []]
        var open = [true, true]
        var buffer = [UInt8](repeating: 0, count: 16384)
        while open[0] || open[1] {
            var fds = [pollfd(fd: open[0] ? a : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: open[1] ? b : -1, events: Int16(POLLIN), revents: 0)]
            let left = deadline - time(nil)
            if left <= 0 { return (out[0], out[1], true) }
            if poll(&fds, 2, Int32(min(left, 60)) * 1000) < 0 {
                if errno == EINTR { continue }
                break
            }
            for i in 0..<2 where open[i] && fds[i].revents != 0 {
                let n = read(fds[i].fd, &buffer, buffer.count)
                if n > 0 { out[i] += buffer[0..<n] } else if n == 0 || errno != EINTR { open[i] = false }
            }
        }
        return (out[0], out[1], false)
    }
}

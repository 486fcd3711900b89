import FileSystem
#if canImport(Glibc)
import Glibc
#endif

/// berth-oci's output: whole lines to an fd, retried on EINTR.
enum OCIOutput {
    static func writeLine(_ fd: Int32, _ text: String) {
        write(fd, text + "\n")
    }

    static func write(_ fd: Int32, _ text: String) {
        // Nowhere to report a failed write to the user's terminal or pipe: it is dropped.
        try? FileIO.writeAll(fd, Array(text.utf8), path: "fd \(fd)")
    }
}

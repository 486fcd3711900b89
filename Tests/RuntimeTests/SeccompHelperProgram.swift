import Foundation

/// A tiny C program, built with gcc at test time, that loads a BPF program the way berth's child
/// does (no_new_privs, then prctl PR_SET_SECCOMP) and makes one system call, printing its errno
/// (0 for success). Swift can't fork safely, so the behaviour of a filter is checked in this
/// separate process; with "-" instead of a file it runs unfiltered, for a baseline.
enum SeccompHelper {
    /// The built helper, or nil when there is no C compiler (the tests that need it are skipped).
    static let path: String? = try? build()

    static var isAvailable: Bool { path != nil }

    /// What one run of the helper did.
    enum Outcome: Equatable {
        /// The call returned; 0 is success, anything else the errno it failed with.
        case errno(Int32)
        /// The helper died of this signal (a KILL or TRAP action).
        case signal(Int32)
        /// The helper itself failed (it prints why on stderr).
        case failed(Int32)
    }

    /// Runs `op` with `argument` under the filter in `bpfPath` ("-" for none).
    static func run(_ bpfPath: String, _ op: String, _ argument: UInt64 = 0) throws -> Outcome {
        guard let path else { throw CocoaError(.fileNoSuchFile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = [bpfPath, op, "0x" + String(argument, radix: 16)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationReason == .uncaughtSignal { return .signal(process.terminationStatus) }
        guard process.terminationStatus == 0,
              let number = Int32(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else { return .failed(process.terminationStatus) }
        return .errno(number)
    }

    /// Everything the helper needs lives in one directory per test process, removed when the
    /// process exits.
    static let directory: String = {
        let dir = NSTemporaryDirectory() + "berth-seccomp-helper-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        atexit {
            try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "berth-seccomp-helper-\(getpid())")
        }
        return dir
    }()

    /// Writes `program` to a fresh file and returns its path.
    static func write(_ program: [UInt8]) throws -> String {
        let path = directory + "/\(UUID().uuidString).bpf"
        try Data(program).write(to: URL(fileURLWithPath: path))
        return path
    }

    private static func build() throws -> String {
        let directory = Self.directory
        let source = directory + "/helper.c"
        let binary = directory + "/helper"
        try cSource.write(toFile: source, atomically: false, encoding: .utf8)
        let gcc = Process()
        gcc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gcc.arguments = ["gcc", "-O1", "-Wall", "-Werror", "-o", binary, source]
        try gcc.run()
        gcc.waitUntilExit()
        guard gcc.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
        return binary
    }

    static let cSource = #"""
    #define _GNU_SOURCE
    #include <errno.h>
    #include <fcntl.h>
    #include <linux/filter.h>
    #include <linux/seccomp.h>
    #include <sched.h>
    #include <signal.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <sys/prctl.h>
    #include <sys/syscall.h>
    #include <sys/wait.h>
    #include <unistd.h>

    static int load(const char *path) {
        static unsigned char buf[65536];
        int fd = open(path, O_RDONLY);
        if (fd < 0) return -1;
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        if (n <= 0 || n % 8) return -1;
        struct sock_fprog prog = { .len = (unsigned short)(n / 8), .filter = (struct sock_filter *)buf };
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) return -1;
        return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
    }

    static long result(long rc) { return rc == -1 ? errno : 0; }

    static long child_result(long pid) {
        if (pid == 0) _exit(0);
        if (pid < 0) return errno;
        int status;
        waitpid((pid_t)pid, &status, 0);
        return 0;
    }

    #if defined(__x86_64__)
    /* A 32-bit system call from a 64-bit process: seccomp sees AUDIT_ARCH_I386. */
    static long int80(long nr, long arg) {
        long ret;
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(arg) : "memory", "r8", "r9", "r10", "r11");
        return ret < 0 ? -ret : 0;
    }
    #endif

    int main(int argc, char **argv) {
        if (argc < 3) return 2;
        if (strcmp(argv[1], "-") != 0 && load(argv[1]) != 0) { perror("load"); return 3; }
        const char *op = argv[2];
        unsigned long arg = argc > 3 ? strtoul(argv[3], NULL, 0) : 0;
        long err;
        if (!strcmp(op, "getpid")) err = result(syscall(SYS_getpid));
        else if (!strcmp(op, "fork")) err = child_result(fork());
        else if (!strcmp(op, "clone")) err = child_result(syscall(SYS_clone, arg | SIGCHLD, 0, 0, 0, 0));
        else if (!strcmp(op, "clone3")) err = result(syscall(SYS_clone3, NULL, 0));
        else if (!strcmp(op, "unshare")) err = result(syscall(SYS_unshare, arg));
        else if (!strcmp(op, "setns")) err = result(syscall(SYS_setns, -1, 0));
        else if (!strcmp(op, "mount")) err = result(syscall(SYS_mount, NULL, NULL, NULL, 0, NULL));
        else if (!strcmp(op, "umount2")) err = result(syscall(SYS_umount2, NULL, 0));
        else if (!strcmp(op, "fsopen")) err = result(syscall(SYS_fsopen, NULL, 0));
        else if (!strcmp(op, "keyctl")) err = result(syscall(SYS_keyctl, 9999, 0, 0, 0, 0));
        else if (!strcmp(op, "add_key")) err = result(syscall(SYS_add_key, NULL, NULL, NULL, 0, 0));
        else if (!strcmp(op, "personality")) err = result(syscall(SYS_personality, arg));
        else if (!strcmp(op, "ptrace")) err = result(syscall(SYS_ptrace, 9999, 0, 0, 0));
        else if (!strcmp(op, "bpf")) err = result(syscall(SYS_bpf, -1, NULL, 0));
        else if (!strcmp(op, "perf_event_open")) err = result(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
        else if (!strcmp(op, "userfaultfd")) err = result(syscall(SYS_userfaultfd, -1));
        else if (!strcmp(op, "kexec_load")) err = result(syscall(SYS_kexec_load, 0, 0, NULL, -1));
        else if (!strcmp(op, "io_uring_setup")) err = result(syscall(SYS_io_uring_setup, 1, NULL));
        else if (!strcmp(op, "chroot")) err = result(syscall(SYS_chroot, "/"));
        else if (!strcmp(op, "nr")) err = result(syscall((long)arg, 0, 0, 0, 0, 0));
        else if (!strcmp(op, "uname")) { char buf[512]; err = result(syscall(SYS_uname, buf)); }
    #if defined(__x86_64__)
        else if (!strcmp(op, "i386-unshare")) err = int80(310, (long)arg);
        else if (!strcmp(op, "i386-getpid")) err = int80(20, 0);
        else if (!strcmp(op, "i386-nr")) err = int80((long)arg, 0);
        else if (!strcmp(op, "x32-unshare")) err = result(syscall(0x40000000 | 272, arg));
    #endif
        else return 2;
        printf("%ld\n", err);
        return 0;
    }
    """#
}

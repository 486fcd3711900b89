// berth-entry: the program a container's first process (and each `berth exec`'s) becomes before
// it runs the command. berth's child execs it from a sealed memfd, so /proc/PID/exe of anything in
// the container is that sealed copy, never the host's berth binary: a command or script
// interpreter naming /proc/self/exe, or a process opening /proc/PID/exe of one starting up, can
// reach nothing it could write (CVE-2019-5736). A separate program because only an execve changes
// what /proc/PID/exe is, and a small one because berth copies it into a memfd for every container:
// no C library (8 KiB against 750 KiB for a static glibc program; the copy costs 0.03 ms against
// 0.6 ms), only system calls (syscall.h).
//
//     berth-entry ERRFD MODE PATH ARGV...
//
// ERRFD is berth's error pipe (a failed exec is reported on it as a berth_child_error, as the
// child's own steps are; EOF on it means the command runs). MODE is `exec`, or `init` / `init-tty`
// for pid 1 as a tiny init that forwards signals and reaps orphans, the command its child (in the
// terminal's foreground with `init-tty`), or `file`: PATH is then the file to exec with ARGV as it
// is (an OCI hook, whose argv[0] need not be its path). Otherwise PATH is where to look for ARGV[0]
// when it has no slash (empty: the default). The environment is the command's.
#include "syscall.h"

#include "cspawn.h"
#include "path_join.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
// What the child's own failures end with; the parent reads the report, not this.
#define EXIT_FAILED_SETUP 125

static size_t length(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

static int has_slash(const char *s) {
    for (; *s; s++) if (*s == '/') return 1;
    return 0;
}

// A decimal fd ending at `end` or at the string's end; `*rest` points at where it stopped.
static int parse_fd(const char *s, char end, const char **rest) {
    int fd = 0;
    if (!*s || *s == end) return -1;
    for (; *s && *s != end; s++) {
        if (*s < '0' || *s > '9' || fd > 100000) return -1;
        fd = fd * 10 + (*s - '0');
    }
    *rest = s;
    return fd;
}

static int same(const char *a, const char *b) {
    while (*a && *a == *b) { a++; b++; }
    return *a == *b;
}

static void say(const char *text) {
    sys3(SYS_write, 2, (long)text, (long)length(text));
}

// `result` is the kernel's answer to the failed call: -errno.
static void report(int errfd, int step, long result) {
    struct berth_child_error e = { .step = step, .index = -1, .error = (int32_t)-result };
    long n;
    do { n = sys3(SYS_write, errfd, (long)&e, sizeof e); } while (n == -EINTR);
}

// berth-oci's create/start split: the setup is done (said on the error pipe, which berth-oci
// create then stops reading), and the command waits for the one byte `berth-oci start` writes
// to the exec fifo. The pipe is closed first: nothing reads it any more, and a write to it
// would only raise SIGPIPE. Returns the error fd to use from here on: none (-1).
static int wait_for_start(int errfd, int startfd) {
    report(errfd, BERTH_STEP_WAIT_START, 0);
    sys1(SYS_close, errfd);
    char go;
    long n;
    do { n = sys3(SYS_read, startfd, (long)&go, 1); } while (n == -EINTR);
    sys1(SYS_close, startfd);
    if (n != 1) {
        say("berth-entry: the exec fifo closed before start; not running the command\n");
        sys1(SYS_exit_group, EXIT_FAILED_SETUP);
    }
    return -1;
}

// execvp without allocation: each PATH entry in turn, remembering EACCES as execvp does. An
// entry too long to join with the name is skipped; when every entry was, the answer is
// ENAMETOOLONG rather than a "not found" that no lookup established. Returns the error.
static long exec_command(const char *path, char **argv, char **envp) {
    const char *file = argv[0];
    if (has_slash(file)) return sys3(SYS_execve, (long)file, (long)argv, (long)envp);
    const char *p = *path ? path : DEFAULT_PATH;
    int seen_eacces = 0, tried = 0;
    char buf[4096];
    for (;;) {
        const char *end = p;
        while (*end && *end != ':') end++;
        if (berth_join_path(buf, sizeof buf, p, (size_t)(end - p), file) >= 0) {
            tried = 1;
            long error = sys3(SYS_execve, (long)buf, (long)argv, (long)envp);
            switch (-error) {
            case EACCES: seen_eacces = 1; break;
            case ENOENT: case ENOTDIR: case ESTALE: case ENODEV: case ETIMEDOUT: break;
            default: return error;   // found but unusable (ENOEXEC, E2BIG, ...): report that
            }
        }
        if (!*end) break;
        p = end + 1;
    }
    return seen_eacces ? -EACCES : tried ? -ENOENT : -ENAMETOOLONG;
}

// The last step, in the process that becomes the command: no descriptor of berth's (the error
// pipe) may stay open in it, and it starts with no signal blocked.
__attribute__((noreturn))
static void become_command(int errfd, const char *path, int path_is_file, char **argv, char **envp) {
    if (errfd >= 0) sys3(SYS_fcntl, errfd, F_SETFD, FD_CLOEXEC);
    unsigned long none = 0;
    sys4(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, sizeof none);
    long error = path_is_file ? sys3(SYS_execve, (long)path, (long)argv, (long)envp) : exec_command(path, argv, envp);
    // After a start there is no one on the pipe: the reason goes to the container's stderr.
    if (errfd < 0) {
        say("berth-entry: cannot exec ");
        say(argv[0]);
        say(error == -ENOENT ? ": not found\n" : error == -EACCES ? ": permission denied\n" : ": exec failed\n");
    }
    report(errfd, BERTH_STEP_EXEC, error);
    sys1(SYS_exit_group, EXIT_FAILED_SETUP);
    __builtin_unreachable();
}

static int exit_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
}

// pid 1 without a handler ignores most signals and never reaps orphans; a container whose
// command was not written to be an init needs one that does both. tini's idea in a few system
// calls: every signal stays blocked (berth's child blocked them all before exec'ing this) and is
// taken synchronously.
__attribute__((noreturn))
static void init(int errfd, int foreground, const char *path, char **argv, char **envp) {
    sys2(SYS_prctl, PR_SET_NAME, (long)"berth-init");
    long child = sys_fork();
    if (child == 0) {
        // The command leads its own process group and owns the terminal, so job control in an
        // interactive shell works as it would without the init.
        sys2(SYS_setpgid, 0, 0);
        if (foreground) {
            int self = (int)sys0(SYS_getpid);
            sys3(SYS_ioctl, 0, TIOCSPGRP, (long)&self);
        }
        become_command(errfd, path, 0, argv, envp);
    }
    if (child < 0) {
        report(errfd, BERTH_STEP_INIT_FORK, child);
        sys1(SYS_exit_group, EXIT_FAILED_SETUP);
    }
    // The init keeps stdio only: the error pipe would otherwise stay open as long as it runs.
    sys3(SYS_close_range, 3, ~0U, 0);
    unsigned long all = ~0UL;
    for (;;) {
        long sig = sys4(SYS_rt_sigtimedwait, (long)&all, 0, 0, sizeof all);
        if (sig < 0) {
            if (sig == -EINTR) continue;
            sys1(SYS_exit_group, 255);
        }
        if (sig != SIGCHLD) {
            // Stop/continue signals from the terminal are about the command, not the init.
            sys2(SYS_kill, child, sig);
            continue;
        }
        int status;
        long pid;
        while ((pid = sys4(SYS_wait4, -1, (long)&status, WNOHANG, 0)) > 0) {
            // When the command ends, so does the container: the kernel kills what is left in
            // the pid namespace once pid 1 exits.
            if (pid == child) sys1(SYS_exit_group, exit_code(status));
        }
    }
}

__attribute__((noreturn, used))
void entry_main(long *stack) {
    int argc = (int)stack[0];
    char **argv = (char **)(stack + 1);
    char **envp = argv + argc + 1;
    const char *rest = "";
    int errfd = argc >= 5 ? parse_fd(argv[1], ',', &rest) : -1;
    int startfd = *rest == ',' ? parse_fd(rest + 1, 0, &rest) : -1;
    if (errfd < 3) {
        // Not started by berth (a command or script interpreter naming /proc/self/exe, say):
        // there is nothing to do.
        say("berth-entry: starts a container's command for berth; it is not a command itself\n");
        sys1(SYS_exit_group, 126);
    }
    const char *mode = argv[2], *path = argv[3];
    char **command = argv + 4;
    if (startfd > 2) errfd = wait_for_start(errfd, startfd);
    if (same(mode, "exec")) become_command(errfd, path, 0, command, envp);
    if (same(mode, "file")) become_command(errfd, path, 1, command, envp);
    if (same(mode, "init")) init(errfd, 0, path, command, envp);
    if (same(mode, "init-tty")) init(errfd, 1, path, command, envp);
    report(errfd, BERTH_STEP_EXEC_ENTRY, -EINVAL);
    sys1(SYS_exit_group, EXIT_FAILED_SETUP);
    __builtin_unreachable();
}

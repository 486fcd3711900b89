// berth-monitor: the small process that stays with a detached container.
//
// `berth run -d` forks; the child launches the container (so it is the parent of the container's
// init, which has PR_SET_PDEATHSIG=SIGKILL) and then execs this program, which:
//   1. tells the berth that started it (--ready-fd) that it is set up, or why it could not be;
//   2. watches the init through a pidfd, and reaps any other child it may have;
//   3. copies the container's output (pipes, or a pty master) into a json-file log, rotated by
//      size, with fixed buffers: memory stays the same whatever the container writes;
//   4. with --health-interval, runs the container's health check (HEALTH-ARG..., which is
//      `berth health-check ID`) that long after the previous one ended, one at a time, as a
//      child with only stdio open (never the lock fd, so a check never holds the container up);
//   5. once the init has exited and its output is drained, execs EXIT-PROGRAM ARG... with
//      `--exit-status N` appended (N: the exit code, or 128 + the signal that killed it).
//
// It is C, not Swift, so that one per container costs little memory (the loop allocates
// nothing; no threads). It never closes fds it was not given: berth passes a flock'ed lock fd
// whose being held says the container is alive, and that fd goes on to EXIT-PROGRAM.
// It ignores every signal that would end it (SIGHUP, SIGINT, SIGTERM, SIGPIPE, ...): only
// SIGKILL stops it; `berth stop` signals the container, not the monitor.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jsonlog.h"
#include "options.h"
#include "stream.h"

// Once the init has exited, output is drained until EOF, or until this long without data,
// or at most DRAIN_LIMIT_MS in all (a process outside the container's pid namespace may
// hold the pipe open and keep writing; it must not keep the monitor alive).
#define DRAIN_IDLE_MS 1000
#define DRAIN_LIMIT_MS 5000

#define EXIT_CANNOT_START 125

static struct output_stream streams[2];
static struct jsonlog log_file;

// The --ready-fd of the berth that is waiting for the container to start, or -1.
static int ready_fd = -1;

static void tell_ready(const char *text) {
    if (ready_fd < 0) return;
    size_t length = strlen(text);
    while (length > 0) {
        ssize_t n = write(ready_fd, text, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text += n;
        length -= (size_t)n;
    }
    close(ready_fd);
    ready_fd = -1;
}

static void fail(const char *message) {
    // Before the loop only: stdio is fine here.
    fprintf(stderr, "berth-monitor: %s\n", message);
    char answer[320];
    // berth reads "CODE message", CODE one of BerthError's codes.
    snprintf(answer, sizeof(answer), "systemError berth-monitor: %s", message);
    tell_ready(answer);
    exit(EXIT_CANNOT_START);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Docker's encoding of how a process ended: its exit code, or 128 + the signal that killed it.
static int encode_status(const siginfo_t *info) {
    if (info->si_code == CLD_EXITED) return info->si_status;
    return 128 + info->si_status;
}

struct watched {
    pid_t pid;
    int exited;
    int status;   // encoded, valid once exited
};

// The health check: the helper running now (0: none), and when the next one is due.
struct health {
    unsigned long long interval_ms;   // 0: the container has no check
    char **argv;
    pid_t running;
    long long due_ms;
};

static struct health health;

// Starts the health check helper. Between fork and exec only async-signal-safe calls: the
// dispositions and mask this process changed go back to the defaults, and every fd but stdio
// (all /dev/null) is closed, the lock fd above all.
static void start_health_check(const sigset_t *original_mask) {
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof(dfl));
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < _NSIG; sig++) sigaction(sig, &dfl, NULL);
        sigprocmask(SIG_SETMASK, original_mask, NULL);
        if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
            for (int fd = 3; fd < 65536; fd++) close(fd);
        }
        execv(health.argv[0], health.argv);
        _exit(127);
    }
    // A failed fork is tried again at the next interval.
    health.running = pid > 0 ? pid : 0;
    if (pid <= 0) health.due_ms = now_ms() + (long long)health.interval_ms;
}

// Notes the init's end and reaps every other child that has ended (a process the berth child
// forked before it exec'd us, say). The init itself is left a zombie (WNOWAIT): while the
// container's record names its pid, that pid must not be free for another process to take, so
// `berth monitor-exit`, which this process becomes, reaps it once the record says it ended.
static void reap(struct watched *init) {
    if (!init->exited) {
        siginfo_t info;
        memset(&info, 0, sizeof(info));
        if (waitid(P_PID, (id_t)init->pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == init->pid) {
            init->exited = 1;
            init->status = encode_status(&info);
        }
    }
    for (;;) {
        siginfo_t info;
        memset(&info, 0, sizeof(info));
        if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) break;
        // The init's zombie may come first and hide the rest: they wait with it for the end.
        if (info.si_pid == init->pid) break;
        waitid(P_PID, (id_t)info.si_pid, &info, WEXITED | WNOHANG);
        if (health.running != 0 && info.si_pid == health.running) {
            health.running = 0;
            health.due_ms = now_ms() + (long long)health.interval_ms;
        }
    }
}

// Every signal whose default action ends the process is ignored, except those the kernel sends
// for a fault in the process itself. SIGCHLD is blocked and read from the signalfd.
static int setup_signals(sigset_t *original_mask) {
    struct sigaction ignore;
    memset(&ignore, 0, sizeof(ignore));
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    for (int sig = 1; sig < _NSIG; sig++) {
        switch (sig) {
        case SIGKILL: case SIGSTOP: case SIGCHLD: case SIGCONT: case SIGWINCH: case SIGURG:
        case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: case SIGTRAP: case SIGABRT: case SIGSYS:
            continue;
        default:
            sigaction(sig, &ignore, NULL);   // EINVAL for the signals glibc reserves: harmless
        }
    }
    // SIGCHLD ignored would make the kernel reap children itself (and waitid fail): undo an
    // inherited SIG_IGN.
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &dfl, NULL);

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &chld, original_mask) != 0) return -1;
    return signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void drain_signalfd(int fd) {
    struct signalfd_siginfo info[8];
    while (read(fd, info, sizeof(info)) > 0) {
    }
}

// The event loop: returns once the init has exited and its output is drained.
static void run(struct watched *init, int pidfd, int sigfd, const sigset_t *original_mask) {
    // The init may have exited before the monitor started: its output is still to be read.
    long long exited_at = init->exited ? now_ms() : 0;
    long long last_data = exited_at;
    for (;;) {
        struct pollfd fds[4];
        int count = 0;
        fds[count++] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
        int pid_index = -1;
        if (!init->exited) {
            pid_index = count;
            fds[count++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
        }
        int stream_index[2] = { -1, -1 };
        for (int s = 0; s < 2; s++) {
            if (streams[s].fd < 0) continue;
            stream_index[s] = count;
            fds[count++] = (struct pollfd){ .fd = streams[s].fd, .events = POLLIN };
        }

        int timeout = -1;
        if (init->exited) {
            if (stream_index[0] < 0 && stream_index[1] < 0) return;
            long long now = now_ms();
            long long deadline = last_data + DRAIN_IDLE_MS;
            if (exited_at + DRAIN_LIMIT_MS < deadline) deadline = exited_at + DRAIN_LIMIT_MS;
            if (now >= deadline) return;
            timeout = (int)(deadline - now);
        } else if (health.interval_ms != 0 && health.running == 0) {
            long long wait = health.due_ms - now_ms();
            if (wait <= 0) {
                start_health_check(original_mask);
                continue;
            }
            timeout = wait > 60 * 60 * 1000 ? 60 * 60 * 1000 : (int)wait;
        }

        int ready = poll(fds, (nfds_t)count, timeout);
        if (ready < 0) {
            if (errno == EINTR) continue;
            // poll itself failing (ENOMEM) should not spin: wait a little and try again.
            struct timespec pause = { 0, 10 * 1000 * 1000 };
            nanosleep(&pause, NULL);
            continue;
        }

        if (fds[0].revents) drain_signalfd(sigfd);
        if (fds[0].revents || (pid_index >= 0 && fds[pid_index].revents)) {
            int was_exited = init->exited;
            reap(init);
            if (!was_exited && init->exited) exited_at = last_data = now_ms();
        }
        for (int s = 0; s < 2; s++) {
            if (stream_index[s] < 0 || fds[stream_index[s]].revents == 0) continue;
            switch (stream_read(&streams[s], &log_file)) {
            case STREAM_DATA:
                if (init->exited) last_data = now_ms();
                break;
            case STREAM_END:
                stream_finish(&streams[s], &log_file);
                break;
            case STREAM_IDLE:
                break;
            }
        }
        jsonlog_flush(&log_file);
    }
}

static char status_word[16];

int main(int argc, char **argv) {
    struct monitor_options opts;
    char why[256];
    if (parse_options(argc, argv, &opts, why, sizeof(why)) != 0) fail(why);
    ready_fd = opts.ready_fd;

    // Everything exec needs is prepared now, so nothing can fail for want of memory later.
    char **exit_argv = calloc((size_t)opts.exit_argc + 3, sizeof(char *));
    if (exit_argv == NULL) fail("out of memory");

    sigset_t original_mask;
    int sigfd = setup_signals(&original_mask);
    if (sigfd < 0) {
        snprintf(why, sizeof(why), "signalfd: %s", strerror(errno));
        fail(why);
    }

    int pidfd = (int)syscall(SYS_pidfd_open, opts.pid, 0);
    if (pidfd < 0) {
        snprintf(why, sizeof(why), "pidfd_open(%d): %s", (int)opts.pid, strerror(errno));
        fail(why);
    }
    siginfo_t probe;
    memset(&probe, 0, sizeof(probe));
    if (waitid(P_PID, (id_t)opts.pid, &probe, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD) {
        snprintf(why, sizeof(why), "process %d is not a child of the monitor", (int)opts.pid);
        fail(why);
    }
    // pidfd_open sets O_CLOEXEC itself.

    if (jsonlog_open(&log_file, opts.log_path, opts.log_max_size, opts.log_max_files) != 0) {
        snprintf(why, sizeof(why), "cannot open the log %s: %s", opts.log_path, strerror(errno));
        fail(why);
    }

    for (int s = 0; s < 2; s++) streams[s].fd = -1;
    if (opts.pty_fd >= 0) {
        stream_init(&streams[0], opts.pty_fd, "stdout");
    } else {
        if (opts.stdout_fd >= 0) stream_init(&streams[0], opts.stdout_fd, "stdout");
        if (opts.stderr_fd >= 0) stream_init(&streams[1], opts.stderr_fd, "stderr");
    }

    // Set up: the berth that started the container may report it running.
    tell_ready("ok");

    struct watched init = { .pid = opts.pid, .exited = 0, .status = 0 };
    reap(&init);   // it may be gone already
    health.interval_ms = opts.health_interval_ms;
    health.argv = opts.health_argv;
    health.due_ms = now_ms() + (long long)health.interval_ms;
    run(&init, pidfd, sigfd, &original_mask);

    for (int s = 0; s < 2; s++) stream_finish(&streams[s], &log_file);
    jsonlog_close(&log_file);
    close(pidfd);
    close(sigfd);

    // EXIT-PROGRAM ARG... --exit-status N
    int status = init.status;
    int k = 0;
    for (int a = 0; a < opts.exit_argc; a++) exit_argv[k++] = opts.exit_argv[a];
    snprintf(status_word, sizeof(status_word), "%d", status);
    exit_argv[k++] = "--exit-status";
    exit_argv[k++] = status_word;
    exit_argv[k] = NULL;
    sigprocmask(SIG_SETMASK, &original_mask, NULL);
    execv(exit_argv[0], exit_argv);

    fprintf(stderr, "berth-monitor: exec %s: %s; the container exited with status %d\n",
            exit_argv[0], strerror(errno), status);
    return status;
}

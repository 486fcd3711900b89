#define _GNU_SOURCE
#include "csyscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <string.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include <linux/nsfs.h>
#include <unistd.h>

#include "openat2_in_root.h"

int berth_open_in_root(const char *root, const char *path, int flags) {
    int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) return -1;
    int fd = berth_openat2_in_root(rootfd, path, flags);
    int saved = errno;
    close(rootfd);
    errno = saved;
    return fd;
}

int berth_pidfd_send_signal(int pidfd, int sig) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int berth_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

const unsigned long berth_clone_newns = CLONE_NEWNS, berth_clone_newpid = CLONE_NEWPID,
    berth_clone_newuts = CLONE_NEWUTS, berth_clone_newipc = CLONE_NEWIPC,
    berth_clone_newnet = CLONE_NEWNET, berth_clone_newcgroup = CLONE_NEWCGROUP,
    berth_clone_newuser = CLONE_NEWUSER, berth_clone_newtime = CLONE_NEWTIME;

long berth_namespace_type(int fd) {
    return ioctl(fd, NS_GET_NSTYPE);
}

int berth_signalfd(const sigset_t *signals) {
    return signalfd(-1, signals, SFD_CLOEXEC | SFD_NONBLOCK);
}

int berth_open_pty(int *master, int *slave, char *name, size_t size) {
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) return -1;
    if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, size) != 0) goto fail;
    int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) goto fail;
    *master = m;
    *slave = s;
    return 0;
fail: {
        int saved = errno;
        close(m);
        errno = saved;
        return -1;
    }
}

int berth_open_pty_in(int ptmx, int *master, int *slave, char *name, size_t size) {
    // `ptmx` is the container's devpts multiplexer (opened by the caller without following the
    // container's symlinks out of its root); the slave is reached through the master
    // (TIOCGPTPEER), never by a path, so it is certainly this pair's.
    unsigned int number = 0;
    int unlock = 0;
    if (ioctl(ptmx, TIOCSPTLCK, &unlock) < 0 || ioctl(ptmx, TIOCGPTN, &number) < 0) return -1;
    int s = ioctl(ptmx, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0) return -1;
    if (snprintf(name, size, "/dev/pts/%u", number) >= (int)size) {
        close(s);
        errno = ENAMETOOLONG;
        return -1;
    }
    *master = ptmx;
    *slave = s;
    return 0;
}

int berth_random_bytes(void *buffer, size_t length) {
    size_t filled = 0;
    while (filled < length) {
        ssize_t n = getrandom((char *)buffer + filled, length - filled, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        filled += (size_t)n;
    }
    return 0;
}

// How far a loop over fds goes on a kernel without close_range: the soft limit, at most 65536.
static unsigned int descriptor_limit(void) {
    struct rlimit rl;
    return getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (unsigned int)rl.rlim_cur : 65536;
}

void berth_cloexec_from(int first) {
    if (syscall(SYS_close_range, (unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
    for (unsigned int fd = (unsigned)first, limit = descriptor_limit(); fd < limit; fd++) fcntl((int)fd, F_SETFD, FD_CLOEXEC);
}

void berth_close_fds(unsigned int first, unsigned int last) {
    if (first > last || syscall(SYS_close_range, first, last, 0U) == 0) return;
    for (unsigned int fd = first, limit = descriptor_limit(); fd <= last && fd < limit; fd++) close((int)fd);
}

ssize_t berth_read_fully(int fd, void *buffer, size_t size) {
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, (char *)buffer + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

// setns(2) of the calling thread into `fd` (a namespace of `type`), keeping an fd of the one it
// leaves (`own`, /proc/thread-self/ns/...) to come back with.
static int enter_namespace(int fd, int type, const char *own) {
    int own_fd = open(own, O_RDONLY | O_CLOEXEC);
    if (own_fd < 0) return -1;
    if (setns(fd, type) < 0) {
        int e = errno;
        close(own_fd);
        errno = e;
        return -1;
    }
    return own_fd;
}

static void leave_namespace(int own_fd, int type) {
    if (setns(own_fd, type) < 0) abort();
    close(own_fd);
}

int berth_enter_network_namespace(int netns_fd) {
    return enter_namespace(netns_fd, CLONE_NEWNET, "/proc/thread-self/ns/net");
}

void berth_leave_network_namespace(int own_fd) { leave_namespace(own_fd, CLONE_NEWNET); }

int berth_enter_ipc_namespace(int ipcns_fd) {
    return enter_namespace(ipcns_fd, CLONE_NEWIPC, "/proc/thread-self/ns/ipc");
}

void berth_leave_ipc_namespace(int own_fd) { leave_namespace(own_fd, CLONE_NEWIPC); }

int berth_send_console(const char *path, int fd, const char *name) {
    struct sockaddr_un address;
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    size_t length = strlen(path);
    if (length >= sizeof address.sun_path) { errno = ENAMETOOLONG; return -1; }
    memcpy(address.sun_path, path, length);
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return -1;
    if (connect(sock, (struct sockaddr *)&address, sizeof address) < 0) {
        int saved = errno;
        close(sock);
        errno = saved;
        return -1;
    }
    struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                          .msg_controllen = sizeof control.buf };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    ssize_t n;
    do { n = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    int saved = errno;
    close(sock);
    errno = saved;
    return n < 0 ? -1 : 0;
}

// The child's side: enters the namespace, then sends errno (0: entered) and each map, a length
// before its bytes. Only async-signal-safe calls: the parent has other threads.
static void send_user_namespace_maps(int ns_fd, int out) {
    int error = setns(ns_fd, CLONE_NEWUSER) < 0 ? errno : 0;
    if (write(out, &error, sizeof error) != sizeof error || error) _exit(1);
    static const char *const maps[] = { "/proc/self/uid_map", "/proc/self/gid_map" };
    for (int i = 0; i < 2; i++) {
        char buffer[16384];   // 340 lines (the kernel's most) of three 10-digit ids fit
        int fd = open(maps[i], O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buffer, sizeof buffer);
        if (n < 0) _exit(1);
        if (write(out, &n, sizeof n) != sizeof n || write(out, buffer, (size_t)n) != n) _exit(1);
    }
    _exit(0);
}

// Reads exactly `length` bytes (the child may write in pieces); 0 at a short read.
static int read_all(int fd, void *buffer, size_t length) {
    return berth_read_fully(fd, buffer, length) == (ssize_t)length;
}

int berth_read_user_namespace_maps(int ns_fd, char *uid_map, char *gid_map, size_t size) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        errno = saved;
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        send_user_namespace_maps(ns_fd, fds[1]);
    }
    close(fds[1]);
    int error = EPROTO;
    char *maps[] = { uid_map, gid_map };
    if (read_all(fds[0], &error, sizeof error) && error == 0) {
        for (int i = 0; i < 2 && error == 0; i++) {
            ssize_t n = 0;
            if (!read_all(fds[0], &n, sizeof n) || n < 0) error = EPROTO;
            else if ((size_t)n >= size) error = EOVERFLOW;
            else if (!read_all(fds[0], maps[i], (size_t)n)) error = EPROTO;
            else maps[i][n] = 0;
        }
    }
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (error) { errno = error; return -1; }
    return 0;
}

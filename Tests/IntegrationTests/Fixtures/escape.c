// The escape-attempt suite: a static program run as a container's command. Each vector runs in
// its own forked child under a time limit and prints exactly one line:
//   BLOCKED NAME: what was tried, the errno, and what stopped it (seccomp, a capability not held,
//                 a read-only mount, a masked path, the device cgroup, a namespace)
//   ESCAPED NAME: what was reached
//   TIMEOUT NAME / CRASHED NAME: the child gave no verdict (a failure of the suite itself)
// Every vector is harmless when it succeeds (under --privileged many do): files that would hurt
// when written (core_pattern, sysrq-trigger, modprobe, release_agent, a runtime binary, a block
// device) are only opened for writing, never written or truncated; module loading and kexec get
// invalid arguments, so that EPERM tells "refused" from EINVAL/ENOEXEC's "reached"; mounts,
// umounts and pivot_root act only on the container's own mounts (in a private mount namespace
// when one can be made); TIOCSTI goes only into a pty the program itself opened.
//
// Usage: escape           every vector (exit 1 when one gave no verdict)
//        escape NAME...   those vectors (also selftest-timeout and selftest-crash)
//        escape list      the vector names, one a line
//        escape watch SECONDS [ARGV0]
//            the runtime-binary vector against processes entering the container meanwhile
//            (berth exec): waits for one whose binary is outside the container's root (run as
//            ARGV0, when given), holds it, and once it has exited tries to reopen that binary
//            for writing (CVE-2019-5736's shape); /escape-interp, which it writes, is the
//            #!/proc/self/exe interpreter trick
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define TIME_LIMIT 5
// The reason given when the kernel lacks the call or the /proc file (ENOSYS; ENOENT in /proc,
// where files cannot be removed and a masked one is /dev/null): nothing berth did stopped it.
#define NOT_IN_KERNEL "not in this kernel"
#define CAP_DAC_READ_SEARCH 2
#define CAP_SYS_MODULE 16
#define CAP_SYS_RAWIO 17
#define CAP_SYS_CHROOT 18
#define CAP_SYS_PTRACE 19
#define CAP_SYS_ADMIN 21
#define CAP_SYS_BOOT 22
#define CAP_PERFMON 38
#define CAP_BPF 39

static int verdict_fd = -1;
// The fds open when the program started (before any of its own), for inherited-fds.
static int inherited[64];
static int inherited_count;

// Writes the child's verdict for the parent and ends the child.
static void verdict(const char *kind, const char *fmt, ...) {
    char line[1024];
    int n = snprintf(line, sizeof line, "%s ", kind);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof line) n = sizeof line - 1;
    for (int i = 0; i < n; i++) if (line[i] == '\n') line[i] = ' ';
    if (write(verdict_fd, line, n) < 0) _exit(3);
    _exit(0);
}
#define BLOCKED(...) verdict("BLOCKED", __VA_ARGS__)
#define ESCAPED(...) verdict("ESCAPED", __VA_ARGS__)

static const char *err(int e) {
    const char *name = strerrorname_np(e);
    return name ? name : "E?";
}

static unsigned long long cap_eff(void) {
    static unsigned long long caps;
    static int read_once;
    if (read_once) return caps;
    read_once = 1;
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "CapEff:", 7)) caps = strtoull(line + 7, NULL, 16);
    if (f) fclose(f);
    return caps;
}
static int has_cap(int cap) { return (cap_eff() >> cap) & 1; }

static int seccomp_mode(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int mode = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Seccomp:", 8)) mode = atoi(line + 8);
    if (f) fclose(f);
    return mode;
}

// Whether this process's root is not the host's: /proc/self/uid_map is not the whole identity map.
static int in_user_namespace(void) {
    FILE *f = fopen("/proc/self/uid_map", "r");
    unsigned long inside = 0, outside = 0, count = 0;
    int n = f ? fscanf(f, "%lu %lu %lu", &inside, &outside, &count) : 0;
    if (f) fclose(f);
    return n == 3 && !(inside == 0 && outside == 0 && count == 4294967295UL);
}

// What stopped a call that failed with `e`. `reached` says whether a probe of the same system
// call with invalid arguments got past the seccomp filter to the kernel (an errno other than
// EPERM), or -1 when no such probe exists for the call (the kernel checks the capability first).
static const char *blame(int e, int reached, int cap, const char *cap_name) {
    static char why[200];
    if (e == EROFS) return "read-only mount";
    if (e == ENOSYS) return NOT_IN_KERNEL;
    if (e != EPERM && e != EACCES) {
        snprintf(why, sizeof why, "the kernel refused it");
        return why;
    }
    if (reached == 0 && seccomp_mode() == 2) return "seccomp, whatever the arguments";
    if (cap >= 0 && !has_cap(cap)) {
        snprintf(why, sizeof why, "%scapability %s not held", reached < 0 && seccomp_mode() == 2 ? "seccomp or " : "",
                 cap_name);
        return why;
    }
    if (cap >= 0 && in_user_namespace()) {
        snprintf(why, sizeof why, "user namespace (%s held only over its own user namespace)", cap_name);
        return why;
    }
    snprintf(why, sizeof why, "the kernel's own check (%s held)", cap >= 0 ? cap_name : "no capability needed");
    return why;
}
// A probe's outcome: did the call get to the kernel?
static int reached(long rc) { return rc >= 0 || errno != EPERM; }

// ---- the host's disk, as a device node of our own ----

// The host disk: ESCAPE_DISK=MAJOR:MINOR when the test names one (a sandbox may refuse even
// its root the first disk), else the first the kernel lists (/proc/partitions, /sys/dev/block).
static int host_disk(unsigned *major_out, unsigned *minor_out, char *name, size_t size) {
    const char *given = getenv("ESCAPE_DISK");
    if (given && sscanf(given, "%u:%u", major_out, minor_out) == 2) {
        snprintf(name, size, "%u-%u", *major_out, *minor_out);
        return 1;
    }
    FILE *f = fopen("/proc/partitions", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        unsigned ma, mi;
        unsigned long long blocks;
        char n[64];
        if (sscanf(line, " %u %u %llu %63s", &ma, &mi, &blocks, n) != 4) continue;
        if (ma == 7 || ma == 1) continue; // loop and ram disks are not the host's disk
        *major_out = ma, *minor_out = mi;
        snprintf(name, size, "%s", n);
        fclose(f);
        return 1;
    }
    if (f) fclose(f);
    DIR *d = opendir("/sys/dev/block");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        unsigned ma, mi;
        if (sscanf(e->d_name, "%u:%u", &ma, &mi) != 2 || ma == 7 || ma == 1) continue;
        *major_out = ma, *minor_out = mi;
        snprintf(name, size, "%s", e->d_name);
        closedir(d);
        return 1;
    }
    if (d) closedir(d);
    return 0;
}

// Makes /dev/escape-NAME for a host device; the vector's child removes nothing else.
static void make_node(const char *vector_path, mode_t type, unsigned ma, unsigned mi) {
    unlink(vector_path);
    if (mknod(vector_path, type | 0600, makedev(ma, mi)) < 0) {
        int e = errno;
        BLOCKED("mknod %s (%u:%u) failed: %s (%s)", vector_path, ma, mi, err(e), blame(e, -1, 27, "CAP_MKNOD"));
    }
}

static void open_node(const char *path, unsigned ma, unsigned mi, int flags, const char *how) {
    int fd = open(path, flags | O_CLOEXEC);
    int e = errno;
    if (fd >= 0) {
        close(fd);
        unlink(path);
        ESCAPED("opened %s (%u:%u) %s", path, ma, mi, how);
    }
    unlink(path);
    BLOCKED("mknod worked, open %s (%u:%u) %s failed: %s (%s)", path, ma, mi, how, err(e),
            e == EPERM ? "device cgroup" : e == EACCES ? "nodev mount or permissions" : "the kernel refused it");
}

static void v_mknod_host_disk(void) {
    unsigned ma, mi;
    char name[64], path[128];
    if (!host_disk(&ma, &mi, name, sizeof name)) BLOCKED("no host disk listed in /proc/partitions or /sys/dev/block");
    snprintf(path, sizeof path, "/dev/escape-%s", name);
    make_node(path, S_IFBLK, ma, mi);
    open_node(path, ma, mi, O_WRONLY, "for writing");
}

static void v_raw_block_read(void) {
    unsigned ma, mi;
    char name[64], path[128], sector[512];
    if (!host_disk(&ma, &mi, name, sizeof name)) BLOCKED("no host disk listed in /proc/partitions or /sys/dev/block");
    snprintf(path, sizeof path, "/dev/escape-read-%s", name);
    make_node(path, S_IFBLK, ma, mi);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int e = errno;
    unlink(path);
    if (fd < 0)
        BLOCKED("open %s (%u:%u) for reading failed: %s (%s)", path, ma, mi, err(e), e == EPERM ? "device cgroup" : "the kernel refused it");
    ssize_t n = pread(fd, sector, sizeof sector, 0);
    e = errno;
    if (n > 0) ESCAPED("read %zd bytes of sector 0 of the host's %s (%u:%u)", n, name, ma, mi);
    ESCAPED("opened the host's %s (%u:%u) for reading (sector 0: %s)", name, ma, mi, n < 0 ? err(e) : "the device is empty");
}

static void v_kmsg(void) {
    make_node("/dev/escape-kmsg", S_IFCHR, 1, 11);
    open_node("/dev/escape-kmsg", 1, 11, O_RDONLY | O_NONBLOCK, "for reading");
}

// ---- /proc and /sys files that change the host when written ----

// "masked path" when PATH is covered (by /dev/null or an empty read-only tmpfs).
static int masked(const char *path) {
    struct stat st;
    if (stat(path, &st) < 0) return 0;
    return (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
}

static void open_for_writing(const char *path) {
    if (masked(path)) BLOCKED("%s is /dev/null (masked path)", path);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    int e = errno;
    if (fd >= 0) {
        close(fd);
        ESCAPED("opened %s for writing", path);
    }
    BLOCKED("open %s for writing failed: %s (%s)", path, err(e),
            e == EROFS ? "read-only mount" : e == ENOENT ? NOT_IN_KERNEL : "the kernel refused it");
}

static void v_sysrq_trigger(void) { open_for_writing("/proc/sysrq-trigger"); }
static void v_core_pattern(void) { open_for_writing("/proc/sys/kernel/core_pattern"); }
static void v_modprobe_path(void) { open_for_writing("/proc/sys/kernel/modprobe"); }

static void v_kcore(void) {
    if (masked("/proc/kcore")) BLOCKED("/proc/kcore is /dev/null (masked path)");
    int fd = open("/proc/kcore", O_RDONLY | O_CLOEXEC);
    int e = errno;
    if (fd >= 0) {
        char header[4];
        ssize_t n = read(fd, header, sizeof header);
        close(fd);
        if (n == 4 && !memcmp(header, "\177ELF", 4)) ESCAPED("opened /proc/kcore and read its ELF header");
        BLOCKED("/proc/kcore opened but holds no ELF image (masked path)");
    }
    BLOCKED("open /proc/kcore failed: %s (%s)", err(e), e == EPERM ? blame(e, 1, CAP_SYS_RAWIO, "CAP_SYS_RAWIO")
            : e == ENOENT ? NOT_IN_KERNEL : "the kernel refused it");
}

// ---- mounts ----

// A mount namespace of the child's own, so that nothing done next changes the container's
// other vectors; 0 when none could be made (then only refused calls are tried).
static int private_mount_namespace(void) {
    if (unshare(CLONE_NEWNS) < 0) return 0;
    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    return 1;
}

static void v_mount(void) {
    const char *target = "/dev/shm";
    private_mount_namespace();
    if (mount("escape", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k") == 0) {
        umount2(target, MNT_DETACH);
        ESCAPED("mounted a tmpfs on %s", target);
    }
    int e = errno;
    long probe = syscall(SYS_mount, (char *)1, target, (char *)1, 0, NULL);
    BLOCKED("mount tmpfs on %s failed: %s (%s)", target, err(e), blame(e, reached(probe), CAP_SYS_ADMIN, "CAP_SYS_ADMIN"));
}

// A mount of the container's own: the mask over /proc/kcore where there is one (unmounting it
// would uncover the host's memory), else /dev/shm.
static void v_umount(void) {
    const char *target = masked("/proc/kcore") ? "/proc/kcore" : "/dev/shm";
    private_mount_namespace();
    if (umount2(target, MNT_DETACH) == 0) ESCAPED("unmounted %s", target);
    int e = errno;
    long probe = syscall(SYS_umount2, target, 0x80000000);
    BLOCKED("umount %s failed: %s (%s)", target, err(e), blame(e, reached(probe), CAP_SYS_ADMIN, "CAP_SYS_ADMIN"));
}

static void v_pivot_root(void) {
    int own = private_mount_namespace();
    // The new root: the container's /dev (a mount point), the old one put under /dev/shm.
    if (syscall(SYS_pivot_root, "/dev", "/dev/shm") == 0) ESCAPED("pivot_root to /dev%s", own ? " in a private mount namespace" : "");
    int e = errno;
    BLOCKED("pivot_root /dev /dev/shm failed: %s (%s)", err(e), blame(e, -1, CAP_SYS_ADMIN, "CAP_SYS_ADMIN"));
}

static void v_chroot_escape(void) {
    struct stat root, after;
    stat("/", &root);
    int dir = open("/", O_RDONLY | O_DIRECTORY);
    if (chroot("/dev") < 0) {
        int e = errno;
        BLOCKED("chroot /dev failed: %s (%s)", err(e), blame(e, -1, CAP_SYS_CHROOT, "CAP_SYS_CHROOT"));
    }
    // The classic way out: a directory fd from outside the chroot, then up until ".." is itself.
    if (fchdir(dir) < 0) BLOCKED("fchdir failed: %s", err(errno));
    for (int i = 0; i < 256; i++) if (chdir("..") < 0) break;
    if (chroot(".") < 0) BLOCKED("chroot . failed: %s", err(errno));
    stat("/", &after);
    if (after.st_dev != root.st_dev || after.st_ino != root.st_ino)
        ESCAPED("out of the chroot and above the container's root (now at dev %lu ino %lu)",
                (unsigned long)after.st_dev, (unsigned long)after.st_ino);
    BLOCKED("out of the chroot, the walk up stops at the container's root (pivot_root into its own mount namespace)");
}

// ---- namespaces and capabilities ----

static void v_unshare_user(void) {
    if (unshare(CLONE_NEWUSER) == 0) {
        cap_eff();
        ESCAPED("unshare(CLONE_NEWUSER) worked: every capability again, in a new user namespace");
    }
    int e = errno;
    long probe = syscall(SYS_unshare, 0x1);
    BLOCKED("unshare(CLONE_NEWUSER) failed: %s (%s)", err(e), blame(e, reached(probe), -1, ""));
}

static void v_unshare_mount(void) {
    if (unshare(CLONE_NEWNS) == 0) ESCAPED("unshare(CLONE_NEWNS) worked: a mount namespace of its own to mount in");
    int e = errno;
    long probe = syscall(SYS_unshare, 0x1);
    BLOCKED("unshare(CLONE_NEWNS) failed: %s (%s)", err(e), blame(e, reached(probe), CAP_SYS_ADMIN, "CAP_SYS_ADMIN"));
}

// The pids this program sees whose namespace NS differs from its own: processes outside.
static int outside_pid(const char *ns) {
    char own[64] = "", path[300], link[64];
    snprintf(path, sizeof path, "/proc/self/ns/%s", ns);
    if (readlink(path, own, sizeof own - 1) < 0) return -1;
    DIR *d = opendir("/proc");
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d)) && !found) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%s/ns/%s", e->d_name, ns);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n > 0) {
            link[n] = 0;
            if (strcmp(link, own)) found = atoi(e->d_name);
        }
    }
    if (d) closedir(d);
    return found;
}

static void v_setns_host(void) {
    const char *kinds[] = { "mnt", "pid", "net", "ipc", "uts", "cgroup", "user" };
    for (unsigned i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        int pid = outside_pid(kinds[i]);
        if (pid <= 0) continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, kinds[i]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && setns(fd, 0) == 0) ESCAPED("joined %s (a namespace outside the container's)", path);
        int e = errno;
        BLOCKED("%s is outside, setns into it failed: %s (%s)", path, err(e), blame(e, -1, CAP_SYS_ADMIN, "CAP_SYS_ADMIN"));
    }
    // Nothing outside is visible; setns itself, into the container's own namespace:
    int fd = open("/proc/1/ns/uts", O_RDONLY | O_CLOEXEC);
    int rc = setns(fd, CLONE_NEWUTS), e = errno;
    long probe = syscall(SYS_setns, -1, 0);
    BLOCKED("no host namespace in /proc (pid namespace); setns itself: %s (%s)", rc == 0 ? "allowed" : err(e),
            rc == 0 ? "own namespaces only" : blame(e, reached(probe), CAP_SYS_ADMIN, "CAP_SYS_ADMIN"));
}

static void v_ptrace_outside(void) {
    int pid = outside_pid("pid");
    if (pid > 0) {
        if (ptrace(PTRACE_SEIZE, pid, 0, 0) == 0) {
            ptrace(PTRACE_DETACH, pid, 0, 0);
            ESCAPED("ptrace-seized pid %d, outside the container's pid namespace", pid);
        }
        int e = errno;
        BLOCKED("pid %d is outside, PTRACE_SEIZE failed: %s (%s)", pid, err(e), blame(e, -1, CAP_SYS_PTRACE, "CAP_SYS_PTRACE"));
    }
    long probe = ptrace(PTRACE_SEIZE, 0x7ffffff0, 0, 0);
    int e = errno;
    BLOCKED("no process outside the container is visible (pid namespace); ptrace itself: %s (%s)", err(e),
            reached(probe) ? "allowed, no such pid" : blame(e, 0, CAP_SYS_PTRACE, "CAP_SYS_PTRACE"));
}

// Shocker (2014): a file handle of inode 2, the root of an ext4 or xfs filesystem, opened
// through a mount of the container's that lies on the host's filesystem.
static void v_open_by_handle_at(void) {
    struct { struct file_handle h; unsigned char bytes[8]; } handle;
    memset(&handle, 0, sizeof handle);
    handle.h.handle_bytes = 8;
    handle.h.handle_type = 1; // FILEID_INO32_GEN: inode 2, generation 0
    unsigned ino = 2;
    memcpy(handle.h.f_handle, &ino, 4);
    int mount_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int fd = open_by_handle_at(mount_fd, &handle.h, O_RDONLY | O_DIRECTORY);
    int e = errno;
    if (fd >= 0) {
        struct stat st;
        fstat(fd, &st);
        ESCAPED("opened inode %lu of the filesystem under the container's root by its handle", (unsigned long)st.st_ino);
    }
    long probe = syscall(SYS_open_by_handle_at, -1, NULL, 0);
    if (e == EPERM || e == EACCES)
        BLOCKED("open_by_handle_at failed: %s (%s)", err(e), blame(e, reached(probe), CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH"));
    BLOCKED("open_by_handle_at of the root inode failed: %s (the filesystem has no such handle; the call is reachable)", err(e));
}

// ---- system calls the default profile refuses ----

static void v_keyctl(void) {
    long rc = syscall(SYS_keyctl, 9999, 0, 0, 0, 0); // no such operation
    int e = errno;
    if (reached(rc)) ESCAPED("keyctl reaches the kernel's keyrings (an unknown operation answers %s)", rc >= 0 ? "0" : err(e));
    BLOCKED("keyctl failed: %s (%s)", err(e), blame(e, 0, -1, ""));
}

static void v_bpf(void) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    long fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
    int e = errno;
    if (fd >= 0) {
        close((int)fd);
        ESCAPED("bpf(BPF_MAP_CREATE) made a map");
    }
    long probe = syscall(SYS_bpf, 9999, NULL, 0);
    BLOCKED("bpf(BPF_MAP_CREATE) failed: %s (%s)", err(e), blame(e, reached(probe), CAP_BPF, "CAP_BPF"));
}

static void v_perf_event_open(void) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.size = sizeof attr;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.disabled = 1;
    long fd = syscall(SYS_perf_event_open, &attr, -1, 0, -1, 0); // every process on CPU 0
    int e = errno;
    if (fd >= 0) {
        close((int)fd);
        ESCAPED("perf_event_open watches every process on CPU 0");
    }
    long probe = syscall(SYS_perf_event_open, NULL, -1, 0, -1, 0);
    BLOCKED("perf_event_open (all processes, CPU 0) failed: %s (%s)", err(e),
            blame(e, reached(probe), CAP_PERFMON, "CAP_PERFMON"));
}

static void v_io_uring(void) {
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    long fd = syscall(SYS_io_uring_setup, 1, &params);
    int e = errno;
    if (fd >= 0) {
        close((int)fd);
        ESCAPED("io_uring_setup made a ring (its I/O bypasses the seccomp filter)");
    }
    long probe = syscall(SYS_io_uring_setup, 0, NULL);
    BLOCKED("io_uring_setup failed: %s (%s)", err(e), blame(e, reached(probe), -1, ""));
}

static void v_userfaultfd(void) {
    long fd = syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY: allowed without a capability */);
    int e = errno;
    if (fd >= 0) {
        close((int)fd);
        ESCAPED("userfaultfd made a descriptor (stalls kernel accesses to chosen pages)");
    }
    long probe = syscall(SYS_userfaultfd, 1 | 0x40000000); // an unknown flag
    BLOCKED("userfaultfd failed: %s (%s)", err(e), blame(e, reached(probe), -1, ""));
}

static void v_kexec(void) {
    // An unknown flag (bit 8): past the permission check the kernel answers EINVAL.
    long rc = syscall(SYS_kexec_load, 0, 0, NULL, 0x100);
    int e = errno;
    if (rc == 0 || e == EINVAL) ESCAPED("kexec_load reaches the kernel's image loader (%s for an invalid flag)", err(e));
    // Where the kernel has no kexec (no kexec_load_disabled sysctl), an EPERM is the filter's.
    int filtered = e == EPERM && access("/proc/sys/kernel/kexec_load_disabled", F_OK) != 0;
    BLOCKED("kexec_load failed: %s (%s)", err(e), e == ENOSYS ? NOT_IN_KERNEL
            : filtered ? "seccomp: this kernel has no kexec, the EPERM is the filter's"
            : blame(e, -1, CAP_SYS_BOOT, "CAP_SYS_BOOT"));
}

static void v_module_loading(void) {
    static const char garbage[64];
    long rc = syscall(SYS_init_module, garbage, sizeof garbage, "");
    int e = errno;
    if (rc == 0 || (e != EPERM && e != ENOSYS))
        ESCAPED("init_module reaches the module loader (%s for an invalid image)", rc == 0 ? "0" : err(e));
    long frc = syscall(SYS_finit_module, -1, "", 0);
    int fe = errno;
    if (frc == 0 || (fe != EPERM && fe != ENOSYS)) ESCAPED("finit_module reaches the module loader (%s for fd -1)", err(fe));
    // The call does not exist in this kernel: an EPERM can only be the filter's.
    int filtered = e == EPERM && access("/proc/modules", F_OK) != 0;
    BLOCKED("init_module and finit_module failed: %s (%s)", err(e), e == ENOSYS ? NOT_IN_KERNEL
            : filtered ? "seccomp: this kernel has no modules, the EPERM is the filter's"
            : blame(e, -1, CAP_SYS_MODULE, "CAP_SYS_MODULE"));
}

// ---- cgroups ----

// Mounts a cgroup filesystem (v1 controller TYPE or cgroup2) at /dev/shm in a private mount
// namespace; the mount point path on success, NULL otherwise with *e set.
static const char *mount_cgroup(const char *options, int *e) {
    private_mount_namespace();
    int rc = options ? mount("escape", "/dev/shm", "cgroup", 0, options) : mount("escape", "/dev/shm", "cgroup2", 0, NULL);
    *e = errno;
    return rc == 0 ? "/dev/shm" : NULL;
}

// CVE-2022-0492: a v1 hierarchy's release_agent runs as root on the host.
// Only hierarchies that exist already are mounted (the controllers /proc/cgroups shows bound
// to a v1 hierarchy), or else a named one with no controller: a mount never takes a controller
// away from the host's cgroup2.
static void v_release_agent(void) {
    char controllers[16][32], path[128], line[256];
    unsigned count = 0;
    FILE *f = fopen("/proc/cgroups", "r");
    while (f && fgets(line, sizeof line, f) && count < 15) {
        char name[32];
        int hierarchy;
        if (line[0] != '#' && sscanf(line, "%31s %d", name, &hierarchy) == 2 && hierarchy > 0)
            snprintf(controllers[count++], sizeof controllers[0], "%s", name);
    }
    if (f) fclose(f);
    if (count == 0) snprintf(controllers[count++], sizeof controllers[0], "none,name=escape");
    int e = 0;
    for (unsigned i = 0; i < count; i++) {
        const char *at = mount_cgroup(controllers[i], &e);
        if (!at) continue;
        snprintf(path, sizeof path, "%s/release_agent", at);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            close(fd);
            ESCAPED("mounted the %s hierarchy and opened its release_agent for writing", controllers[i]);
        }
        e = errno;
        BLOCKED("mounted the %s hierarchy, its release_agent is not there to write: %s (cgroup namespace: only the "
                "hierarchy's real root has one)", controllers[i], err(e));
    }
    long probe = syscall(SYS_mount, (char *)1, "/dev/shm", (char *)1, 0, NULL);
    BLOCKED("no cgroup v1 hierarchy mountable: %s (%s)", err(e), blame(e, reached(probe), CAP_SYS_ADMIN, "CAP_SYS_ADMIN"));
}

// Whether DIR, the root of a cgroup filesystem's mount, is its hierarchy's real root: only there
// does v1 show release_agent, and only there does v2 lack cgroup.events.
static int hierarchy_root(const char *dir) {
    char path[300];
    snprintf(path, sizeof path, "%s/release_agent", dir);
    if (access(path, F_OK) == 0) return 1;
    snprintf(path, sizeof path, "%s/cgroup.controllers", dir);
    if (access(path, F_OK) != 0) return 0;
    snprintf(path, sizeof path, "%s/cgroup.events", dir);
    return access(path, F_OK) != 0;
}

// A write above the container's own cgroup: into the cgroup.procs of one that holds it, which
// takes it out of its limits and its device list. The cgroup namespace makes the container's
// own cgroup the root of every cgroup filesystem it mounts, unless it was never moved down in
// that hierarchy: then the root is the host's (a v1 controller berth does not use).
static void v_cgroup_escape(void) {
    // The namespace hides the path above when every line of /proc/self/cgroup says "/".
    char line[512], shown[400] = "";
    FILE *f = fopen("/proc/self/cgroup", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *path = strchr(strchr(line, ':') ? strchr(line, ':') + 1 : line, ':');
        if (path && strcmp(path + 1, "/\n") && !shown[0]) snprintf(shown, sizeof shown, "%s", line);
    }
    if (f) fclose(f);
    shown[strcspn(shown, "\n")] = 0;

    // What there is to write: the cgroup filesystem mounted in the container (v2), then mounts of
    // its own: cgroup2 and every v1 hierarchy the host has.
    char names[17][40], line2[256];
    unsigned count = 0;
    snprintf(names[count++], sizeof names[0], "cgroup2");
    FILE *c = fopen("/proc/cgroups", "r");
    while (c && fgets(line2, sizeof line2, c) && count < 17) {
        char name[32];
        int hierarchy;
        if (line2[0] != '#' && sscanf(line2, "%31s %d", name, &hierarchy) == 2 && hierarchy > 0)
            snprintf(names[count++], sizeof names[0], "%s", name);
    }
    if (c) fclose(c);
    char own_write[200] = "";
    int mounted = 0, mount_errno = 0;
    for (int i = -1; i < (int)count; i++) {
        const char *at = "/sys/fs/cgroup", *what = "the mounted /sys/fs/cgroup";
        if (i >= 0) {
            at = mount_cgroup(i == 0 ? NULL : names[i], &mount_errno);
            what = names[i];
        } else if (access("/sys/fs/cgroup/cgroup.procs", F_OK) != 0) {
            continue;
        }
        if (!at) continue;
        mounted++;
        char procs[300];
        snprintf(procs, sizeof procs, "%s/cgroup.procs", at);
        int above = hierarchy_root(at) || shown[0];
        int fd = open(procs, O_WRONLY | O_CLOEXEC);
        int e = errno;
        if (fd >= 0) close(fd);
        if (above && fd >= 0)
            ESCAPED("%s: its root is above this process's cgroup (%s), and its cgroup.procs opens for writing", what,
                    shown[0] ? shown : "the hierarchy's own root");
        if (above) BLOCKED("%s: its root is above this process's cgroup, but open cgroup.procs for writing: %s (%s)", what,
                           err(e), blame(e, -1, -1, ""));
        if (i < 0) snprintf(own_write, sizeof own_write, "; its own cgroup.procs there: %s (%s)",
                            fd >= 0 ? "writable" : err(e), fd >= 0 ? "not above" : blame(e, -1, -1, ""));
    }
    if (mounted)
        BLOCKED("every cgroup filesystem it sees or mounts (%d) has this process's own cgroup at its root (cgroup "
                "namespace)%s", mounted, own_write);
    long probe = syscall(SYS_mount, (char *)1, "/dev/shm", (char *)1, 0, NULL);
    BLOCKED("no cgroup filesystem mounted, mounting one: %s (%s)", err(mount_errno),
            blame(mount_errno, reached(probe), CAP_SYS_ADMIN, "CAP_SYS_ADMIN"));
}

// ---- the runtime's binary, fds, terminals ----

static void v_inherited_fds(void) {
    char found[600] = "";
    size_t used = 0;
    for (int i = 0; i < inherited_count; i++) {
        int fd = inherited[i];
        struct stat st;
        if (fstat(fd, &st) < 0) continue;
        char link[64], target[256] = "";
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0) target[n] = 0;
        // stdio is what the caller gave (a pipe, a terminal, a file it redirected to); a
        // directory there, or any fd above it, is one the runtime let through: a way out
        // (CVE-2024-21626: a leaked directory fd of the host's).
        int harmless = fd <= 2 && !S_ISDIR(st.st_mode);
        if (!harmless && used < sizeof found - 1)
            used += snprintf(found + used, sizeof found - used, "%s%d -> %s", used ? ", " : "", fd, target);
    }
    if (used) ESCAPED("the container's command inherited %s", found);
    BLOCKED("nothing but the caller's stdio inherited (%d fds, none a directory; the runtime closes the rest)",
            inherited_count);
}

// Whether /proc/PID/exe is a file outside the container's root: the path the kernel names for
// it, looked up from here, is not the same file.
static int exe_outside(const char *pid, char *target, size_t size, struct stat *real) {
    char path[300];
    struct stat named;
    snprintf(path, sizeof path, "/proc/%s/exe", pid);
    ssize_t n = readlink(path, target, size - 1);
    if (n <= 0 || stat(path, real) < 0) return 0;
    target[n] = 0;
    return stat(target, &named) < 0 || named.st_dev != real->st_dev || named.st_ino != real->st_ino;
}

// Why writing the file open as FD could change no binary of the host's (a runtime that seals
// itself runs from a sealed or unlinked copy), or NULL when it could.
static const char *private_copy(int fd) {
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals >= 0 && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))) return "a sealed copy: every write fails";
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_nlink == 0) return "an unlinked copy: writing it changes no file of the host";
    return NULL;
}

static void v_runtime_binary(void) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    int checked = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char target[256], path[300];
        struct stat real;
        checked++;
        if (!exe_outside(e->d_name, target, sizeof target, &real)) continue;
        snprintf(path, sizeof path, "/proc/%s/exe", e->d_name);
        int copy = open(path, O_RDONLY | O_CLOEXEC);
        const char *why = copy >= 0 ? private_copy(copy) : NULL;
        if (copy >= 0) close(copy);
        if (why) BLOCKED("pid %s runs %s from outside the container's root, %s", e->d_name, target, why);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        int er = errno;
        if (fd >= 0) {
            close(fd);
            ESCAPED("opened the host's %s for writing through %s", target, path);
        }
        ESCAPED("pid %s runs the host's %s, reachable through %s (open for writing now: %s; once it exits, nothing "
                "stops a reopen)", e->d_name, target, path, err(er));
    }
    if (d) closedir(d);
    BLOCKED("none of the %d processes in the container runs a binary from outside its root (`escape watch` "
            "catches one entering later)", checked);
}

static void v_tiocsti(void) {
    // Our own pty, not anyone's controlling terminal: the kernel lets only CAP_SYS_ADMIN push
    // input into a terminal that is not the caller's own, so the answer here is the answer a
    // host terminal would give.
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
        BLOCKED("no pty to try on: %s (the container's devpts)", err(errno));
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) BLOCKED("opening the pty's slave failed: %s", err(errno));
    char c = '#';
    if (ioctl(slave, TIOCSTI, &c) == 0)
        ESCAPED("TIOCSTI pushed input into a terminal that is not its controlling one (a host tty fd would take it too)");
    int e = errno;
    BLOCKED("TIOCSTI into a terminal not its own failed: %s (%s)", err(e),
            e == EIO ? "dev.tty.legacy_tiocsti is 0" : blame(e, 1, CAP_SYS_ADMIN, "CAP_SYS_ADMIN"));
}

// ---- the driver ----

// The driver's own checks, run only when named: a vector that never answers, one that crashes.
static void selftest_timeout(void) { for (;;) pause(); }
static void selftest_crash(void) { raise(SIGSEGV); }

struct vector { const char *name; void (*run)(void); };
static const struct vector vectors[] = {
    { "mount", v_mount },
    { "umount", v_umount },
    { "pivot-root", v_pivot_root },
    { "mknod-host-disk", v_mknod_host_disk },
    { "raw-block-read", v_raw_block_read },
    { "kmsg", v_kmsg },
    { "kcore", v_kcore },
    { "sysrq-trigger", v_sysrq_trigger },
    { "core-pattern", v_core_pattern },
    { "modprobe-path", v_modprobe_path },
    { "release-agent", v_release_agent },
    { "cgroup-escape", v_cgroup_escape },
    { "ptrace-outside", v_ptrace_outside },
    { "open-by-handle-at", v_open_by_handle_at },
    { "chroot-escape", v_chroot_escape },
    { "unshare-user", v_unshare_user },
    { "unshare-mount", v_unshare_mount },
    { "setns-host", v_setns_host },
    { "keyctl", v_keyctl },
    { "bpf", v_bpf },
    { "perf-event-open", v_perf_event_open },
    { "io-uring", v_io_uring },
    { "userfaultfd", v_userfaultfd },
    { "kexec", v_kexec },
    { "module-loading", v_module_loading },
    { "inherited-fds", v_inherited_fds },
    { "runtime-binary", v_runtime_binary },
    { "tiocsti", v_tiocsti },
    // Not run by default (see VECTOR_COUNT):
    { "selftest-timeout", selftest_timeout },
    { "selftest-crash", selftest_crash },
};
#define ALL_COUNT (sizeof vectors / sizeof *vectors)
#define VECTOR_COUNT (ALL_COUNT - 2)

// Runs one vector in a child and prints its line; returns 0 for a verdict, 1 for none.
static int run_vector(unsigned i) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) { printf("CRASHED %s: pipe: %s\n", vectors[i].name, err(errno)); return 1; }
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        verdict_fd = pipefd[1];
        alarm(TIME_LIMIT);
        vectors[i].run();
        _exit(4); // every vector ends in a verdict
    }
    close(pipefd[1]);
    char buf[1100];
    size_t used = 0;
    struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
    int timed_out = 0;
    for (;;) {
        // The child's own alarm kills it; this deadline is for a child stuck where no signal lands.
        int ready = poll(&p, 1, (TIME_LIMIT + 2) * 1000);
        if (ready <= 0) { timed_out = 1; kill(pid, SIGKILL); break; }
        ssize_t n = read(pipefd[0], buf + used, sizeof buf - 1 - used);
        if (n <= 0) break;
        used += n;
    }
    buf[used] = 0;
    close(pipefd[0]);
    int status;
    waitpid(pid, &status, 0);
    if (used > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        char *space = strchr(buf, ' ');
        if (space) *space = 0;
        printf("%s %s: %s\n", buf, vectors[i].name, space ? space + 1 : "");
        return 0;
    }
    if (timed_out || (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM))
        printf("TIMEOUT %s: no verdict within %d s\n", vectors[i].name, TIME_LIMIT);
    else if (WIFSIGNALED(status))
        printf("CRASHED %s: killed by SIG%s\n", vectors[i].name, sigabbrev_np(WTERMSIG(status)) ?: "NAL");
    else
        printf("CRASHED %s: exited %d without a verdict\n", vectors[i].name, WEXITSTATUS(status));
    return 1;
}

// `escape watch SECONDS`: the classic attack on a runtime that enters the container as itself.
// It also leaves /escape-interp, a script whose interpreter is /proc/self/exe: a runtime that
// enters as itself and execs it runs its own binary inside the container, for as long as it likes.
// ARGV0, when given, picks only processes run as it ("/proc/self/exe": the interpreter trick,
// not the entering process before its execve).
static int watch(int seconds, const char *argv0) {
    time_t end = time(NULL) + seconds;
    int script = open("/escape-interp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (script < 0 || write(script, "#!/proc/self/exe\n", 17) != 17) printf("no /escape-interp: %s\n", err(errno));
    if (script >= 0) close(script);
    printf("watching\n");
    while (time(NULL) < end) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9' || atoi(e->d_name) == getpid()) continue;
            char target[256], path[300];
            struct stat real, now;
            if (!exe_outside(e->d_name, target, sizeof target, &real)) continue;
            snprintf(path, sizeof path, "/proc/%s/exe", e->d_name);
            int held = open(path, O_PATH | O_CLOEXEC);
            if (held < 0) continue; // it went away first
            // It may have exec'd its command (a binary of the container's own) since it was
            // looked at: only the binary seen outside the root is held.
            if (fstat(held, &now) < 0 || now.st_dev != real.st_dev || now.st_ino != real.st_ino) {
                close(held);
                continue;
            }
            // What it runs as (argv joined): "/proc/self/exe /escape-interp" for the interpreter trick.
            char cmdline[200] = "", cmdpath[64];
            snprintf(cmdpath, sizeof cmdpath, "/proc/%s/cmdline", e->d_name);
            int cf = open(cmdpath, O_RDONLY | O_CLOEXEC);
            ssize_t cn = cf >= 0 ? read(cf, cmdline, sizeof cmdline - 1) : 0;
            if (cf >= 0) close(cf);
            for (ssize_t k = 0; k < cn - 1; k++) if (!cmdline[k]) cmdline[k] = ' ';
            if (cn > 0) cmdline[cn] = 0;
            if (argv0 && (strncmp(cmdline, argv0, strlen(argv0)) || (cmdline[strlen(argv0)] && cmdline[strlen(argv0)] != ' '))) {
                close(held);
                continue;
            }
            // Wait until the binary runs nowhere (ETXTBSY ends), then reopen it for writing.
            char reopen[64];
            snprintf(reopen, sizeof reopen, "/proc/self/fd/%d", held);
            int last = 0;
            while (time(NULL) < end + 5) {
                int fd = open(reopen, O_WRONLY | O_CLOEXEC);
                const char *why = fd >= 0 ? private_copy(fd) : NULL;
                if (why) {
                    close(fd);
                    printf("BLOCKED runtime-binary: held pid %s's %s (running \"%s\"), reopened it: %s\n", e->d_name, target,
                           cmdline, why);
                    return 0;
                }
                if (fd >= 0) {
                    close(fd);
                    printf("ESCAPED runtime-binary: held pid %s's binary %s (running \"%s\") and, once it exited, "
                           "opened it for writing\n", e->d_name, target, cmdline);
                    return 0;
                }
                last = errno;
                if (last != ETXTBSY) break;
                usleep(5000);
            }
            // Still busy at the deadline: something kept running it, so the attack had no turn.
            printf("%s runtime-binary: held pid %s's %s (running \"%s\"), reopening it for writing failed: %s (%s)\n",
                   last == ETXTBSY ? "TIMEOUT" : "BLOCKED", e->d_name, target, cmdline, err(last),
                   last == ETXTBSY ? "still running somewhere at the deadline" : last == EROFS ? "read-only mount"
                   : "the kernel refused it");
            return 0;
        }
        if (d) closedir(d);
        usleep(200);
    }
    printf("BLOCKED runtime-binary: in %d s no process in the container ran a binary from outside its root\n", seconds);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d) && inherited_count < 64)
            inherited[inherited_count++] = atoi(e->d_name);
    if (d) closedir(d);

    if ((argc == 3 || argc == 4) && !strcmp(argv[1], "watch")) return watch(atoi(argv[2]), argc == 4 ? argv[3] : NULL);
    if (argc == 2 && !strcmp(argv[1], "list")) {
        for (unsigned i = 0; i < VECTOR_COUNT; i++) printf("%s\n", vectors[i].name);
        return 0;
    }
    for (int a = 1; a < argc; a++) {
        int known = 0;
        for (unsigned i = 0; i < ALL_COUNT; i++) known |= !strcmp(argv[a], vectors[i].name);
        if (!known) { fprintf(stderr, "escape: no vector %s (escape list names them)\n", argv[a]); return 2; }
    }
    int failures = 0;
    for (unsigned i = 0; i < ALL_COUNT; i++) {
        int wanted = argc == 1 && i < VECTOR_COUNT;
        for (int a = 1; a < argc; a++) wanted |= !strcmp(argv[a], vectors[i].name);
        if (wanted) failures += run_vector(i);
    }
    return failures ? 1 : 0;
}

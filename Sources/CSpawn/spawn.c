// The parent side of the spawn (clone, release, wait for exec) and the child's setup, step by
// step. Nothing after clone() may allocate or take a lock: the parent may have had threads.
#define _GNU_SOURCE
#include "cspawn.h"
#include "csyscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "copy_tree.h"
#include "openat2_in_root.h"

// Constants of the new mount API that glibc 2.36 does not name.
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#define BERTH_OPEN_TREE_CLONE 1
#define BERTH_MOUNT_ATTR_IDMAP 0x00100000ULL
struct berth_mount_attr { uint64_t attr_set, attr_clr, propagation, userns_fd; };

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

// MARK: - reporting from the child

static void report(int fd, int step, int index, int error) {
    struct berth_child_error e = { .step = step, .index = index, .error = error };
    ssize_t n;
    do {
        n = write(fd, &e, sizeof e);
    } while (n < 0 && errno == EINTR);
}

// Report the failure and end the child. The exit status is not what the parent shows: it reads
// the report.
#define FAIL(step, index) \
    do { report(errfd, (step), (index), errno); _exit(125); } while (0)

// MARK: - paths inside the root

static int open_in_root(int rootfd, const char *path, int flags) {
    return berth_openat2_in_root(rootfd, path, flags);
}

// Splits "/a/b/c" into the parent "/a/b" and the last component "c", each into a buffer of 4096.
// Returns -1 (ENAMETOOLONG) when the path is too long or has no last component.
static int split_last(const char *path, char *parent, char *last) {
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') len--;
    size_t slash = len;
    while (slash > 0 && path[slash - 1] != '/') slash--;
    if (slash == len || len >= 4096) { errno = ENAMETOOLONG; return -1; }
    size_t plen = slash > 1 ? slash - 1 : slash;
    if (plen == 0) { parent[0] = '/'; parent[1] = 0; }
    else { memcpy(parent, path, plen); parent[plen] = 0; }
    memcpy(last, path + slash, len - slash);
    last[len - slash] = 0;
    return 0;
}

// mkdir -p inside the root, every component resolved with RESOLVE_IN_ROOT.
static int mkdir_in_root(int rootfd, const char *path, mode_t mode) {
    char partial[4096];
    size_t len = strlen(path);
    if (len >= sizeof partial) { errno = ENAMETOOLONG; return -1; }
    for (size_t i = 1; i <= len; i++) {
        if (i != len && path[i] != '/') continue;
        memcpy(partial, path, i);
        partial[i] = 0;
        int fd = open_in_root(rootfd, partial, O_PATH | O_DIRECTORY);
        if (fd >= 0) { close(fd); continue; }
        if (errno != ENOENT) return -1;
        char parent[4096], name[4096];
        if (split_last(partial, parent, name) < 0) return -1;
        int pfd = open_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
        if (pfd < 0) return -1;
        int rc = mkdirat(pfd, name, mode);
        int saved = errno;
        close(pfd);
        if (rc < 0 && saved != EEXIST) { errno = saved; return -1; }
    }
    return 0;
}

// Creates an empty regular file at `path` inside the root (its parents too) if it is missing.
static int touch_in_root(int rootfd, const char *path) {
    int fd = open_in_root(rootfd, path, O_PATH);
    if (fd >= 0) { close(fd); return 0; }
    if (errno != ENOENT) return -1;
    char parent[4096], name[4096];
    if (split_last(path, parent, name) < 0) return -1;
    if (mkdir_in_root(rootfd, parent, 0755) < 0) return -1;
    int pfd = open_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
    if (pfd < 0) return -1;
    fd = openat(pfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    int saved = errno;
    close(pfd);
    if (fd < 0) { errno = saved; return -1; }
    close(fd);
    return 0;
}

// "/proc/self/fd/N": mount(2) takes paths, so a target resolved to an fd is named through procfs.
static void fd_path(int fd, char *buf) {
    static const char prefix[] = "/proc/self/fd/";
    memcpy(buf, prefix, sizeof prefix - 1);
    char digits[16];
    int n = 0;
    do { digits[n++] = (char)('0' + fd % 10); fd /= 10; } while (fd > 0);
    size_t at = sizeof prefix - 1;
    while (n > 0) buf[at++] = digits[--n];
    buf[at] = 0;
}

// Mounts onto `target` (inside the root) through an O_PATH fd to it.
static int mount_on(int rootfd, const char *target, const char *source, const char *fstype,
                    unsigned long flags, const char *data) {
    int fd = open_in_root(rootfd, target, O_PATH);
    if (fd < 0) return -1;
    char path[32];
    fd_path(fd, path);
    int rc = mount(source, path, fstype, flags, data);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

static const unsigned long remountable = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME
    | MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW;

// A bind mount ignores MS_RDONLY & co. on creation; they take effect through a remount of the
// new mount, which must be reopened (the old fd names the directory below it).
static int bind_on(int rootfd, const char *source, const char *target, unsigned long flags, int top_mount_only) {
    if (mount_on(rootfd, target, source, NULL, top_mount_only ? MS_BIND : MS_BIND | MS_REC, NULL) < 0) return -1;
    unsigned long extra = flags & remountable;
    if (!extra) return 0;
    return mount_on(rootfd, target, NULL, NULL, MS_BIND | MS_REMOUNT | extra, NULL);
}

static const unsigned long propagation_types = MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_UNBINDABLE;

// Whether the user asked for a propagation on this mount (binds and filesystems; berth's own
// mounts have none).
static int has_propagation(const struct berth_mount_op *op) {
    return (op->kind == BERTH_OP_BIND || op->kind == BERTH_OP_MOUNT) && (op->flags & propagation_types);
}

// The propagation a mount asked for (bind-propagation, an OCI spec's option), set on it alone
// once the root is the container's. Every mount in the namespace was made private first, so a
// shared one starts a peer group of the container's own; nothing propagates from or to the host.
static int set_bind_propagation(const struct berth_mount_op *ops, size_t n, int *index) {
    size_t first = 0;
    while (first < n && !has_propagation(&ops[first])) first++;
    if (first == n) return 0;   // the usual case: no system call at all
    int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) return -1;
    int rc = 0;
    for (size_t i = first; i < n && rc == 0; i++) {
        if (!has_propagation(&ops[i])) continue;
        *index = (int)i;
        rc = mount_on(rootfd, ops[i].target, NULL, NULL, ops[i].flags & (propagation_types | MS_REC), NULL);
    }
    int saved = errno;
    close(rootfd);
    errno = saved;
    return rc;
}

static int attach_idmapped_bind(int rootfd, int sock, const struct berth_mount_op *op, int *failed_step);

// "tmpcopyup": the directory is opened before the mount covers it, and what it holds is copied
// from that fd into the new mount (runc copies through a temporary mount instead; the covered
// directory's fd makes that unnecessary).
static int mount_copying_up(int rootfd, const struct berth_mount_op *op) {
    int below = open_in_root(rootfd, op->target, O_RDONLY | O_DIRECTORY);
    if (below < 0) return -1;
    int rc = mount_on(rootfd, op->target, op->source, op->fstype, op->flags & ~(propagation_types | MS_REC), op->data);
    int above = rc < 0 ? -1 : open_in_root(rootfd, op->target, O_RDONLY | O_DIRECTORY);
    if (rc == 0) rc = above < 0 ? -1 : berth_copy_tree(below, above);
    int saved = errno;
    close(below);
    if (above >= 0) close(above);
    errno = saved;
    return rc;
}

// The recursive attributes (an OCI spec's "rro" & co.) on the mount just made and all below it.
static int set_tree_attributes(int rootfd, const struct berth_mount_op *op) {
    int fd = open_in_root(rootfd, op->target, O_PATH);
    if (fd < 0) return -1;
    struct berth_mount_attr attr = { .attr_set = op->tree_attr_set, .attr_clr = op->tree_attr_clr };
    int rc = (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

static int make_op(int rootfd, int mountfd, const struct berth_mount_op *op, int *failed_step) {
    struct stat st;
    *failed_step = BERTH_STEP_MOUNT_TARGET;
    switch (op->kind) {
    case BERTH_OP_MOUNT:
        if (mkdir_in_root(rootfd, op->target, 0755) < 0) return -1;
        *failed_step = BERTH_STEP_MOUNT;
        if (op->copy_up) return mount_copying_up(rootfd, op);
        // With a propagation flag mount(2) would change the target's propagation instead of
        // mounting: that is set later (set_bind_propagation).
        return mount_on(rootfd, op->target, op->source, op->fstype, op->flags & ~(propagation_types | MS_REC), op->data);

    case BERTH_OP_BIND:
        if (stat(op->source, &st) < 0) { *failed_step = BERTH_STEP_MOUNT; return -1; }
        if (S_ISDIR(st.st_mode) ? mkdir_in_root(rootfd, op->target, 0755) < 0
                                : touch_in_root(rootfd, op->target) < 0) return -1;
        *failed_step = BERTH_STEP_MOUNT;
        if (op->idmapped) return attach_idmapped_bind(rootfd, mountfd, op, failed_step);
        return bind_on(rootfd, op->source, op->target, op->flags, op->top_mount_only);

    case BERTH_OP_DEVICE: {
        char parent[4096], name[4096];
        if (split_last(op->target, parent, name) < 0) return -1;
        if (mkdir_in_root(rootfd, parent, 0755) < 0) return -1;
        int pfd = open_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
        if (pfd < 0) return -1;
        *failed_step = BERTH_STEP_MOUNT;
        int rc = mknodat(pfd, name, op->mode, (dev_t)op->dev);
        int saved = errno;
        if (rc == 0) fchmodat(pfd, name, op->mode & 07777, 0);   // mknod's mode passes through the umask
        close(pfd);
        if (rc == 0 || saved == EEXIST) return 0;
        if (saved != EPERM || !op->source) { errno = saved; return -1; }
        // Without CAP_MKNOD (a user namespace), bind the host's node instead.
        if (touch_in_root(rootfd, op->target) < 0) return -1;
        return mount_on(rootfd, op->target, op->source, NULL, MS_BIND, NULL);
    }

    case BERTH_OP_SYMLINK: {
        char parent[4096], name[4096];
        if (split_last(op->target, parent, name) < 0) return -1;
        if (mkdir_in_root(rootfd, parent, 0755) < 0) return -1;
        int pfd = open_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
        if (pfd < 0) return -1;
        *failed_step = BERTH_STEP_MOUNT;
        int rc = symlinkat(op->source, pfd, name);
        int saved = errno;
        close(pfd);
        if (rc < 0 && saved == EEXIST) return 0;
        errno = saved;
        return rc;
    }

    case BERTH_OP_MASK: {
        int fd = open_in_root(rootfd, op->target, O_PATH);
        if (fd < 0) return errno == ENOENT ? 0 : -1;
        int rc = fstat(fd, &st);
        close(fd);
        if (rc < 0) return -1;
        *failed_step = BERTH_STEP_MOUNT;
        if (S_ISDIR(st.st_mode))
            return mount_on(rootfd, op->target, "tmpfs", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0");
        return mount_on(rootfd, op->target, "/dev/null", NULL, MS_BIND, NULL);
    }

    case BERTH_OP_READONLY: {
        int fd = open_in_root(rootfd, op->target, O_PATH);
        if (fd < 0) return errno == ENOENT ? 0 : -1;
        char path[32];
        fd_path(fd, path);
        *failed_step = BERTH_STEP_MOUNT;
        int rc = mount(path, path, NULL, MS_BIND | MS_REC, NULL);
        int saved = errno;
        close(fd);
        if (rc < 0) { errno = saved; return -1; }
        return mount_on(rootfd, op->target, NULL, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    }
    }
    errno = EINVAL;
    return -1;
}

static int run_op(int rootfd, int mountfd, const struct berth_mount_op *op, int *failed_step) {
    if (make_op(rootfd, mountfd, op, failed_step) < 0) return -1;
    if (!op->tree_attr_set && !op->tree_attr_clr) return 0;
    *failed_step = BERTH_STEP_MOUNT;
    return set_tree_attributes(rootfd, op);
}

// MARK: - the overlay root

// The new mount API's constants (linux/mount.h clashes with glibc's sys/mount.h).
#define BERTH_FSOPEN_CLOEXEC 0x1
#define BERTH_FSCONFIG_SET_FLAG 0
#define BERTH_FSCONFIG_SET_STRING 1
#define BERTH_FSCONFIG_CMD_CREATE 6
#define BERTH_FSMOUNT_CLOEXEC 0x1
#define BERTH_MOVE_MOUNT_F_EMPTY_PATH 0x4

// With the new mount API each lower layer is one fsconfig("lowerdir+") call, so the number of
// layers is not bounded by the one-page option string (kernel >= 6.8). Returns 0 when mounted,
// -1 otherwise. Nothing is mounted until the last step, so a failure leaves nothing behind.
// Older kernels fail in different places (no fsopen; overlay without fs_context before 6.5,
// which takes "lowerdir+" as a legacy option and rejects it at CMD_CREATE; no "lowerdir+"
// before 6.8), so any failure here means "use the option string".
static int overlay_new_api(const struct berth_spawn_config *c) {
    int fs = (int)syscall(SYS_fsopen, "overlay", BERTH_FSOPEN_CLOEXEC);
    if (fs < 0) return -1;
    int mnt = -1, ok = 1;
    for (size_t i = 0; ok && i < c->n_overlay_lower; i++)
        ok = syscall(SYS_fsconfig, fs, BERTH_FSCONFIG_SET_STRING, "lowerdir+", c->overlay_lower[i], 0) == 0;
    ok = ok && syscall(SYS_fsconfig, fs, BERTH_FSCONFIG_SET_STRING, "upperdir", c->overlay_upper, 0) == 0
            && syscall(SYS_fsconfig, fs, BERTH_FSCONFIG_SET_STRING, "workdir", c->overlay_work, 0) == 0
            && syscall(SYS_fsconfig, fs, BERTH_FSCONFIG_SET_STRING, "redirect_dir",
                       c->overlay_userxattr ? "nofollow" : "off", 0) == 0
            && syscall(SYS_fsconfig, fs, BERTH_FSCONFIG_SET_STRING, "metacopy", "off", 0) == 0
            && (!c->overlay_volatile || syscall(SYS_fsconfig, fs, BERTH_FSCONFIG_SET_FLAG, "volatile", NULL, 0) == 0)
            && (!c->overlay_userxattr || syscall(SYS_fsconfig, fs, BERTH_FSCONFIG_SET_FLAG, "userxattr", NULL, 0) == 0)
            && syscall(SYS_fsconfig, fs, BERTH_FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0
            && (mnt = (int)syscall(SYS_fsmount, fs, BERTH_FSMOUNT_CLOEXEC, 0)) >= 0
            && syscall(SYS_move_mount, mnt, "", AT_FDCWD, c->rootfs, BERTH_MOVE_MOUNT_F_EMPTY_PATH) == 0;
    int saved = errno;
    if (mnt >= 0) close(mnt);
    close(fs);
    errno = saved;
    return ok ? 0 : -1;
}

// A commit packs the upper dir alone, so every change must be there in full: no directory renamed
// by a redirect to a lower one, no file whose data stays below (whatever the kernel's defaults).
#define OVERLAY_FIXED_OPTIONS ",redirect_dir=off,metacopy=off"
// userxattr (a user namespace's overlay) refuses redirect_dir=off; nofollow makes no redirect either.
#define OVERLAY_USERXATTR_OPTIONS ",redirect_dir=nofollow,metacopy=off,userxattr"

static int append(char *buf, size_t size, size_t *at, const char *text) {
    size_t n = strlen(text);
    if (*at + n + 1 > size) { errno = E2BIG; return -1; }
    memcpy(buf + *at, text, n + 1);
    *at += n;
    return 0;
}

// The short names' symlinks, made in overlay_lower_base (a directory of the container's own)
// only on kernels that need them. A link left by an earlier start is replaced.
static int make_layer_links(const struct berth_spawn_config *c) {
    if (mkdir(c->overlay_lower_base, 0700) < 0 && errno != EEXIST) return -1;
    int dir = open(c->overlay_lower_base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0) return -1;
    for (size_t i = 0; i < c->n_overlay_lower; i++) {
        unlinkat(dir, c->overlay_lower_short[i], 0);
        if (symlinkat(c->overlay_lower[i], dir, c->overlay_lower_short[i]) < 0) {
            int saved = errno;
            close(dir);
            errno = saved;
            return -1;
        }
    }
    close(dir);
    return 0;
}

// The classic form: one "lowerdir=a:b:c,upperdir=…,workdir=…" string, at most a page. The lower
// paths may be short names relative to overlay_lower_base (the parent makes symlinks there when
// the full paths would not fit), so the mount runs from that directory.
static int overlay_option_string(const struct berth_spawn_config *c, int volatile_upper) {
    const char *const *lower = c->overlay_lower_short ? c->overlay_lower_short : c->overlay_lower;
    if (c->overlay_lower_short && make_layer_links(c) < 0) return -1;
    char data[4096];
    size_t at = 0;
    if (append(data, sizeof data, &at, "lowerdir=") < 0) return -1;
    for (size_t i = 0; i < c->n_overlay_lower; i++) {
        if ((i > 0 && append(data, sizeof data, &at, ":") < 0) ||
            append(data, sizeof data, &at, lower[i]) < 0) return -1;
    }
    if (append(data, sizeof data, &at, ",upperdir=") < 0 || append(data, sizeof data, &at, c->overlay_upper) < 0 ||
        append(data, sizeof data, &at, ",workdir=") < 0 || append(data, sizeof data, &at, c->overlay_work) < 0 ||
        append(data, sizeof data, &at, c->overlay_userxattr ? OVERLAY_USERXATTR_OPTIONS : OVERLAY_FIXED_OPTIONS) < 0 ||
        (volatile_upper && append(data, sizeof data, &at, ",volatile") < 0))
        return -1;
    const char *base = c->overlay_lower_short ? c->overlay_lower_base : NULL;
    if (base && chdir(base) < 0) return -1;
    int rc = mount("overlay", c->rootfs, "overlay", 0, data);
    int saved = errno;
    if (base && chdir("/") < 0) return -1;
    errno = saved;
    return rc;
}

// Layers whose paths fit in the option string take one mount(2), on every kernel: no probe of
// the new API that kernels before 6.8 would refuse with a line in the kernel log at every start.
// Deeper images try "lowerdir+" first, then the short links. The option string's errno is the
// one reported when both fail: on the kernels that need the fallback it is the meaningful one.
//
// "volatile" (kernel >= 5.10) only saves time, so a kernel that refuses it gets the mount without.
static int mount_overlay_root(const struct berth_spawn_config *c) {
    if (c->overlay_lower_short && overlay_new_api(c) == 0) return 0;
    if (overlay_option_string(c, c->overlay_volatile) == 0) return 0;
    if (c->overlay_volatile && errno == EINVAL) return overlay_option_string(c, 0);
    return -1;
}

// MARK: - idmapped mounts (a user namespace)

// How many mount fds travel in one message (the kernel takes at most 253).
#define IDMAPPED_BATCH 64

// Receives up to `max` fds in one message. Returns how many, or -1.
static int receive_fds(int sock, int *fds, int max) {
    char byte;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union { char buf[CMSG_SPACE(sizeof(int) * IDMAPPED_BATCH)]; struct cmsghdr align; } control;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
    ssize_t n;
    do { n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n < 0) return -1;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (n == 0 || !cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) { errno = EPROTO; return -1; }
    int count = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    if (count > max) count = max;
    memcpy(fds, CMSG_DATA(cm), sizeof(int) * (size_t)count);
    return count;
}

// Attaches the parent's idmapped mounts in the container's mount namespace: the layers on a
// private tmpfs over `overlay_lower_base` (they leave with the old root at pivot_root, the
// overlay holding its own references), or the root directory itself over `rootfs`. The parent made
// them: idmapping a mount of the host's filesystem needs CAP_SYS_ADMIN in the host's user
// namespace, which the child no longer has. Moving a detached mount in needs only our own.
static int place_idmapped_mounts(const struct berth_spawn_config *c, int sock, int *failed_step, int *index) {
    *index = -1;
    *failed_step = BERTH_STEP_IDMAPPED_MOUNT;
    if (c->n_overlay_lower > 0 &&
        mount("tmpfs", c->overlay_lower_base, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=700,size=64k") < 0) return -1;
    size_t placed = 0;
    while (placed < c->n_idmapped) {
        int fds[IDMAPPED_BATCH];
        *failed_step = BERTH_STEP_RECEIVE_MOUNTS;
        int got = receive_fds(sock, fds, IDMAPPED_BATCH);
        if (got < 0) return -1;
        *failed_step = BERTH_STEP_IDMAPPED_MOUNT;
        for (int i = 0; i < got; i++, placed++) {
            *index = (int)placed;
            int rc = -1;
            if (placed >= c->n_idmapped) {
                errno = EPROTO;   // more than the parent was to send
            } else {
                const char *target = c->n_overlay_lower > 0 ? c->overlay_lower[placed] : c->rootfs;
                rc = c->n_overlay_lower > 0 ? mkdir(target, 0700) : 0;
                if (rc == 0) rc = (int)syscall(SYS_move_mount, fds[i], "", AT_FDCWD, target, BERTH_MOVE_MOUNT_F_EMPTY_PATH);
            }
            if (rc < 0) return -1;   // the fds left go with the child
            close(fds[i]);
        }
    }
    return 0;
}

#define BERTH_MOVE_MOUNT_T_EMPTY_PATH 0x40

// An idmapped bind, made by the parent (as the layers are, and for the same reason), arrives
// as one detached mount when the plan reaches it: moved onto the target, then remounted with
// the bind's flags (a move keeps the mount's own, the source's).
static int attach_idmapped_bind(int rootfd, int sock, const struct berth_mount_op *op, int *failed_step) {
    int fd;
    *failed_step = BERTH_STEP_RECEIVE_MOUNTS;
    if (receive_fds(sock, &fd, 1) != 1) return -1;
    *failed_step = BERTH_STEP_MOUNT;
    int target = open_in_root(rootfd, op->target, O_PATH);
    int rc = target < 0 ? -1 : (int)syscall(SYS_move_mount, fd, "", target, "",
                                            BERTH_MOVE_MOUNT_F_EMPTY_PATH | BERTH_MOVE_MOUNT_T_EMPTY_PATH);
    int saved = errno;
    close(fd);
    if (target >= 0) close(target);
    errno = saved;
    if (rc < 0) return -1;
    unsigned long extra = op->flags & remountable;
    return extra ? mount_on(rootfd, op->target, NULL, NULL, MS_BIND | MS_REMOUNT | extra, NULL) : 0;
}

// MARK: - the rest of the child's setup

static int loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    int saved = errno;
    close(s);
    errno = saved;
    return rc;
}

// Moves the fds meant for 0, 1, 2 into place. A source that is itself 0-2 is first moved out of
// the way so an earlier dup2 cannot clobber it.
static int setup_stdio(const int stdio[3]) {
    int src[3];
    for (int i = 0; i < 3; i++) {
        src[i] = stdio[i];
        if (src[i] < 3 && src[i] != i) {
            src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3);
            if (src[i] < 0) return -1;
        }
    }
    for (int i = 0; i < 3; i++) {
        if (src[i] == i) {
            if (fcntl(i, F_SETFD, 0) < 0) return -1;   // keep it across exec
        } else if (dup2(src[i], i) < 0) {
            return -1;
        }
    }
    return 0;
}

static int set_capabilities(const struct berth_spawn_config *c) {
    struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2];
    data[0].effective = (uint32_t)c->cap_effective;
    data[1].effective = (uint32_t)(c->cap_effective >> 32);
    data[0].permitted = (uint32_t)c->cap_permitted;
    data[1].permitted = (uint32_t)(c->cap_permitted >> 32);
    data[0].inheritable = (uint32_t)c->cap_inheritable;
    data[1].inheritable = (uint32_t)(c->cap_inheritable >> 32);
    return (int)syscall(SYS_capset, &header, data);
}

// Writes `value` in decimal into `buffer` (at least 12 bytes), without the C library's locale
// machinery: the child may not allocate or lock.
static void decimal(char *buffer, int value) {
    char digits[12];
    int n = 0;
    unsigned int v = value < 0 ? 0U : (unsigned int)value;
    do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    for (int i = 0; i < n; i++) buffer[i] = digits[n - 1 - i];
    buffer[n] = 0;
}

// The last step: exec berth-entry from its sealed memfd, which execs the command (or stays pid 1
// as its init). The error pipe stays open across this exec for berth-entry to report a failed
// exec of the command on; it closes the pipe with its own. execveat needs no /proc; a seccomp
// profile that denies it (the command's exec needs only execve) gets the same file through the
// container's /proc.
static void exec_entry(const struct berth_spawn_config *c, int errfd) {
    size_t argc = 0;
    while (c->argv[argc]) argc++;
    const char *mode = c->exec_file ? "file" : !c->use_init ? "exec" : c->controlling_tty ? "init-tty" : "init";
    // "ERRFD" or "ERRFD,STARTFD".
    char errfd_text[24];
    decimal(errfd_text, errfd);
    if (c->start_fd > 2) {
        size_t at = strlen(errfd_text);
        errfd_text[at] = ',';
        decimal(errfd_text + at + 1, c->start_fd);
        if (fcntl(c->start_fd, F_SETFD, 0) < 0) return;
    }
    const char *argv[argc + 5];
    argv[0] = "berth-entry";
    argv[1] = errfd_text;
    argv[2] = mode;
    argv[3] = c->exec_file ? c->exec_file : c->path ? c->path : "";
    for (size_t i = 0; i <= argc; i++) argv[4 + i] = c->argv[i];
    if (fcntl(errfd, F_SETFD, 0) < 0) return;
    char *const *args = (char *const *)argv;
    char *const *envp = (char *const *)c->envp;
    syscall(SYS_execveat, c->entry_fd, "", args, envp, AT_EMPTY_PATH);
    int saved = errno;
    char path[32] = "/proc/self/fd/";
    decimal(path + 14, c->entry_fd);
    execve(path, args, envp);
    errno = saved;
    fcntl(errfd, F_SETFD, FD_CLOEXEC);
}

static int load_seccomp(const struct berth_spawn_config *c) {
    struct sock_fprog prog = {
        .len = (unsigned short)(c->seccomp_length / sizeof(struct sock_filter)),
        .filter = (struct sock_filter *)c->seccomp_program,
    };
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

static void reset_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < _NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        sigaction(sig, &sa, NULL);   // EINVAL for the signals glibc reserves: harmless
    }
}

// Says the mounts are made (not a failure: error 0) and waits for the parent's word that the
// createContainer hooks all passed; the parent's kill ends the wait when one failed.
static void pause_for_parent(int syncfd, int errfd) {
    report(errfd, BERTH_STEP_MOUNTS_READY, -1, 0);
    char go;
    ssize_t n;
    do { n = read(syncfd, &go, 1); } while (n < 0 && errno == EINTR);
    if (n != 1) { if (n == 0) errno = EPIPE; FAIL(BERTH_STEP_WAIT_PARENT, -1); }
    close(syncfd);
}

// The child, from its first instruction after clone to execve. The order matters and each
// step says why it sits where it does.
__attribute__((noreturn))
static void child_main(const struct berth_spawn_config *c, int syncfd, int errfd, int mountfd) {
    // Handlers were the parent's (Swift's); the mask stays full until just before exec so that
    // nothing interrupts the setup. Die with the parent: a container must not outlive berth.
    reset_signals();
    if (c->parent_death_signal) prctl(PR_SET_PDEATHSIG, c->parent_death_signal);

    // Wait until the parent has put us into our cgroup (v1) and is ready. EOF means the parent
    // died before releasing us: PDEATHSIG was set too late to catch that, so leave now.
    char go;
    ssize_t n;
    do { n = read(syncfd, &go, 1); } while (n < 0 && errno == EINTR);
    if (n != 1) { if (n == 0) errno = EPIPE; FAIL(BERTH_STEP_WAIT_PARENT, -1); }
    if (!c->pause_before_pivot) close(syncfd);

    // v1: into the container's cgroups before anything else, so the limits and the device list
    // hold for the whole setup. A single thread moving itself is the one migration the kernel
    // makes without an RCU grace period (a parent's write of our pid waits for one).
    for (size_t i = 0; i < c->n_cgroup_task_fds; i++) {
        ssize_t w;
        do { w = write(c->cgroup_task_fds[i], "0", 1); } while (w < 0 && errno == EINTR);
        if (w != 1) FAIL(BERTH_STEP_JOIN_CGROUP, (int)i);
    }

    // berth exec: all of the container's namespaces at once (setns with a pidfd, Linux 5.8).
    // Entering its mount namespace also puts us at its root.
    if (c->join_namespaces) {
        unsigned long flags = c->join_namespaces & ~(unsigned long)CLONE_NEWPID;
        if (flags && setns(c->join_pidfd, (int)flags) < 0) FAIL(BERTH_STEP_JOIN_NAMESPACES, -1);
    }

    // Namespaces given by path. A joined user namespace owns the container's new namespaces,
    // so those are made here, after it is entered, rather than at clone.
    unsigned long joined = 0;
    for (size_t i = 0; i < c->n_join_files; i++) {
        if (setns(c->join_files[i].fd, c->join_files[i].type) < 0) FAIL(BERTH_STEP_JOIN_NAMESPACES, (int)i);
        joined |= (unsigned long)c->join_files[i].type;
    }
    if (c->unshare_namespaces && unshare((int)c->unshare_namespaces) < 0) FAIL(BERTH_STEP_UNSHARE_NAMESPACES, -1);

    // A user namespace, new (whose maps the parent has written) or joined: become its root at
    // once, so that what the setup creates (mount points in the upper dir, the working
    // directory) belongs to the container's root and not to the host's, whose ids are unmapped
    // there. Raw calls, as for the user below. Changing the ids clears the parent-death signal,
    // so it is set again.
    if ((c->namespaces | c->join_namespaces | joined) & CLONE_NEWUSER) {
        if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setgroups, 0, NULL) < 0 ||
            syscall(SYS_setresuid, 0, 0, 0) < 0)
            FAIL(BERTH_STEP_USER_NAMESPACE, -1);
        if (c->parent_death_signal) prctl(PR_SET_PDEATHSIG, c->parent_death_signal);
    }

    // A session of our own, so the container's signals and terminal are its own.
    if (setsid() < 0) FAIL(BERTH_STEP_SETSID, -1);
    if (c->controlling_tty && ioctl(c->stdio[0], TIOCSCTTY, 0) < 0) FAIL(BERTH_STEP_CONTROLLING_TTY, -1);
    if (setup_stdio(c->stdio) < 0) FAIL(BERTH_STEP_STDIO, -1);

    // The cgroup namespace is created only now, from inside the container's cgroup, so that the
    // container sees its own cgroup as "/" (a namespace made at clone time would be rooted at
    // berth's cgroup).
    if (c->unshare_cgroup && unshare(CLONE_NEWCGROUP) < 0) FAIL(BERTH_STEP_UNSHARE_CGROUP, -1);

    // A time namespace cannot be made at clone with offsets: they can be written only while no
    // process is in it. unshare makes it ours for children, the offsets go in while it is
    // empty, and the exec below moves this process into it (time_namespaces(7)). After the user
    // namespace step, so that the container's root owns it.
    if (c->new_time_namespace) {
        if (unshare(CLONE_NEWTIME) < 0) FAIL(BERTH_STEP_TIME_NAMESPACE, -1);
        if (c->time_offsets) {
            int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
            size_t size = strlen(c->time_offsets);
            if (fd < 0 || write(fd, c->time_offsets, size) != (ssize_t)size) FAIL(BERTH_STEP_TIME_OFFSETS, -1);
            close(fd);
        }
    }

    if (c->rootfs) {
        // Nothing we mount may propagate back to the host's mount table.
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) FAIL(BERTH_STEP_MOUNT_PROPAGATION, -1);
        if (c->n_idmapped > 0) {
            int step, index;
            if (place_idmapped_mounts(c, mountfd, &step, &index) < 0) FAIL(step, index);
        }
        if (c->n_overlay_lower > 0 && mount_overlay_root(c) < 0) FAIL(BERTH_STEP_OVERLAY_ROOT, -1);
        // pivot_root needs the new root to be a mount point (an overlay already is; binding it
        // onto itself is harmless and keeps one path for both).
        if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) FAIL(BERTH_STEP_BIND_ROOT, -1);
        int rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) FAIL(BERTH_STEP_OPEN_ROOT, -1);

        // The plan: /proc, /dev and its nodes, /sys, user mounts, then masked and read-only
        // paths (which lie inside /proc and /sys, so they come after those are mounted).
        for (size_t i = 0; i < c->n_ops; i++) {
            int step;
            if (run_op(rootfd, mountfd, &c->ops[i], &step) < 0 && !c->ops[i].optional) FAIL(step, (int)i);
        }
        close(rootfd);
        if (mountfd >= 0) close(mountfd);

        // createContainer hooks run now, as runc runs them: in this mount namespace with the
        // container's mounts made and the host's root still "/", so their paths are the
        // runtime's.
        if (c->pause_before_pivot) pause_for_parent(syncfd, errfd);

        // pivot_root(".", ".") stacks the old root under the new one; unmounting "." then removes
        // the old root, so nothing of the host stays reachable (chroot would leave it there).
        if (chdir(c->rootfs) < 0) FAIL(BERTH_STEP_PIVOT_ROOT, -1);
        if (syscall(SYS_pivot_root, ".", ".") < 0) FAIL(BERTH_STEP_PIVOT_ROOT, -1);
        if (mount(NULL, ".", NULL, MS_REC | MS_SLAVE, NULL) < 0) FAIL(BERTH_STEP_UMOUNT_OLD_ROOT, -1);
        if (umount2(".", MNT_DETACH) < 0) FAIL(BERTH_STEP_UMOUNT_OLD_ROOT, -1);
        if (chdir("/") < 0) FAIL(BERTH_STEP_PIVOT_ROOT, -1);
        // After the step above, which made every mount of the new root a slave (and a shared
        // mount without a master a private one).
        int propagation_index = -1;
        if (set_bind_propagation(c->ops, c->n_ops, &propagation_index) < 0) FAIL(BERTH_STEP_MOUNT, propagation_index);
        // Read-only last, after every mount point inside it has been created.
        if (c->rootfs_readonly &&
            mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
            FAIL(BERTH_STEP_ROOT_READONLY, -1);
    } else if (c->pause_before_pivot) {
        // A joined mount namespace is taken as it is: the hooks run in it as it stands.
        pause_for_parent(syncfd, errfd);
    }

    if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0) FAIL(BERTH_STEP_HOSTNAME, -1);
    // In the new UTS namespace, like the hostname: never the host's.
    if (c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0) FAIL(BERTH_STEP_DOMAINNAME, -1);
    if (c->loopback_up && loopback_up() < 0) FAIL(BERTH_STEP_LOOPBACK, -1);

    // A new container's working directory is created as root, before the user changes: Docker
    // does the same. An exec only enters it: a process joining a container changes nothing in it.
    if (c->cwd && c->create_cwd) {
        // "/" is the container's root now; resolving in it keeps the walk the same as for mounts.
        int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0 || mkdir_in_root(rootfd, c->cwd, 0755) < 0) FAIL(BERTH_STEP_WORKDIR, -1);
        close(rootfd);
    }
    if (c->cwd && chdir(c->cwd) < 0) FAIL(BERTH_STEP_WORKDIR, -1);

    for (size_t i = 0; i < c->n_rlimits; i++) {
        struct rlimit rl = { .rlim_cur = c->rlimits[i].soft, .rlim_max = c->rlimits[i].hard };
        if (setrlimit(c->rlimits[i].resource, &rl) < 0) FAIL(BERTH_STEP_RLIMIT, (int)i);
    }
    // Before seccomp, which may deny personality(2); it outlives the exec.
    if (c->set_personality && personality(c->personality) < 0) FAIL(BERTH_STEP_PERSONALITY, -1);

    // Without no_new_privs the kernel takes a filter only from a process holding CAP_SYS_ADMIN,
    // which a container's process usually loses below: then the filter goes in here, while we
    // still hold it, as runc does (an OCI spec with noNewPrivileges false, podman's default).
    if (c->seccomp_program && c->seccomp_early && load_seccomp(c) < 0) FAIL(BERTH_STEP_SECCOMP, -1);

    // Privileges, in the order that keeps each step possible: the bounding set needs
    // CAP_SETPCAP, setgroups/setgid/setuid need CAP_SETGID/SETUID, and KEEPCAPS keeps the
    // permitted set across the uid change so capset can then set exactly what was asked.
    if (c->set_capabilities) {
        for (int cap = 0; cap <= c->last_cap; cap++) {
            if (c->cap_bounding & (1ULL << cap)) continue;
            if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) FAIL(BERTH_STEP_CAP_BOUNDING, cap);
        }
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) FAIL(BERTH_STEP_KEEPCAPS, -1);
    }
    // Raw system calls, not glibc's wrappers: those make every thread of the process change
    // ids too (POSIX wants one set for all threads), taking a lock and signalling the threads
    // of the list copied from the parent. Another thread of the parent may have held that lock
    // at clone, and then the child waits for it forever. The child has one thread, so the
    // kernel's per-thread change is the whole change. (These are the 32-bit-id calls on
    // x86_64 and aarch64, the only ones berth builds for.)
    if (c->set_user) {
        if (syscall(SYS_setgroups, c->n_groups, c->groups) < 0) FAIL(BERTH_STEP_SETGROUPS, -1);
        if (syscall(SYS_setresgid, c->gid, c->gid, c->gid) < 0) FAIL(BERTH_STEP_SETGID, -1);
        if (syscall(SYS_setresuid, c->uid, c->uid, c->uid) < 0) FAIL(BERTH_STEP_SETUID, -1);
    }
    if (c->set_capabilities) {
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) FAIL(BERTH_STEP_KEEPCAPS, -1);
        if (set_capabilities(c) < 0) FAIL(BERTH_STEP_CAPSET, -1);
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
            FAIL(BERTH_STEP_CAP_AMBIENT, -1);
        for (int cap = 0; cap <= c->last_cap; cap++) {
            if (!(c->cap_ambient & (1ULL << cap))) continue;
            if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) FAIL(BERTH_STEP_CAP_AMBIENT, cap);
        }
    }
    if (c->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) FAIL(BERTH_STEP_NO_NEW_PRIVS, -1);

    // Every fd but stdio and the error pipe (already close-on-exec) is closed by exec: no
    // descriptor of berth's may leak into the container (CVE-2024-21626).
    berth_cloexec_from(3);

    // seccomp last: every call above may be one the filter denies. execve must be allowed.
    if (c->seccomp_program && !c->seccomp_early && load_seccomp(c) < 0) FAIL(BERTH_STEP_SECCOMP, -1);

    // The init (berth-entry, with use_init) takes every signal synchronously: blocked from here.
    if (!c->use_init) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
    }
    exec_entry(c, errfd);
    FAIL(BERTH_STEP_EXEC_ENTRY, -1);
}

// MARK: - the parent side

static pid_t clone_child(const struct berth_spawn_config *c, int *pidfd, int *joined) {
    // clone3 places the child in its cgroup atomically and hands back a pidfd; any failure falls
    // back to plain clone (an older kernel, or a cgroup the kernel refuses to clone into), and the
    // parent then attaches the child while it waits on the sync pipe.
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = c->namespaces | CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)pidfd;
    args.exit_signal = SIGCHLD;
    if (c->cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)c->cgroup_fd;
    }
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid >= 0) {
        *joined = c->cgroup_fd >= 0;
        return pid;
    }
    *pidfd = -1;
    *joined = 0;
    return (pid_t)syscall(SYS_clone, c->namespaces | SIGCHLD, NULL, NULL, NULL, NULL);
}

// The pipes and the socket between the parent and its child: the sync pipe the child waits on
// for its release, the error pipe it reports on (EOF: it exec'd), and the socket the idmapped
// mounts go over (a user namespace only, else -1). [0] is the child's end of sync and mount,
// [1] of err.
struct spawn_channels {
    int sync[2];
    int err[2];
    int mount[2];
};

static void close_pair(int pair[2]) {
    for (int i = 0; i < 2; i++) {
        if (pair[i] >= 0) close(pair[i]);
        pair[i] = -1;
    }
}

static void close_channels(struct spawn_channels *ch) {
    close_pair(ch->sync);
    close_pair(ch->err);
    close_pair(ch->mount);
}

static int open_channels(const struct berth_spawn_config *config, struct spawn_channels *ch) {
    ch->sync[0] = ch->sync[1] = ch->err[0] = ch->err[1] = ch->mount[0] = ch->mount[1] = -1;
    if (pipe2(ch->sync, O_CLOEXEC) < 0 || pipe2(ch->err, O_CLOEXEC) < 0
        || (config->n_idmapped + config->n_idmapped_binds > 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ch->mount) < 0)) {
        int saved = errno;
        close_channels(ch);
        return -saved;
    }
    return 0;
}

// In the new child: its own ends kept, the parent's closed, then its setup (never returns).
__attribute__((noreturn))
static void become_child(const struct berth_spawn_config *config, struct spawn_channels *ch) {
    close(ch->sync[1]);
    close(ch->err[0]);
    if (ch->mount[0] >= 0) close(ch->mount[0]);
    child_main(config, ch->sync[0], ch->err[1], ch->mount[1]);
}

// The parent's ends into `result`; the child's closed.
static void keep_parent_ends(const struct berth_spawn_config *config, struct spawn_channels *ch, pid_t pid, int pidfd,
                             int joined, struct berth_spawn_result *result) {
    close(ch->sync[0]);
    close(ch->err[1]);
    if (ch->mount[1] >= 0) close(ch->mount[1]);
    result->pid = pid;
    result->pidfd = pidfd;
    result->release_fd = ch->sync[1];
    result->error_fd = ch->err[0];
    result->joined_cgroup = joined || config->n_cgroup_task_fds > 0;
    result->mount_socket = ch->mount[0];
}

int berth_spawn(const struct berth_spawn_config *config, struct berth_spawn_result *result) {
    struct spawn_channels ch;
    int opened = open_channels(config, &ch);
    if (opened < 0) return opened;

    // A pid namespace can only be entered for one's children: berth exec's process is born in
    // the container's. This thread's own later children must not be (a program that embeds the
    // engine goes on making processes after the container is gone, and a dead pid namespace
    // refuses new members with ENOMEM), so its namespace for children is put back after the clone.
    int own_pid_ns = -1;
    if (config->join_namespaces & CLONE_NEWPID) {
        own_pid_ns = open("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
        if (own_pid_ns < 0 || setns(config->join_pidfd, CLONE_NEWPID) < 0) {
            int saved = errno;
            if (own_pid_ns >= 0) close(own_pid_ns);
            close_channels(&ch);
            return -saved;
        }
    }

    // All signals blocked across the clone: a handler of the parent's must never run in the
    // child before it has reset them.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);

    // A process entering a running container is in its pid namespace from the clone on, and
    // berth's own binary until it execs berth-entry: not dumpable, nothing in the container without
    // CAP_SYS_PTRACE can open its /proc/PID/exe meanwhile. The child's memory is a copy of ours
    // as it is at the clone, flag included; ours is put back after it.
    int dumpable = config->join_namespaces ? prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) : -1;
    if (dumpable > 0) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    int pidfd = -1, joined = 0;
    pid_t pid = clone_child(config, &pidfd, &joined);
    if (pid == 0) become_child(config, &ch);
    int saved = errno;
    if (dumpable > 0) prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (own_pid_ns >= 0) {
        // Back into the namespace this thread's children were born in (its own is always an
        // ancestor of the container's, so the kernel allows it).
        if (setns(own_pid_ns, CLONE_NEWPID) < 0 && pid >= 0) {
            saved = errno;
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            pid = -1;
        }
        close(own_pid_ns);
    }
    if (pid < 0) {
        close_channels(&ch);
        return -saved;
    }
    keep_parent_ends(config, &ch, pid, pidfd, joined, result);
    return 0;
}

// MARK: - a detached container's adopter

// What the adopter tells its caller once it has cloned the container.
struct adopter_report {
    int32_t pid;        // the container's first process, or -1
    int32_t joined;     // clone3 placed it in its cgroup
    int32_t error;      // clone's errno when pid is -1
};

static ssize_t write_fully(int fd, const void *buffer, size_t size) {
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, (const char *)buffer + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

// Closes every fd above 2 but the `n` in `keep` (which it sorts).
static void close_all_except(int *keep, size_t n) {
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            int t = keep[j]; keep[j] = keep[j - 1]; keep[j - 1] = t;
        }
    }
    unsigned int next = 3;
    for (size_t i = 0; i < n; i++) {
        if (keep[i] < (int)next) continue;
        if ((unsigned int)keep[i] > next) berth_close_fds(next, (unsigned int)keep[i] - 1);
        next = (unsigned int)keep[i] + 1;
    }
    berth_close_fds(next, ~0U);
}

// The adopter, from its fork to the exec of the monitor (or its exit): a copy of a caller that
// may have had threads, so only system calls, as in the child.
__attribute__((noreturn))
static void adopter_main(const struct berth_spawn_config *config, const struct berth_adopter *adopter,
                         struct spawn_channels *ch, int report_fd, int go_fd) {
    // Its own session, as a daemon: no terminal's signals reach the monitor.
    reset_signals();
    setsid();
    struct adopter_report report = { .pid = -1, .joined = 0, .error = 0 };
    int pidfd = -1, joined = 0;
    pid_t pid = clone_child(config, &pidfd, &joined);
    if (pid == 0) {
        close(report_fd);
        close(go_fd);
        become_child(config, ch);
    }
    report.error = pid < 0 ? errno : 0;
    report.pid = pid;
    report.joined = joined;
    // Every fd but its own goes now, not at the exec: it waits for the verdict while the
    // caller's other threads start containers too, whose pipes it holds a copy of since the
    // fork, and the EOF those starts wait for (an exec's, a ready pipe's) must not wait for it.
    // Its stdio too: `id=$(berth run -d …)` returns when berth exits.
    for (int fd = 0; fd < 3; fd++) dup2(adopter->null_fd, fd);
    int own[3 + BERTH_ADOPTER_MAX_KEPT];
    size_t n_own = 0;
    own[n_own++] = report_fd;
    own[n_own++] = go_fd;
    own[n_own++] = adopter->null_fd;
    for (size_t i = 0; i < adopter->n_keep_fds && i < BERTH_ADOPTER_MAX_KEPT; i++) own[n_own++] = adopter->keep_fds[i];
    close_all_except(own, n_own);
    if (pidfd >= 0) close(pidfd);
    int told = write_fully(report_fd, &report, sizeof report) == (ssize_t)sizeof report;
    close(report_fd);
    if (pid < 0) _exit(1);

    // The caller's verdict: one byte once the container has exec'd and is recorded, EOF when
    // its start failed (or the caller died), and the container is then ended here, its parent.
    char go = 0;
    if (told && berth_read_fully(go_fd, &go, 1) == 1) {
        close(go_fd);
        decimal(adopter->pid_slot, pid);
        close(adopter->null_fd);
        for (size_t i = 0; i < adopter->n_keep_fds; i++) fcntl(adopter->keep_fds[i], F_SETFD, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(adopter->path, adopter->argv, adopter->envp);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    _exit(127);
}

int berth_spawn_adopted(const struct berth_spawn_config *config, const struct berth_adopter *adopter,
                        struct berth_spawn_result *result, pid_t *adopter_pid, int *go_fd) {
    if (config->join_namespaces) return -EINVAL;
    struct spawn_channels ch;
    int opened = open_channels(config, &ch);
    if (opened < 0) return opened;
    int report[2] = { -1, -1 }, go[2] = { -1, -1 };
    if (pipe2(report, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) {
        int saved = errno;
        close_pair(report);
        close_pair(go);
        close_channels(&ch);
        return -saved;
    }

    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    // _Fork: no atfork handlers, async-signal-safe; the copy runs only system calls.
    pid_t adopter_process = _Fork();
    if (adopter_process == 0) {
        close(report[0]);
        close(go[1]);
        adopter_main(config, adopter, &ch, report[1], go[0]);
    }
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(report[1]);
    close(go[0]);
    if (adopter_process < 0) {
        close(report[0]);
        close(go[1]);
        close_channels(&ch);
        return -saved;
    }

    struct adopter_report answer = { .pid = -1, .joined = 0, .error = EPROTO };
    ssize_t got = berth_read_fully(report[0], &answer, sizeof answer);
    saved = got < 0 ? errno : answer.error ? answer.error : EPROTO;
    close(report[0]);
    if (got != (ssize_t)sizeof answer || answer.pid <= 0) {
        close(go[1]);
        close_channels(&ch);
        while (waitpid(adopter_process, NULL, 0) < 0 && errno == EINTR) {}
        return -saved;
    }
    // Its parent reaps it only after our verdict, so the pid names this process until then.
    int pidfd = (int)syscall(SYS_pidfd_open, answer.pid, 0);
    keep_parent_ends(config, &ch, answer.pid, pidfd, answer.joined, result);
    *adopter_pid = adopter_process;
    *go_fd = go[1];
    return 0;
}

int berth_adopter_verdict(pid_t adopter_pid, int go_fd, int adopt) {
    int rc = 0;
    if (adopt) {
        char go = 1;
        if (write_fully(go_fd, &go, 1) != 1) rc = -errno;
    }
    close(go_fd);
    // Without the go it ends the container and exits: reaped here, as one that is gone already.
    if (!adopt || rc < 0) {
        while (waitpid(adopter_pid, NULL, 0) < 0 && errno == EINTR) {}
    }
    return rc;
}

// Writes `text` to /proc/PID/NAME in one write(2), as the id map files require.
static int write_proc_file(pid_t pid, const char *name, const char *text) {
    char path[64];
    int len = snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    if (len < 0 || (size_t)len >= sizeof path) { errno = ENAMETOOLONG; return -1; }
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t size = strlen(text);
    ssize_t n = write(fd, text, size);
    int saved = errno;
    close(fd);
    if (n == (ssize_t)size) return 0;
    errno = n < 0 ? saved : EIO;
    return -1;
}

static int send_fds(int sock, const int *fds, int count) {
    char byte = 0;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union { char buf[CMSG_SPACE(sizeof(int) * IDMAPPED_BATCH)]; struct cmsghdr align; } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                          .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)count) };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)count);
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)count);
    ssize_t n;
    do { n = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

int berth_prepare_user_namespace(struct berth_spawn_result *result, const char *uid_map, const char *gid_map,
                                 const struct berth_idmapped_source *sources, size_t n, int *failed, int *index) {
    *index = -1;
    *failed = 0;
    if (uid_map && write_proc_file(result->pid, "uid_map", uid_map) < 0) return -errno;
    *failed = 1;
    if (gid_map && write_proc_file(result->pid, "gid_map", gid_map) < 0) return -errno;
    if (n == 0) return 0;

    // The mapping of a layer's idmapped mount is a user namespace's: the child's, now that it
    // has maps. A bind with a mapping of its own brings its namespace.
    int child_userns = -1;
    if (uid_map) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/user", (int)result->pid);
        *failed = 2;
        child_userns = open(path, O_RDONLY | O_CLOEXEC);
        if (child_userns < 0) return -errno;
    }
    int fds[IDMAPPED_BATCH], count = 0, rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct berth_idmapped_source *source = &sources[i];
        *index = (int)i;
        *failed = 2;
        int userns = source->userns_fd >= 0 ? source->userns_fd : child_userns;
        if (userns < 0) { rc = -EINVAL; break; }
        *failed = 3;
        int fd = (int)syscall(SYS_open_tree, AT_FDCWD, source->path,
                              BERTH_OPEN_TREE_CLONE | O_CLOEXEC | (source->tree ? AT_RECURSIVE : 0));
        if (fd < 0) { rc = -errno; break; }
        fds[count++] = fd;
        struct berth_mount_attr attr = { .attr_set = BERTH_MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns };
        *failed = 4;
        if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (source->idmap_tree ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0) {
            rc = -errno;
            break;
        }
        // A batch goes when full, at the last source, and before and with each bind sent alone.
        int next_alone = i + 1 < n && sources[i + 1].alone;
        if (count == IDMAPPED_BATCH || i + 1 == n || source->alone || next_alone) {
            *failed = 5;
            if (send_fds(result->mount_socket, fds, count) < 0) rc = -errno;
            for (int j = 0; j < count; j++) close(fds[j]);
            count = 0;
        }
    }
    for (int j = 0; j < count; j++) close(fds[j]);
    if (child_userns >= 0) close(child_userns);
    if (rc == 0) { close(result->mount_socket); result->mount_socket = -1; }
    return rc;
}

int berth_make_user_namespace(const char *uid_map, const char *gid_map) {
    int hold[2];
    if (pipe2(hold, O_CLOEXEC) < 0) return -errno;
    // fork's semantics (no CLONE_VM): the child only waits for EOF on the pipe and leaves, calls
    // that are safe in a copy of a threaded process.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
    if (pid == 0) {
        char byte;
        close(hold[1]);
        while (read(hold[0], &byte, 1) < 0 && errno == EINTR) {}
        _exit(0);
    }
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(hold[0]);
    if (pid < 0) { close(hold[1]); return -saved; }
    int fd = -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
    if (write_proc_file(pid, "uid_map", uid_map) == 0 && write_proc_file(pid, "gid_map", gid_map) == 0)
        fd = open(path, O_RDONLY | O_CLOEXEC);
    saved = errno;
    close(hold[1]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    return fd >= 0 ? fd : -saved;
}

int berth_release_keeping(struct berth_spawn_result *result) {
    char go = 1;
    ssize_t n;
    do { n = write(result->release_fd, &go, 1); } while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -errno;
}

int berth_release(struct berth_spawn_result *result) {
    int rc = berth_release_keeping(result);
    close(result->release_fd);
    result->release_fd = -1;
    return rc;
}

// Milliseconds left until `deadline`, for poll: never negative, and capped where int ends.
static int remaining_ms(const struct timespec *deadline) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
    if (ms < 0) return 0;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static struct timespec deadline_after(int timeout_ms) {
    struct timespec d;
    clock_gettime(CLOCK_MONOTONIC, &d);
    d.tv_sec += timeout_ms / 1000;
    d.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (d.tv_nsec >= 1000000000) { d.tv_sec++; d.tv_nsec -= 1000000000; }
    return d;
}

// Waits until `fd` is readable or hung up. 1: ready; 0: the deadline passed; -errno.
static int wait_readable(int fd, const struct timespec *deadline) {
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int n = poll(&p, 1, deadline ? remaining_ms(deadline) : -1);
        if (n > 0) return 1;
        if (n == 0) return 0;
        if (errno != EINTR) return -errno;
    }
}

int berth_wait_exec(struct berth_spawn_result *result, struct berth_child_error *error, int timeout_ms) {
    // A mount whose source never answers (a hung NFS or FUSE server) holds the child inside a
    // system call, and the pipe then stays silent and open: only a deadline ends that wait. The
    // poll is the one call this adds to a start; on success it returns with the exec's EOF.
    struct timespec deadline = deadline_after(timeout_ms > 0 ? timeout_ms : 0);
    size_t got = 0;
    char *buf = (char *)error;
    int rc = 0;
    while (got < sizeof *error) {
        int ready = wait_readable(result->error_fd, timeout_ms >= 0 ? &deadline : NULL);
        if (ready <= 0) { rc = ready == 0 ? -ETIMEDOUT : ready; break; }
        ssize_t n = read(result->error_fd, buf + got, sizeof *error - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { rc = -errno; break; }
        if (n == 0) break;
        got += (size_t)n;
    }
    if (rc == 0 && got == sizeof *error && error->step == BERTH_STEP_MOUNTS_READY && error->error == 0) return 2;
    close(result->error_fd);
    result->error_fd = -1;
    if (rc < 0) return rc;
    if (got == 0) return 0;
    if (got < sizeof *error) { error->step = BERTH_STEP_NONE; error->index = -1; error->error = EPROTO; }
    return 1;
}

int berth_kill_and_reap(struct berth_spawn_result *result, int timeout_ms) {
    if (result->pidfd >= 0) syscall(SYS_pidfd_send_signal, result->pidfd, SIGKILL, NULL, 0);
    else kill(result->pid, SIGKILL);
    // SIGKILL ends a process even inside a hung NFS or FUSE call (those waits are killable),
    // but not one in an uninterruptible sleep; berth then goes on and leaves the zombie to
    // whoever reaps its orphans. A pidfd turns readable when the process has ended.
    int fd = result->pidfd >= 0 ? result->pidfd : (int)syscall(SYS_pidfd_open, result->pid, 0);
    int rc = 0;
    if (fd >= 0) {
        struct timespec deadline = deadline_after(timeout_ms > 0 ? timeout_ms : 0);
        int ready = wait_readable(fd, &deadline);
        if (ready <= 0) rc = ready == 0 ? -ETIMEDOUT : ready;
        if (fd != result->pidfd) close(fd);
    }
    if (rc == 0) {
        int status;
        while (waitpid(result->pid, &status, 0) < 0 && errno == EINTR) {}
    }
    if (result->release_fd >= 0) { close(result->release_fd); result->release_fd = -1; }
    if (result->error_fd >= 0) { close(result->error_fd); result->error_fd = -1; }
    if (result->pidfd >= 0) { close(result->pidfd); result->pidfd = -1; }
    if (result->mount_socket >= 0) { close(result->mount_socket); result->mount_socket = -1; }
    return rc;
}

const char *berth_blocked_syscall(pid_t pid) {
    // /proc/PID/syscall starts with the number of the call the process is blocked in, or says
    // "running". Only read after a deadline, so it costs a start nothing.
    char path[64], text[64];
    int len = snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
    if (len < 0 || (size_t)len >= sizeof path) return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return NULL;
    text[n] = 0;
    char *end;
    long nr = strtol(text, &end, 10);
    if (end == text) return NULL;
    switch (nr) {
    case SYS_mount: return "mount";
    case SYS_umount2: return "umount2";
    case SYS_pivot_root: return "pivot_root";
    case SYS_openat2: return "openat2";
    case SYS_openat: return "openat";
    case SYS_newfstatat: return "stat";
    case SYS_fstat: return "fstat";
    case SYS_mkdirat: return "mkdirat";
    case SYS_mknodat: return "mknodat";
    case SYS_symlinkat: return "symlinkat";
    case SYS_chdir: return "chdir";
    case SYS_fsconfig: return "fsconfig";
    case SYS_fsmount: return "fsmount";
    case SYS_move_mount: return "move_mount";
    case SYS_recvmsg: return "recvmsg";
    case SYS_read: return "read";
    case SYS_execve: return "execve";
    case SYS_setns: return "setns";
    default: return NULL;
    }
}

const char *berth_step_name(int step) {
    switch (step) {
    case BERTH_STEP_WAIT_PARENT: return "wait for berth";
    case BERTH_STEP_USER_NAMESPACE: return "become root of the user namespace";
    case BERTH_STEP_RECEIVE_MOUNTS: return "receive the idmapped mounts";
    case BERTH_STEP_IDMAPPED_MOUNT: return "attach an idmapped mount";
    case BERTH_STEP_JOIN_NAMESPACES: return "setns";
    case BERTH_STEP_UNSHARE_NAMESPACES: return "create the namespaces inside the joined user namespace";
    case BERTH_STEP_TIME_NAMESPACE: return "create the time namespace";
    case BERTH_STEP_TIME_OFFSETS: return "write the time namespace's offsets";
    case BERTH_STEP_MOUNTS_READY: return "wait for the createContainer hooks";
    case BERTH_STEP_PERSONALITY: return "set the personality";
    case BERTH_STEP_JOIN_CGROUP: return "join the container's cgroup";
    case BERTH_STEP_SETSID: return "setsid";
    case BERTH_STEP_CONTROLLING_TTY: return "set the controlling terminal";
    case BERTH_STEP_STDIO: return "set up stdio";
    case BERTH_STEP_UNSHARE_CGROUP: return "create the cgroup namespace";
    case BERTH_STEP_MOUNT_PROPAGATION: return "make mounts private";
    case BERTH_STEP_OVERLAY_ROOT: return "mount the overlay root filesystem";
    case BERTH_STEP_BIND_ROOT: return "bind the root filesystem";
    case BERTH_STEP_OPEN_ROOT: return "open the root filesystem";
    case BERTH_STEP_MOUNT_TARGET: return "create the mount point";
    case BERTH_STEP_MOUNT: return "mount";
    case BERTH_STEP_PIVOT_ROOT: return "pivot_root";
    case BERTH_STEP_UMOUNT_OLD_ROOT: return "unmount the old root";
    case BERTH_STEP_ROOT_READONLY: return "make the root read-only";
    case BERTH_STEP_HOSTNAME: return "sethostname";
    case BERTH_STEP_DOMAINNAME: return "setdomainname";
    case BERTH_STEP_LOOPBACK: return "bring up the loopback interface";
    case BERTH_STEP_WORKDIR: return "enter the working directory";
    case BERTH_STEP_RLIMIT: return "setrlimit";
    case BERTH_STEP_CAP_BOUNDING: return "drop from the capability bounding set";
    case BERTH_STEP_KEEPCAPS: return "keep capabilities across setuid";
    case BERTH_STEP_SETGROUPS: return "setgroups";
    case BERTH_STEP_SETGID: return "setgid";
    case BERTH_STEP_SETUID: return "setuid";
    case BERTH_STEP_CAPSET: return "set capabilities";
    case BERTH_STEP_CAP_AMBIENT: return "set ambient capabilities";
    case BERTH_STEP_NO_NEW_PRIVS: return "set no_new_privs";
    case BERTH_STEP_SECCOMP: return "load the seccomp filter";
    case BERTH_STEP_EXEC_ENTRY: return "exec berth-entry";
    case BERTH_STEP_INIT_FORK: return "fork the command under the init";
    case BERTH_STEP_EXEC: return "exec";
    case BERTH_STEP_WAIT_START: return "wait for start";
    default: return "set up the container";
    }
}

// runc's "tmpcopyup": a tmpfs mounted over a directory of the image starts with a copy of what
// that directory held, so mounting it hides nothing the image put there.
#define _GNU_SOURCE
#include "copy_tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

// Each level holds one directory fd pair and a small listing buffer on the stack; a deeper tree
// is refused rather than risk the child's stack.
#define COPY_TREE_MAX_DEPTH 64

struct linux_dirent64 {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

// Owner first, then the permission bits (a chown clears set-id bits), then the times.
static int copy_metadata(int dir, const char *name, const struct stat *st) {
    if (fchownat(dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0) return -1;
    if (!S_ISLNK(st->st_mode) && fchmodat(dir, name, st->st_mode & 07777, 0) < 0) return -1;
    struct timespec times[2] = { st->st_atim, st->st_mtim };
    return utimensat(dir, name, times, AT_SYMLINK_NOFOLLOW);
}

static int copy_file(int from, int to, const char *name, const struct stat *st) {
    int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0) return -1;
    int out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    int rc = out < 0 ? -1 : 0;
    off_t offset = 0;
    while (rc == 0 && offset < st->st_size) {
        ssize_t n = sendfile(out, in, &offset, (size_t)(st->st_size - offset));
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) break;   // the file shrank while being copied: what it holds now is copied
        if (n < 0) rc = -1;
    }
    int saved = errno;
    close(in);
    if (out >= 0) close(out);
    errno = saved;
    return rc;
}

static int copy_symlink(int from, int to, const char *name) {
    char target[PATH_MAX];
    ssize_t n = readlinkat(from, name, target, sizeof target - 1);
    if (n < 0) return -1;
    target[n] = 0;
    return symlinkat(target, to, name);
}

static int copy_level(int from, int to, int depth);

static int copy_directory(int from, int to, const char *name, int depth) {
    if (mkdirat(to, name, 0700) < 0) return -1;
    int in = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0) return -1;
    int out = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int rc = out < 0 ? -1 : copy_level(in, out, depth + 1);
    int saved = errno;
    close(in);
    if (out >= 0) close(out);
    errno = saved;
    return rc;
}

static int copy_entry(int from, int to, const char *name, int depth) {
    struct stat st;
    if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return -1;
    int rc;
    if (S_ISDIR(st.st_mode)) rc = copy_directory(from, to, name, depth);
    else if (S_ISREG(st.st_mode)) rc = copy_file(from, to, name, &st);
    else if (S_ISLNK(st.st_mode)) rc = copy_symlink(from, to, name);
    else rc = mknodat(to, name, st.st_mode, st.st_rdev);
    return rc < 0 ? -1 : copy_metadata(to, name, &st);
}

static int copy_level(int from, int to, int depth) {
    if (depth > COPY_TREE_MAX_DEPTH) { errno = ELOOP; return -1; }
    char buffer[2048] __attribute__((aligned(8)));
    for (;;) {
        long n = syscall(SYS_getdents64, from, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) return 0;
        for (long at = 0; at < n;) {
            struct linux_dirent64 *entry = (struct linux_dirent64 *)(buffer + at);
            at += entry->d_reclen;
            const char *name = entry->d_name;
            if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
            if (copy_entry(from, to, name, depth) < 0) return -1;
        }
    }
}

int berth_copy_tree(int from, int to) {
    return copy_level(from, to, 0);
}

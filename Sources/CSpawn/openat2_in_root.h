// openat2(RESOLVE_IN_ROOT), shared by the child's setup (spawn.c) and the parent (syscalls.c).
#ifndef BERTH_OPENAT2_IN_ROOT_H
#define BERTH_OPENAT2_IN_ROOT_H

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

// The kernel answers EAGAIN when a rename or mount anywhere raced the lookup, and retrying is
// the documented answer; but a host where something renames without pause must not keep a
// container's start spinning forever. A few hundred tries outlast any honest race.
#define BERTH_OPENAT2_TRIES 300

// Returns an fd (O_CLOEXEC added) or -1 with errno; EAGAIN only once every try has raced.
// Async-signal-safe: the child calls it between clone and exec.
static inline int berth_openat2_in_root(int rootfd, const char *path, int flags) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    long fd = -1;
    for (int try = 0; try < BERTH_OPENAT2_TRIES; try++) {
        fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        if (fd >= 0 || errno != EAGAIN) break;
    }
    return (int)fd;
}

#endif

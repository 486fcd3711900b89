// berth-entry's sealed copy: made once per berth process, before its first container.
#define _GNU_SOURCE
#include "cspawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

int berth_sealed_copy(const char *path) {
    int source = open(path, O_RDONLY | O_CLOEXEC);
    if (source < 0) return -errno;
    int copy = -1, error = 0;
    struct stat st;
    if (fstat(source, &st) < 0) { error = errno; goto out; }
    if (!S_ISREG(st.st_mode)) { error = EINVAL; goto out; }
    copy = memfd_create("berth-entry", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (copy < 0) { error = errno; goto out; }
    off_t offset = 0;
    while (offset < st.st_size) {
        ssize_t n = sendfile(copy, source, &offset, (size_t)(st.st_size - offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { error = n < 0 ? errno : EIO; goto out; }
    }
    // Sealed against every change, and against unsealing: a process that reaches this file
    // through /proc can run it and nothing more.
    if (fcntl(copy, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) error = errno;
out:
    close(source);
    if (error) {
        if (copy >= 0) close(copy);
        return -error;
    }
    return copy;
}

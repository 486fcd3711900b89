#define _GNU_SOURCE
#include "cfilesystem.h"

#include <fcntl.h>
#include <unistd.h>

int berth_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int berth_syncfs(int fd) {
    return syncfs(fd);
}

#include <sys/stat.h>
#include <sys/sysmacros.h>

const int berth_o_path = O_PATH;

int berth_identify(int fd, struct berth_identity *identity) {
    struct statx stx;
    // AT_STATX_DONT_SYNC: the identity of a local directory, never worth a round trip to a
    // network filesystem's server.
    if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE | STATX_MODE | STATX_INO | STATX_MNT_ID, &stx) != 0)
        return -1;
    identity->device = makedev(stx.stx_dev_major, stx.stx_dev_minor);
    identity->inode = stx.stx_ino;
    identity->mode = stx.stx_mode;
    // Kernels before 5.8 do not report a mount id: 0 then, and st_dev alone tells mounts apart.
    identity->mount = (stx.stx_mask & STATX_MNT_ID) ? stx.stx_mnt_id : 0;
    return 0;
}

#include <sys/vfs.h>

int berth_filesystem_magic(const char *path, unsigned long long *magic) {
    struct statfs fs;
    if (statfs(path, &fs) != 0)
        return -1;
    // f_type is signed on some architectures: the magic is its 32 low bits.
    *magic = (unsigned long long)(unsigned int)fs.f_type;
    return 0;
}

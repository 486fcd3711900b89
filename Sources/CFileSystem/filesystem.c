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

#include <ftw.h>

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    // nftw already knows a directory (visited after its contents): rmdir it straight away rather
    // than let remove(3) try unlink first. A failure shows when the top cannot go; keep removing
    // what can be removed.
    if (type == FTW_DP || type == FTW_DNR) rmdir(path);
    else unlink(path);
    return 0;
}

int berth_remove_tree(const char *path) {
    // Depth first, never following a symlink, never entering another filesystem.
    return nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

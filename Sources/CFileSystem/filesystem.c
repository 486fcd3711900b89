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

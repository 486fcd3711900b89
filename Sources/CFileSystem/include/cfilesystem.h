// File-system calls the layer and container code need that Swift's Glibc module does not import:
// <sys/xattr.h> is not part of the module, and pipe2 sits behind _GNU_SOURCE.
#ifndef BERTH_CFILESYSTEM_H
#define BERTH_CFILESYSTEM_H

#include <sys/types.h>
#include <sys/xattr.h>

/// pipe2(fds, O_CLOEXEC): both ends close-on-exec from the start, so a process another thread
/// spawns meanwhile cannot inherit an end. 0 or -1 with errno.
int berth_pipe_cloexec(int fds[2]);

/// syncfs(2): flushes the filesystem that holds `fd`, and only that one. 0 or -1 with errno.
int berth_syncfs(int fd);

/// O_PATH (behind _GNU_SOURCE): an fd that names a file without opening it, for a directory whose
/// permissions do not let it be opened for reading yet.
extern const int berth_o_path;

/// What tells one directory from another, and one mount from another: st_dev alone does not tell
/// a bind mount of the same filesystem apart, the mount id does.
struct berth_identity {
    unsigned long long device;
    unsigned long long inode;
    unsigned long long mount;
    unsigned int mode;
};

/// statx(fd, AT_EMPTY_PATH) for the fields of `berth_identity`; `mount` is 0 on kernels that
/// do not report it (before 5.8). 0 or -1 with errno.
int berth_identify(int fd, struct berth_identity *identity);

/// statfs(2)'s f_type of the filesystem holding `path` (its magic number: EXT4_SUPER_MAGIC,
/// XFS_SUPER_MAGIC, ...), for `berth info`. 0 or -1 with errno.
int berth_filesystem_magic(const char *path, unsigned long long *magic);

#endif

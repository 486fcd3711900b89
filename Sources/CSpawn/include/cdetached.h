// Starting a detached helper process (a container's monitor) from a process that may have
// threads: posix_spawn runs nothing of the caller's between its clone and its exec.
#ifndef BERTH_CDETACHED_H
#define BERTH_CDETACHED_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Runs `path` with `argv`/`envp` in a new session, its stdio on /dev/null, `keep_fd` as its fd 3
/// and no other descriptor, no signal blocked and every signal at its default action.
/// Returns 0 and the child's pid in `*pid`, or an errno.
int berth_spawn_detached(const char *path, char *const argv[], char *const envp[], int keep_fd, pid_t *pid);

#ifdef __cplusplus
}
#endif

#endif

#define _GNU_SOURCE
#include "cdetached.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

int berth_spawn_detached(const char *path, char *const argv[], char *const envp[], int keep_fd, pid_t *pid) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int rc = posix_spawn_file_actions_init(&actions);
    if (rc != 0) return rc;
    rc = posix_spawnattr_init(&attributes);
    if (rc != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return rc;
    }
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    // The caller (`berth run`) may block the signals it forwards: the monitor starts clean.
    if ((rc = posix_spawnattr_setsigmask(&attributes, &none)) == 0
        && (rc = posix_spawnattr_setsigdefault(&attributes, &all)) == 0
        && (rc = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK
                                                        | POSIX_SPAWN_SETSIGDEF)) == 0
        && (rc = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)) == 0
        && (rc = posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)) == 0
        && (rc = posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)) == 0
        && (rc = posix_spawn_file_actions_adddup2(&actions, keep_fd, 3)) == 0
        // Nothing of the caller's leaks: `id=$(berth run -d …)` returns when berth exits.
        && (rc = posix_spawn_file_actions_addclosefrom_np(&actions, 4)) == 0) {
        rc = posix_spawn(pid, path, &actions, &attributes, argv, envp);
    }
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    return rc;
}

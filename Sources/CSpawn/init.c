// pid 1 without a handler ignores most signals and never reaps orphans; a container whose
// command was not written to be an init needs one that does both. This one is tini's idea in a
// few system calls: all signals stay blocked and are taken synchronously with sigwaitinfo.
#define _GNU_SOURCE
#include "init.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int exit_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
}

void berth_init_loop(pid_t child) {
    prctl(PR_SET_NAME, "berth-init", 0, 0, 0);
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&all, &info);
        if (sig < 0) {
            if (errno == EINTR) continue;
            _exit(255);
        }
        if (sig != SIGCHLD) {
            // Stop/continue signals from the terminal are about the command, not the init.
            kill(child, sig);
            continue;
        }
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            // When the command ends, so does the container: the kernel kills what is left in
            // the pid namespace once pid 1 exits.
            if (pid == child) _exit(exit_code(status));
        }
    }
}

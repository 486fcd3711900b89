// The built-in init (`berth run --init`): pid 1 of the container stays this loop while the
// command runs as its child. It lives in the same binary and needs no file in the image.
#ifndef BERTH_INIT_H
#define BERTH_INIT_H

#include <sys/types.h>

/// Forwards signals to `child`, reaps every zombie that is reparented to pid 1, and exits with
/// the child's status (128 + signal when it was killed). Never returns.
__attribute__((noreturn)) void berth_init_loop(pid_t child);

#endif

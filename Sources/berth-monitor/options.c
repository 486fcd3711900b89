// berth-monitor's command line:
//
//   berth-monitor --pid PID [--stdout FD] [--stderr FD] [--pty FD] [--ready-fd FD] --log PATH
//                 [--log-max-size BYTES] [--log-max-files N]
//                 [--health-interval MS --health-arg WORD...] [--] EXIT-PROGRAM [ARG...]
//
// Parsed by hand rather than with getopt_long: GNU getopt permutes arguments, and the words of
// EXIT-PROGRAM must reach it untouched.
#include "options.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// A decimal number, all of the word, no sign, at most `max`.
static int parse_number(const char *text, unsigned long long max, unsigned long long *out) {
    if (text == NULL || *text < '0' || *text > '9') return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || value > max) return -1;
    *out = value;
    return 0;
}

// An fd given on the command line must be open: it was inherited from the berth that exec'd us.
static int parse_fd(const char *name, const char *text, int *out, char *why, size_t why_size) {
    unsigned long long value;
    if (parse_number(text, INT_MAX, &value) != 0) {
        snprintf(why, why_size, "%s needs a file descriptor number (got \"%s\")", name, text ? text : "");
        return -1;
    }
    if (fcntl((int)value, F_GETFD) < 0) {
        snprintf(why, why_size, "%s %llu: the file descriptor is not open", name, value);
        return -1;
    }
    *out = (int)value;
    return 0;
}

int parse_options(int argc, char **argv, struct monitor_options *opts, char *why, size_t why_size) {
    memset(opts, 0, sizeof(*opts));
    opts->stdout_fd = opts->stderr_fd = opts->pty_fd = opts->ready_fd = -1;
    opts->log_max_size = 10ULL * 1024 * 1024;
    opts->log_max_files = 2;

    int health_argc = 0;
    int i = 1;
    while (i < argc) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (strncmp(arg, "--", 2) != 0) break;   // the exit program
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (value == NULL) {
            snprintf(why, why_size, "%s needs a value", arg);
            return -1;
        }
        unsigned long long number;
        if (strcmp(arg, "--pid") == 0) {
            if (parse_number(value, INT_MAX, &number) != 0 || number == 0) {
                snprintf(why, why_size, "--pid needs a process id (got \"%s\")", value);
                return -1;
            }
            opts->pid = (pid_t)number;
        } else if (strcmp(arg, "--stdout") == 0) {
            if (parse_fd(arg, value, &opts->stdout_fd, why, why_size) != 0) return -1;
        } else if (strcmp(arg, "--stderr") == 0) {
            if (parse_fd(arg, value, &opts->stderr_fd, why, why_size) != 0) return -1;
        } else if (strcmp(arg, "--pty") == 0) {
            if (parse_fd(arg, value, &opts->pty_fd, why, why_size) != 0) return -1;
        } else if (strcmp(arg, "--ready-fd") == 0) {
            if (parse_fd(arg, value, &opts->ready_fd, why, why_size) != 0) return -1;
        } else if (strcmp(arg, "--log") == 0) {
            if (*value == '\0') {
                snprintf(why, why_size, "--log needs a path");
                return -1;
            }
            opts->log_path = value;
        } else if (strcmp(arg, "--log-max-size") == 0) {
            if (parse_number(value, ULLONG_MAX, &number) != 0) {
                snprintf(why, why_size, "--log-max-size needs a number of bytes (got \"%s\")", value);
                return -1;
            }
            opts->log_max_size = number;
        } else if (strcmp(arg, "--log-max-files") == 0) {
            if (parse_number(value, 1000, &number) != 0 || number == 0) {
                snprintf(why, why_size, "--log-max-files needs a number from 1 to 1000 (got \"%s\")", value);
                return -1;
            }
            opts->log_max_files = (unsigned)number;
        } else if (strcmp(arg, "--health-interval") == 0) {
            if (parse_number(value, 365ULL * 24 * 3600 * 1000, &number) != 0 || number == 0) {
                snprintf(why, why_size, "--health-interval needs a number of milliseconds (got \"%s\")", value);
                return -1;
            }
            opts->health_interval_ms = number;
        } else if (strcmp(arg, "--health-arg") == 0) {
            if (health_argc == HEALTH_ARGS_MAX) {
                snprintf(why, why_size, "more than %d --health-arg words", HEALTH_ARGS_MAX);
                return -1;
            }
            opts->health_argv[health_argc++] = argv[i + 1];
        } else {
            snprintf(why, why_size, "unknown option %s", arg);
            return -1;
        }
        i += 2;   // the option and its value
    }

    if (opts->pid == 0) {
        snprintf(why, why_size, "--pid is required");
        return -1;
    }
    if (opts->log_path == NULL) {
        snprintf(why, why_size, "--log is required");
        return -1;
    }
    if (opts->pty_fd >= 0 && (opts->stdout_fd >= 0 || opts->stderr_fd >= 0)) {
        snprintf(why, why_size, "--pty cannot be combined with --stdout or --stderr");
        return -1;
    }
    if (opts->stdout_fd >= 0 && opts->stdout_fd == opts->stderr_fd) {
        snprintf(why, why_size, "--stdout and --stderr must be different file descriptors");
        return -1;
    }
    if ((opts->health_interval_ms != 0) != (health_argc != 0)) {
        snprintf(why, why_size, "--health-interval and --health-arg go together");
        return -1;
    }
    if (i >= argc) {
        snprintf(why, why_size, "no exit program given (it follows the options)");
        return -1;
    }
    opts->exit_argv = argv + i;
    opts->exit_argc = argc - i;
    return 0;
}

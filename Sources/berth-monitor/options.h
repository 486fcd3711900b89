// The command line of berth-monitor, parsed before anything else happens.
#ifndef BERTH_MONITOR_OPTIONS_H
#define BERTH_MONITOR_OPTIONS_H

#include <sys/types.h>

// The most --health-arg words: berth passes its path, its global options and `health-check ID`.
#define HEALTH_ARGS_MAX 32

struct monitor_options {
    pid_t pid;                        // the container's init: a child of this process
    int stdout_fd;                    // read end of the container's stdout pipe, or -1
    int stderr_fd;                    // read end of the container's stderr pipe, or -1
    int pty_fd;                       // pty master (everything it gives is "stdout"), or -1
    int ready_fd;                     // told "ok", or why not, once the monitor is set up; or -1
    const char *log_path;             // the json-file log
    unsigned long long log_max_size;  // bytes; 0 = never rotate
    unsigned log_max_files;           // files kept in total, PATH included (>= 1)
    unsigned long long health_interval_ms;  // run HEALTH-ARG... this long after each check ends; 0: none
    char *health_argv[HEALTH_ARGS_MAX + 1];  // the --health-arg words, NULL-terminated
    char **exit_argv;                 // EXIT-PROGRAM ARG...: points into main's argv
    int exit_argc;
};

// Fills `opts` from argv. On a bad command line, writes the reason into `why` (a sentence
// without the "berth-monitor: " prefix) and returns -1.
int parse_options(int argc, char **argv, struct monitor_options *opts, char *why, size_t why_size);

#endif

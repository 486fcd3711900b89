#define _GNU_SOURCE
#include "csyscalls.h"

#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int bpf_call(int cmd, union bpf_attr *attr) {
    return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int load_device_program(const void *instructions, unsigned int count, char *log, size_t log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (unsigned long)instructions;
    attr.insn_cnt = count;
    // The license matters only to GPL-only helpers, which the program does not call.
    attr.license = (unsigned long)"GPL";
    if (log && log_size > 0) {
        log[0] = 0;
        attr.log_buf = (unsigned long)log;
        attr.log_size = (unsigned int)log_size;
        attr.log_level = 1;
    }
    return bpf_call(BPF_PROG_LOAD, &attr);
}

int berth_attach_device_program(int cgroup_fd, const void *instructions, unsigned int count,
                                char *log, size_t log_size) {
    // Without a log first: the verifier's log costs time, and is only wanted when it refuses.
    int prog = load_device_program(instructions, count, NULL, 0);
    if (prog < 0 && errno == EINVAL && log) {
        prog = load_device_program(instructions, count, log, log_size);
    }
    if (prog < 0) return -1;
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = (unsigned int)cgroup_fd;
    attr.attach_bpf_fd = (unsigned int)prog;
    attr.attach_type = BPF_CGROUP_DEVICE;
    // No flags: the one program of this cgroup, which a later attach replaces in a single step
    // (never two stacked). The cgroup holds the program; our fd to it is not needed after this.
    attr.attach_flags = 0;
    int rc = bpf_call(BPF_PROG_ATTACH, &attr);
    int saved = errno;
    close(prog);
    errno = saved;
    return rc;
}

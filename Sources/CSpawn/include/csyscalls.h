// Parent-side system calls that Swift cannot reach directly (glibc has no wrapper, or the
// wrapper is variadic).
#ifndef BERTH_CSYSCALLS_H
#define BERTH_CSYSCALLS_H

#include <signal.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// openat2(RESOLVE_IN_ROOT): opens `path` as if `root` were "/", so no symlink or ".." in the
/// image can lead outside it. Returns an fd (O_CLOEXEC added) or -1 with errno (EAGAIN when
/// renames or mounts elsewhere kept racing the lookup through every retry).
int berth_open_in_root(const char *root, const char *path, int flags);

/// pidfd_send_signal(2). Returns 0 or -1 with errno.
int berth_pidfd_send_signal(int pidfd, int sig);

/// Marks every fd from `first` up close-on-exec (close_range(CLOSE_RANGE_CLOEXEC), or a loop on
/// older kernels), so a program exec'd later inherits only what is explicitly passed on.
void berth_cloexec_from(int first);

/// Closes the fds from `first` to `last` (close_range, or a loop on older kernels).
/// Async-signal-safe: a forked copy of a threaded process may call it.
void berth_close_fds(unsigned int first, unsigned int last);

/// Reads until `size` bytes came, the end of the file, or an error (EINTR retried): the count
/// read, or -1 with errno. Async-signal-safe.
ssize_t berth_read_fully(int fd, void *buffer, size_t size);

/// pidfd_open(2). Returns an fd or -1 with errno.
int berth_pidfd_open(pid_t pid);

/// signalfd(2) for `signals` (which the caller has blocked), close-on-exec and non-blocking.
int berth_signalfd(const sigset_t *signals);

/// Opens a new pty pair: the master (close-on-exec) and its slave (close-on-exec, not made the
/// caller's controlling terminal), and writes the slave's path into `name`. 0 or -1 with errno.
int berth_open_pty(int *master, int *slave, char *name, size_t size);

/// Connects to the unix socket at `path` and sends `fd` over it (SCM_RIGHTS) with `name` as the
/// message's bytes: how an OCI runtime hands a container's pty master to the caller's
/// `--console-socket` (containerd's shim, conmon). 0 or -1 with errno.
int berth_send_console(const char *path, int fd, const char *name);

/// A pty pair from the devpts instance whose ptmx is the open fd `ptmx` (a container's, for
/// berth exec -t): `ptmx` becomes the master, `name` the slave's path inside that devpts
/// ("/dev/pts/0"). 0, or -1 with errno (`ptmx` is not closed then).
int berth_open_pty_in(int ptmx, int *master, int *slave, char *name, size_t size);

/// Fills `buffer` from the kernel's random pool (getrandom(2)). 0 or -1 with errno.
int berth_random_bytes(void *buffer, size_t length);

/// Loads `count` eBPF instructions (struct bpf_insn) as a BPF_PROG_TYPE_CGROUP_DEVICE program and
/// attaches it to the cgroup v2 directory `cgroup_fd`, replacing the program attached there
/// before. 0, or -1 with errno; when the verifier refuses the program (EINVAL), `log` holds its
/// reason if given.
int berth_attach_device_program(int cgroup_fd, const void *instructions, unsigned int count,
                                char *log, size_t log_size);

/// Moves the calling thread into the network namespace `netns_fd` (setns(2)): a process it
/// clones then starts there (`--network container:NAME`). Returns an fd of the thread's own
/// namespace to come back with (`berth_leave_network_namespace`), or -1 with errno.
int berth_enter_network_namespace(int netns_fd);

/// Moves the calling thread back into `own_fd`'s network namespace and closes it. It cannot
/// fail for a namespace the thread was in: on failure berth aborts rather than go on in the
/// wrong one.
void berth_leave_network_namespace(int own_fd);

/// The same for an IPC namespace: /proc/sys's IPC settings (kernel.shmmax, fs.mqueue.*) are
/// those of the namespace of the thread that opens them (berth-oci's linux.sysctl).
int berth_enter_ipc_namespace(int ipcns_fd);

/// Moves the calling thread back into `own_fd`'s IPC namespace and closes it; aborts on failure.
void berth_leave_ipc_namespace(int own_fd);

/// Namespace flags (CLONE_NEW*), so Swift needs no _GNU_SOURCE.
extern const unsigned long berth_clone_newns, berth_clone_newpid, berth_clone_newuts,
    berth_clone_newipc, berth_clone_newnet, berth_clone_newcgroup, berth_clone_newuser, berth_clone_newtime;

/// The CLONE_NEW* type of the namespace the nsfs file `fd` is (ioctl NS_GET_NSTYPE), or -1 with
/// errno (ENOTTY: not a namespace file).
long berth_namespace_type(int fd);

/// The uid_map and gid_map of the user namespace whose nsfs file is `ns_fd`, as a process in it
/// reads them (ids relative to its parent namespace), into `uid_map` and `gid_map` (each of
/// `size` bytes, NUL-terminated). A forked child enters the namespace to read them: a
/// multi-threaded process cannot. 0, or -1 with errno (EOVERFLOW: a map longer than `size`).
int berth_read_user_namespace_maps(int ns_fd, char *uid_map, char *gid_map, size_t size);

#ifdef __cplusplus
}
#endif

#endif

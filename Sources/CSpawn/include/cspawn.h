// CSpawn: the only code that runs between clone() and execve() in a container's first process.
//
// The Swift parent may have threads, so after clone() the child may only make async-signal-safe
// calls: no Swift runtime, no malloc. Everything the child needs (paths, argv, the mount list,
// capability masks, the seccomp program) is prepared by the parent and passed in
// `berth_spawn_config`; the child only walks it and makes system calls.
//
// Errors in the child travel back over a close-on-exec pipe as a `berth_child_error` (which step,
// which mount operation, errno); EOF on that pipe means execve succeeded.
#ifndef BERTH_CSPAWN_H
#define BERTH_CSPAWN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The steps of the child's setup, in the order they run. Reported back when one fails.
enum berth_step {
    BERTH_STEP_NONE = 0,
    BERTH_STEP_WAIT_PARENT,
    BERTH_STEP_JOIN_CGROUP,    // index = the tasks file
    BERTH_STEP_JOIN_NAMESPACES,  // index = the entry of join_files, -1: berth exec's setns
    BERTH_STEP_UNSHARE_NAMESPACES,
    BERTH_STEP_USER_NAMESPACE,  // becoming root of the (new or joined) user namespace
    BERTH_STEP_SETSID,
    BERTH_STEP_CONTROLLING_TTY,
    BERTH_STEP_STDIO,
    BERTH_STEP_UNSHARE_CGROUP,
    BERTH_STEP_TIME_NAMESPACE,
    BERTH_STEP_TIME_OFFSETS,
    BERTH_STEP_MOUNT_PROPAGATION,
    BERTH_STEP_RECEIVE_MOUNTS,  // the parent's idmapped mounts, over the socket
    BERTH_STEP_IDMAPPED_MOUNT,  // placing an idmapped layer or root (index = which)
    BERTH_STEP_OVERLAY_ROOT,
    BERTH_STEP_BIND_ROOT,
    BERTH_STEP_OPEN_ROOT,
    BERTH_STEP_MOUNT_TARGET,   // resolving/creating a mount target inside the root (index = op)
    BERTH_STEP_MOUNT,          // the mount operation itself (index = op)
    // Not a failure: with pause_before_pivot, the report (error 0) that the mounts are made and
    // the child waits before pivot_root for a second byte on the sync pipe.
    BERTH_STEP_MOUNTS_READY,
    BERTH_STEP_PIVOT_ROOT,
    BERTH_STEP_UMOUNT_OLD_ROOT,
    BERTH_STEP_ROOT_READONLY,
    BERTH_STEP_HOSTNAME,
    BERTH_STEP_DOMAINNAME,
    BERTH_STEP_LOOPBACK,
    BERTH_STEP_WORKDIR,
    BERTH_STEP_RLIMIT,         // index = entry in rlimits
    BERTH_STEP_PERSONALITY,
    BERTH_STEP_CAP_BOUNDING,
    BERTH_STEP_KEEPCAPS,
    BERTH_STEP_SETGROUPS,
    BERTH_STEP_SETGID,
    BERTH_STEP_SETUID,
    BERTH_STEP_CAPSET,
    BERTH_STEP_CAP_AMBIENT,
    BERTH_STEP_NO_NEW_PRIVS,
    BERTH_STEP_SECCOMP,
    BERTH_STEP_EXEC_ENTRY,     // exec of berth-entry; what follows is berth-entry's
    BERTH_STEP_INIT_FORK,
    BERTH_STEP_EXEC,
    // Not a failure: berth-entry's report, with error 0, that the setup is done and it now waits
    // on `start_fd` (berth-oci's create/start split).
    BERTH_STEP_WAIT_START,
};

/// Kinds of filesystem setup operation, bubblewrap style: the plan is an ordered list of these.
enum berth_op_kind {
    /// mount(source, target, fstype, flags, data); the target directory is created. A
    /// propagation in `flags` is set once the root is the container's, as for a bind.
    BERTH_OP_MOUNT = 1,
    /// Bind `source` (a host path) onto `target` (created as a file or directory to match the
    /// source), with the mounts below it unless `top_mount_only`; `flags` may add MS_RDONLY,
    /// MS_NOSUID, MS_NODEV, MS_NOEXEC and the atime flags, applied by a remount, and a
    /// propagation (MS_SHARED & co., MS_REC for the tree), set once the root is the container's.
    BERTH_OP_BIND,
    /// mknod(target, mode, dev), `mode` holding the node's type (S_IFCHR or S_IFBLK); falls back
    /// to binding the host's `source`, when given, on EPERM.
    BERTH_OP_DEVICE,
    /// symlink(source, target).
    BERTH_OP_SYMLINK,
    /// Hide `target`: /dev/null over a file, an empty read-only tmpfs over a directory.
    /// A target that does not exist is skipped.
    BERTH_OP_MASK,
    /// Make `target` read-only (bind it onto itself, remount MS_RDONLY).
    /// A target that does not exist is skipped.
    BERTH_OP_READONLY,
};

/// One filesystem setup operation. `target` is an absolute path inside the container; it is
/// resolved with openat2(RESOLVE_IN_ROOT) so symlinks in the image cannot point it at the host.
struct berth_mount_op {
    int kind;                 // enum berth_op_kind
    const char *source;
    const char *target;
    const char *fstype;
    unsigned long flags;
    const char *data;
    unsigned int mode;        // BERTH_OP_DEVICE: the node's type and permission bits
    unsigned long long dev;   // BERTH_OP_DEVICE: makedev(major, minor)
    int optional;             // failures of this operation are ignored (e.g. mqueue unsupported)
    int top_mount_only;       // BERTH_OP_BIND: the source's own mount, without those below it
    int idmapped;             // BERTH_OP_BIND: the bind arrives from the parent as a detached
                              // idmapped mount, over the mount socket after the layers, one a
                              // message in the order of the operations (berth_prepare_user_namespace)
    uint64_t tree_attr_set;   // BERTH_OP_MOUNT, BERTH_OP_BIND: MOUNT_ATTR_* set and cleared on the
    uint64_t tree_attr_clr;   // mount and every mount below it once it is made (mount_setattr,
                              // AT_RECURSIVE: an OCI spec's "rro", "rnosuid", ...); 0: none
    int copy_up;              // BERTH_OP_MOUNT: the new filesystem starts with a copy of what the
                              // directory it covers holds (a tmpfs's "tmpcopyup")
};

struct berth_rlimit {
    int resource;
    uint64_t soft;
    uint64_t hard;
};

/// Everything the child needs, prepared by the parent. All pointers must stay valid until
/// `berth_spawn` returns (the child gets a copy of the parent's memory).
struct berth_spawn_config {
    // -- clone --
    unsigned long namespaces;       // CLONE_NEW* flags for clone (CLONE_NEWCGROUP is not allowed
                                    // here: see unshare_cgroup)
    int unshare_cgroup;             // unshare(CLONE_NEWCGROUP) once inside the container's cgroup
    int cgroup_fd;                  // >= 0: clone3(CLONE_INTO_CGROUP) into this cgroup v2 dir
    const int *cgroup_task_fds;     // v1: `tasks` files the child writes "0" to, joining each
    size_t n_cgroup_task_fds;       // hierarchy's cgroup itself, first thing once released

    // -- joining a running container (berth exec) instead of making one --
    unsigned long join_namespaces;  // nonzero: the CLONE_NEW* namespaces of join_pidfd's process to
                                    // enter (`namespaces` must be 0 and `rootfs` NULL). The pid
                                    // namespace is entered by the parent, for its child. A new
                                    // container joining a pid namespace by path has CLONE_NEWPID
                                    // alone here and the namespace's file as join_pidfd.
    int join_pidfd;                 // a pidfd of the container's init

    // -- namespaces given by path (berth-oci: a pod's containers join its sandbox's) --
    // Entered by the child with setns, in this order: a user namespace first, since it owns the
    // others and entering it gives the capabilities that joining them needs.
    const struct berth_namespace_file *join_files;
    size_t n_join_files;
    // Namespaces made by unshare just after those joins instead of at clone: with a joined user
    // namespace, which must own them (`namespaces` then holds none of them).
    unsigned long unshare_namespaces;

    // -- time namespace --
    int new_time_namespace;         // unshare(CLONE_NEWTIME): the process enters it at its exec
    const char *time_offsets;       // NULL, or the text written to /proc/self/timens_offsets

    // -- createContainer hooks --
    // Nonzero: once the mounts are made, before pivot_root, report BERTH_STEP_MOUNTS_READY and
    // wait for a second byte on the sync pipe (berth_release_keeping, then berth_release).
    int pause_before_pivot;

    // -- stdio and terminal --
    int stdio[3];                   // fds that become 0, 1, 2
    int controlling_tty;            // nonzero: stdio[0] is a tty slave that becomes the
                                    // controlling terminal of the new session

    // -- filesystem --
    const char *rootfs;             // absolute host path of the container's root
    int rootfs_readonly;
    // An overlayfs mounted at `rootfs` first, inside the container's mount namespace (so it
    // never appears in the host's mount table and goes away with the container):
    const char *const *overlay_lower;   // absolute paths, topmost first
    size_t n_overlay_lower;             // 0: no overlay, `rootfs` is a plain directory
    // NULL when the absolute paths fit the one-page option string (one mount(2)). Otherwise
    // the image is deep: the child tries the new API's "lowerdir+" (kernel >= 6.8), and else
    // mounts with these short names of symlinks to the layers, relative to overlay_lower_base.
    const char *const *overlay_lower_short;
    const char *overlay_lower_base;
    const char *overlay_upper;
    const char *overlay_work;
    int overlay_volatile;           // nonzero: mount with "volatile" (an upper dir thrown away)
    int overlay_userxattr;          // nonzero: "userxattr" (overlay mounted inside a user namespace
                                    // keeps its whiteout and opaque marks in user.overlay.*)

    // -- user namespace (CLONE_NEWUSER in `namespaces`) --
    // Before the release the parent writes the child's uid_map and gid_map and sends
    // `n_idmapped` detached idmapped mounts over a socket (berth_prepare_user_namespace).
    // With an overlay they are its layers, attached at overlay_lower[i] (paths below
    // overlay_lower_base, on a tmpfs the child mounts there); without, the one mount is the
    // root directory itself.
    size_t n_idmapped;
    // The operations with `idmapped` set: their mounts follow the layers on the same socket
    // (a container with or without a user namespace of its own).
    size_t n_idmapped_binds;
    const struct berth_mount_op *ops;
    size_t n_ops;

    // -- identity and environment --
    const char *hostname;           // NULL: leave as is
    const char *domainname;         // NULL: leave as is (the NIS domain, the OCI spec's domainname)
    int loopback_up;                // bring `lo` up (new network namespace)
    const char *cwd;                // inside the container
    int create_cwd;                 // nonzero: create `cwd` if missing (run, as Docker; exec must
                                    // find it, as Docker's exec does)
    const char *const *argv;
    const char *const *envp;
    const char *path;               // PATH used to find argv[0] when it has no slash
    const struct berth_rlimit *rlimits;
    size_t n_rlimits;
    int set_personality;            // personality(2) with `personality` (an OCI linux.personality)
    unsigned long personality;
    const char *exec_file;          // NULL: argv[0] looked up in `path`; else the file exec'd with
                                    // argv as it is (a hook, whose argv[0] need not be its path)

    // -- privileges --
    int set_user;
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    size_t n_groups;
    int set_capabilities;
    int last_cap;                   // /proc/sys/kernel/cap_last_cap
    uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
    int no_new_privs;
    const void *seccomp_program;    // struct sock_filter[], NULL: no filter
    size_t seccomp_length;          // in bytes
    int seccomp_early;              // nonzero: load the filter before the privileges change (see
                                    // child_main), which the filter must then allow

    // -- process --
    // berth-entry (a sealed memfd of it): what the child execs, and which then execs argv, so
    // that no process in the container is ever berth's own binary (CVE-2019-5736).
    int entry_fd;
    int use_init;                   // berth-entry stays pid 1 as a tiny init, the command its child
    int parent_death_signal;        // 0: none
    // > 2: berth-entry reports BERTH_STEP_WAIT_START when the setup is done, closes the error
    // pipe and reads one byte from this fd (a fifo, open read-write) before it runs the command:
    // the process exists in its namespaces and cgroup, held before exec until `berth-oci
    // start`. 0: no wait.
    int start_fd;
};

/// A namespace to enter by its nsfs file (an OCI spec's linux.namespaces entry with a path).
struct berth_namespace_file {
    int fd;
    int type;                       // its CLONE_NEW* flag, which setns checks the file against
};

/// What `berth_spawn` hands back to the parent.
struct berth_spawn_result {
    pid_t pid;                      // the container's first process (in the parent's pid ns)
    int pidfd;                      // -1 when the kernel gave none
    int release_fd;                 // write end of the sync pipe: berth_release() lets the child go on
    int error_fd;                   // read end of the error pipe: berth_wait_exec()
    int joined_cgroup;              // nonzero: the child is (clone3 into cgroup_fd) or will be
                                    // (cgroup_task_fds) in its cgroup without the parent's attach
    int mount_socket;               // the parent's end of the socket the idmapped mounts go
                                    // over (config->n_idmapped > 0), else -1
};

/// A failure reported by the child.
struct berth_child_error {
    int32_t step;                   // enum berth_step
    int32_t index;                  // the mount operation or rlimit entry, -1 otherwise
    int32_t error;                  // errno
};

/// Clones the child. It waits, stopped at its first instruction after clone, until
/// `berth_release` is called (so the parent can place it in v1 cgroups first).
/// Returns 0, or -errno when clone itself failed.
int berth_spawn(const struct berth_spawn_config *config, struct berth_spawn_result *result);

/// The process that becomes a detached container's monitor. `berth_spawn_adopted` forks it
/// first; it clones the container itself, so it is the init's parent from the start, and hands
/// the caller everything `berth_spawn` would. The caller then does the parent's part (places,
/// releases and waits for the exec) and gives its verdict: adopt, and this process execs `path`
/// with `argv`, the init's pid written into `pid_slot`, stdio on `null_fd`, `keep_fds` and no
/// other fd, signals at their defaults and none blocked; or not, and it kills and reaps the
/// container and exits.
struct berth_adopter {
    const char *path;
    char *const *argv;
    char *const *envp;
    char *pid_slot;                 // one of argv's strings, at least 12 bytes
    int null_fd;                    // /dev/null, opened read-write
    // The only fds (above 2) the monitor inherits, at most BERTH_ADOPTER_MAX_KEPT. They stay
    // close-on-exec in the caller, whose other threads may be starting processes meanwhile.
    const int *keep_fds;
    size_t n_keep_fds;
};

#define BERTH_ADOPTER_MAX_KEPT 16

/// `berth_spawn` through an adopter in a session of its own (not for `join_namespaces`).
/// `*adopter_pid` is the adopter (the caller's child) and `*go_fd` the pipe its verdict goes
/// over. `result->pidfd` is a pidfd_open of the container's process.
int berth_spawn_adopted(const struct berth_spawn_config *config, const struct berth_adopter *adopter,
                        struct berth_spawn_result *result, pid_t *adopter_pid, int *go_fd);

/// Gives the adopter its verdict and closes `go_fd`: with `adopt` it execs the monitor (returns 0,
/// or -errno when it is gone, and then it is reaped); without, it ends the container and exits,
/// and is reaped here.
int berth_adopter_verdict(pid_t adopter_pid, int go_fd, int adopt);

/// Lets the child continue its setup. Returns 0 or -errno.
int berth_release(struct berth_spawn_result *result);

/// The same, keeping the sync pipe open for a child that pauses again (pause_before_pivot).
int berth_release_keeping(struct berth_spawn_result *result);

/// A host directory the parent makes into a detached idmapped mount for the child.
struct berth_idmapped_source {
    const char *path;
    int userns_fd;                  // the user namespace whose mapping the mount shows; -1: the child's
    int tree;                       // the mounts below `path` too (an rbind)
    int idmap_tree;                 // and they are idmapped too (ridmap), not the top mount alone
    int alone;                      // sent in a message of its own, which the child takes at its
                                    // bind operation (an idmapped bind), not with the layers
};

/// Before the child's release: for a child cloned with CLONE_NEWUSER (`uid_map` not NULL),
/// writes `uid_map` and `gid_map` (the text of /proc/PID/uid_map, "inside outside count"
/// lines); then makes a detached idmapped mount of each of the `n` `sources` and sends them, in
/// order, over `result->mount_socket` (closed afterwards). Returns 0, or -errno with `*failed`
/// saying what failed (0: uid_map, 1: gid_map, 2: the user namespace, 3: open_tree,
/// 4: mount_setattr, 5: sending) and `*index` which source.
int berth_prepare_user_namespace(struct berth_spawn_result *result, const char *uid_map, const char *gid_map,
                                 const struct berth_idmapped_source *sources, size_t n, int *failed, int *index);

/// A user namespace with these maps and no process (an idmapped bind's own mapping): its fd,
/// close-on-exec, or -errno. A short-lived child holds it while the maps are written.
int berth_make_user_namespace(const char *uid_map, const char *gid_map);

/// Waits until the child has exec'd the command (returns 0), reported a failure (returns 1 and
/// fills `error`), or paused with its mounts made (returns 2, the pipe kept open for the next
/// wait; pause_before_pivot), for at most `timeout_ms` milliseconds (negative: no deadline). Returns
/// -ETIMEDOUT when the deadline passed with the child still in its setup (it is left running:
/// end it with berth_kill_and_reap), or another -errno if reading failed.
int berth_wait_exec(struct berth_spawn_result *result, struct berth_child_error *error, int timeout_ms);

/// Kills the child (SIGKILL) and reaps it, waiting at most `timeout_ms` for it to end, and
/// closes every fd of `result`. Returns 0, or -ETIMEDOUT when it did not end in time (a process
/// in an uninterruptible sleep): it is then left unreaped.
int berth_kill_and_reap(struct berth_spawn_result *result, int timeout_ms);

/// The name of the system call the process `pid` is blocked in ("mount"), for saying why a
/// setup did not finish; NULL when it is running, unknown, or /proc does not say.
const char *berth_blocked_syscall(pid_t pid);

/// A memfd holding a copy of the file at `path` (berth-entry), sealed against writing, growing,
/// shrinking and unsealing; close-on-exec. Returns the fd, or -errno.
int berth_sealed_copy(const char *path);

/// The name of a step, for messages ("pivot_root").
const char *berth_step_name(int step);

#ifdef __cplusplus
}
#endif

#endif

/// A config.json as an engine writes it for `docker run --user 1000:1000 -m 512m --cpus 1.5
/// --pids-limit 100 ...`: every section berth reads, with values from real bundles (the
/// mounts, masked and read-only paths of runc's spec, an excerpt of Docker's seccomp profile).
enum SpecConfigFixture {
    static let json = #"""
    {
      "ociVersion": "1.2.0",
      "process": {
        "terminal": true,
        "consoleSize": { "height": 40, "width": 120 },
        "user": { "uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [10, 1000] },
        "args": ["/bin/sh", "-c", "exec nginx -g 'daemon off;'"],
        "env": [
          "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "HOSTNAME=web-1",
          "NGINX_VERSION=1.25.3"
        ],
        "cwd": "/usr/share/nginx/html",
        "capabilities": {
          "bounding": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                       "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                       "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"],
          "effective": ["CAP_NET_BIND_SERVICE"],
          "inheritable": [],
          "permitted": ["CAP_NET_BIND_SERVICE"],
          "ambient": []
        },
        "rlimits": [
          { "type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1048576 },
          { "type": "RLIMIT_NPROC", "hard": 18446744073709551615, "soft": 4096 }
        ],
        "noNewPrivileges": true,
        "apparmorProfile": "docker-default",
        "oomScoreAdj": -500,
        "selinuxLabel": "system_u:system_r:container_t:s0:c123,c456"
      },
      "root": { "path": "/var/lib/berth/containers/4f2a9c/merged", "readonly": false },
      "hostname": "web-1",
      "domainname": "example.internal",
      "mounts": [
        { "destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"] },
        { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
        { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
          "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
        { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"] },
        { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid", "noexec", "nodev"] },
        { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"] },
        { "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"] },
        { "destination": "/etc/resolv.conf", "type": "bind", "source": "/var/lib/berth/containers/4f2a9c/resolv.conf",
          "options": ["rbind", "rprivate"] },
        { "destination": "/data", "type": "bind", "source": "/srv/web-data", "options": ["rbind", "ro", "idmap"],
          "uidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }],
          "gidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }] }
      ],
      "hooks": {
        "createRuntime": [
          { "path": "/usr/libexec/cni/berth-net", "args": ["berth-net", "setup"], "env": ["CNI_PATH=/opt/cni/bin"], "timeout": 10 }
        ],
        "poststop": [ { "path": "/usr/libexec/cni/berth-net", "args": ["berth-net", "teardown"] } ]
      },
      "annotations": {
        "org.opencontainers.image.ref.name": "nginx:1.25",
        "io.berth.container.name": "web-1"
      },
      "linux": {
        "uidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }],
        "gidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }],
        "sysctl": { "net.ipv4.ip_unprivileged_port_start": "0", "net.core.somaxconn": "4096" },
        "resources": {
          "devices": [
            { "allow": false, "access": "rwm" },
            { "allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm" },
            { "allow": true, "type": "c", "major": 136, "access": "rwm" }
          ],
          "memory": { "limit": 536870912, "reservation": 268435456, "swap": 536870912, "swappiness": 0, "disableOOMKiller": false },
          "cpu": { "shares": 1024, "quota": 150000, "period": 100000, "cpus": "0-1", "mems": "0", "idle": 0 },
          "pids": { "limit": 100 },
          "blockIO": {
            "weight": 500,
            "weightDevice": [{ "major": 8, "minor": 0, "weight": 300 }],
            "throttleReadBpsDevice": [{ "major": 8, "minor": 0, "rate": 104857600 }],
            "throttleWriteIOPSDevice": [{ "major": 8, "minor": 0, "rate": 1000 }]
          },
          "hugepageLimits": [{ "pageSize": "2MB", "limit": 209715200 }],
          "unified": { "memory.high": "483183820", "io.weight": "default 100" }
        },
        "cgroupsPath": "berth/4f2a9c",
        "namespaces": [
          { "type": "pid" },
          { "type": "network", "path": "/run/netns/berth-4f2a9c" },
          { "type": "ipc" },
          { "type": "uts" },
          { "type": "mount" },
          { "type": "user" },
          { "type": "cgroup" }
        ],
        "seccomp": {
          "defaultAction": "SCMP_ACT_ERRNO",
          "defaultErrnoRet": 1,
          "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
          "flags": ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
          "syscalls": [
            { "names": ["accept", "accept4", "access", "arch_prctl", "bind", "brk", "close", "connect", "dup2",
                        "epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_wait", "execve", "exit", "exit_group",
                        "fcntl", "fstat", "futex", "getdents64", "getpid", "listen", "mmap", "mprotect", "munmap",
                        "newfstatat", "openat", "read", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
                        "sendfile", "set_robust_list", "set_tid_address", "setsockopt", "write", "writev",
                        "landlock_create_ruleset", "some_future_syscall"],
              "action": "SCMP_ACT_ALLOW" },
            { "names": ["personality"], "action": "SCMP_ACT_ALLOW",
              "args": [{ "index": 0, "value": 0, "op": "SCMP_CMP_EQ" }] },
            { "names": ["personality"], "action": "SCMP_ACT_ALLOW",
              "args": [{ "index": 0, "value": 8, "op": "SCMP_CMP_EQ" }] },
            { "names": ["personality"], "action": "SCMP_ACT_ALLOW",
              "args": [{ "index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ" }] },
            { "names": ["clone"], "action": "SCMP_ACT_ALLOW",
              "args": [{ "index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ" }] },
            { "names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38 },
            { "names": ["socket"], "action": "SCMP_ACT_ALLOW",
              "args": [{ "index": 0, "value": 40, "op": "SCMP_CMP_NE" }] },
            { "names": ["kexec_load"], "action": "SCMP_ACT_KILL_PROCESS" }
          ]
        },
        "rootfsPropagation": "rprivate",
        "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
        "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        "mountLabel": "system_u:object_r:container_file_t:s0:c123,c456",
        "devices": [
          { "type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0 }
        ],
        "personality": { "domain": "LINUX" }
      }
    }
    """#
}

import CSpawn
#if canImport(Glibc)
import Glibc
#endif

/// A namespace of another process that a container enters instead of making its own: an OCI
/// spec's linux.namespaces entry with a path, how containerd and Kubernetes put a pod's
/// containers in the namespaces of its sandbox. (A network namespace by path is
/// `ContainerConfig.networkNamespacePath`, entered by the cloning thread.)
public struct NamespaceJoin: Sendable, Equatable {
    /// The namespace types a path can name, as the OCI spec spells them.
    public enum Kind: String, Sendable, CaseIterable {
        case user, mount, pid, uts, ipc, cgroup, time

        /// Its CLONE_NEW* flag, which setns and NS_GET_NSTYPE use.
        var flag: UInt {
            switch self {
            case .user: berth_clone_newuser
            case .mount: berth_clone_newns
            case .pid: berth_clone_newpid
            case .uts: berth_clone_newuts
            case .ipc: berth_clone_newipc
            case .cgroup: berth_clone_newcgroup
            case .time: berth_clone_newtime
            }
        }

        /// The kind a CLONE_NEW* flag stands for, network included (it can be named, not joined here).
        static func name(ofFlag flag: UInt) -> String {
            if flag == berth_clone_newnet { return "network" }
            return allCases.first { $0.flag == flag }?.rawValue ?? "unknown (type \(flag))"
        }
    }

    public var kind: Kind
    /// An nsfs file (/proc/PID/ns/ipc, or a bind mount of one).
    public var path: String

    public init(kind: Kind, path: String) {
        self.kind = kind
        self.path = path
    }
}

/// The nsfs files of a container's joined namespaces, open for the clone and checked to be of
/// the type the spec says; closed again once the child exists.
struct NamespaceFiles {
    /// In the order the child enters them: the user namespace first (it owns the others).
    private(set) var files: [(fd: Int32, join: NamespaceJoin)] = []

    /// Opens every file of `joins`; none open when one of them fails.
    init(_ joins: [NamespaceJoin]) throws {
        guard !joins.isEmpty else { return }
        let ordered = Self.childOrder(joins) + joins.filter { $0.kind == .pid }
        do {
            for join in ordered {
                let fd = open(join.path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else {
                    throw RuntimeError.system("cannot open \(join.path) to join its \(join.kind.rawValue) namespace "
                                              + "(linux.namespaces): give the path of a namespace that exists")
                }
                files.append((fd, join))
                let type = berth_namespace_type(fd)
                guard type >= 0 else {
                    throw RuntimeError(.invalidArgument, "\(join.path) is not a namespace file, so its \(join.kind.rawValue) "
                                       + "namespace cannot be joined (linux.namespaces): give a path such as /proc/PID/ns/\(join.kind.rawValue)")
                }
                guard UInt(type) == join.kind.flag else {
                    throw RuntimeError(.invalidArgument, "\(join.path) is a \(NamespaceJoin.Kind.name(ofFlag: UInt(type))) namespace, "
                                       + "not the \(join.kind.rawValue) namespace linux.namespaces joins it as: "
                                       + "give the \(join.kind.rawValue) namespace's file")
                }
            }
        } catch {
            close()
            throw error
        }
    }

    /// The pid namespace's file: entered by the parent around the clone, not by the child.
    var pid: Int32? { files.first { $0.join.kind == .pid }?.fd }

    /// What the child enters itself, in `NamespaceFiles.childOrder`.
    var enteredByChild: [(fd: Int32, join: NamespaceJoin)] { files.filter { $0.join.kind != .pid } }

    /// The order the child enters `joins` in (the index its failure report gives): the user
    /// namespace first, the pid namespace not at all (the parent enters that one).
    static func childOrder(_ joins: [NamespaceJoin]) -> [NamespaceJoin] {
        joins.filter { $0.kind == .user } + joins.filter { $0.kind != .user && $0.kind != .pid }
    }

    func close() {
        for file in files { Glibc.close(file.fd) }
    }
}

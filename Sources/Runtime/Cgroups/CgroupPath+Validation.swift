extension CgroupPath {
    /// The parent under which every container's cgroup lives. Containers share it, so the
    /// drivers create it when missing and never remove it.
    public static let containerParent = "berth"

    /// `berth/<id>`: where the cgroup of container `id` lives under each hierarchy's root.
    public static func container(id: String) -> CgroupPath {
        CgroupPath(containerParent + "/" + id)
    }

    /// The components of the path, checked before any of them is joined onto a root: an empty
    /// path would name the root cgroup itself (and `destroy` would kill every process on the
    /// host), and `..` would climb out of the hierarchy. Strings, not substrings: the start path
    /// appends them to directories, and appending a Substring goes through a generic append
    /// whose first use in a process costs a run-time conformance lookup.
    func validatedComponents() throws(RuntimeError) -> [String] {
        let components = relative.split(separator: "/")
        guard !components.isEmpty else {
            throw RuntimeError(.invalidArgument, "cgroup path must name a cgroup below the root, not \(description)")
        }
        if components.contains(where: { $0 == "." || $0 == ".." }) {
            throw RuntimeError(.invalidArgument, "cgroup path \(description) must not contain '.' or '..'")
        }
        return components.map(String.init)
    }

    /// `relative` once its components are checked (`validatedComponents`): they are joined by
    /// single slashes already.
    func validatedRelative() throws(RuntimeError) -> String {
        _ = try validatedComponents()
        return relative
    }
}

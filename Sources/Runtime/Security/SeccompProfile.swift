/// A seccomp filter description, compiled to a BPF program by libseccomp in the parent; the child
/// only loads the bytes (prctl PR_SET_SECCOMP), so nothing of libseccomp runs after clone.
///
/// It is a plain value: `--security-opt seccomp=unconfined` is simply no profile (`nil`), and two
/// equal profiles compile to the same program (and share a cache entry).
public struct SeccompProfile: Sendable, Equatable, Hashable {
    /// What happens to a system call no rule matches.
    public var defaultAction: SeccompAction
    /// ABIs filtered besides the native one (which every filter covers). A call through an ABI
    /// that is in neither is killed, so list every ABI the process could use. ABIs of the other
    /// byte order are skipped: no process on this machine can use them.
    public var architectures: [SeccompArchitecture]
    /// Checked against every call; for one system call, the rule whose conditions match decides.
    public var rules: [SeccompRule]

    /// Whether the program may be built as a table of number ranges with libseccomp's program
    /// behind it only for the calls with conditions (`SeccompRangeProgram`): a third of the size,
    /// which the kernel checks on every container start. Set for berth's default profile, for
    /// which a test proves the two forms equal for every number, ABI and tested argument; a
    /// profile from a file is compiled directly (libseccomp's translations, such as x86's
    /// socketcall for the socket calls, are not modelled by the table for arbitrary rules).
    var compilesAsRanges = false

    public init(defaultAction: SeccompAction, architectures: [SeccompArchitecture],
                rules: [SeccompRule]) {
        self.defaultAction = defaultAction
        self.architectures = architectures
        self.rules = rules
    }

    /// Whether a call no rule names is refused (an allowlist): then a call newer than the
    /// profile answers ENOSYS instead, see `SeccompNewSyscallStub`. Under a default that allows,
    /// logs or traces, a new call gets that default like any other.
    var refusesUnknownCalls: Bool {
        switch defaultAction {
        case .allow, .log, .trace: return false
        case .errno, .killProcess, .killThread, .trap: return true
        }
    }

    /// berth's default profile for a container with Docker's default capabilities; see
    /// `default(for:)` for what it denies and why.
    public static var `default`: SeccompProfile { .default(for: .containerDefault) }

    /// Compiles the profile to a BPF program: an array of `struct sock_filter` as raw bytes
    /// (8 bytes per instruction), ready for `struct sock_fprog`.
    /// When `cacheDirectory` is given, the program is cached there under a hash of the profile
    /// and reused by later runs (crun does the same: compilation is a large part of start-up).
    ///
    /// The cache is only a speed-up: an unreadable or corrupt entry is compiled again and
    /// rewritten, and a cache directory that can't be written never stops a container.
    public func compile(cacheDirectory: String?) throws -> [UInt8] {
        guard let cacheDirectory else { return try SeccompCompiler.compile(self) }
        let cache = SeccompCache(directory: cacheDirectory)
        let key = cacheKey
        if let program = cache.load(key: key) { return program }
        let program = try SeccompCompiler.compile(self)
        try? cache.store(program, key: key)
        return program
    }
}

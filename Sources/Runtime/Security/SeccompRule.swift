/// What the kernel does when a system call matches a seccomp rule (or none does).
public enum SeccompAction: Sendable, Equatable, Hashable {
    /// Run the system call.
    case allow
    /// Fail the system call with this errno without running it.
    case errno(UInt16)
    /// Kill the whole process (thread group).
    case killProcess
    /// Kill the calling thread only (libseccomp's SCMP_ACT_KILL).
    case killThread
    /// Send SIGSYS to the caller.
    case trap
    /// Run the system call and log it through the audit subsystem.
    case log
    /// Hand the call to a ptrace tracer with this message; ENOSYS when there is none.
    case trace(UInt16)
}

/// How one system-call argument is compared (libseccomp's SCMP_CMP_*).
public enum SeccompOperator: Sendable, Equatable, Hashable {
    case notEqual
    case lessThan
    case lessThanOrEqual
    case equal
    case greaterThanOrEqual
    case greaterThan
    /// `(argument & value) == valueTwo`: `value` is the mask.
    case maskedEqual
}

/// A condition on one argument of a system call: `argument[index] <op> value`.
public struct SeccompCondition: Sendable, Equatable, Hashable {
    /// Which argument, 0 … 5.
    public var index: UInt32
    public var op: SeccompOperator
    public var value: UInt64
    /// The second operand; only `maskedEqual` uses it (the value the masked argument must equal).
    public var valueTwo: UInt64

    public init(index: UInt32, op: SeccompOperator, value: UInt64, valueTwo: UInt64 = 0) {
        self.index = index
        self.op = op
        self.value = value
        self.valueTwo = valueTwo
    }
}

/// One line of a seccomp profile: these system calls, when every condition holds, get `action`.
///
/// Conditions are ANDed. libseccomp allows one condition per argument in a rule; to OR several
/// conditions on the same argument, write several rules (that is what Docker's profiles do).
public struct SeccompRule: Sendable, Equatable, Hashable {
    /// System-call names as libseccomp knows them; a name libseccomp does not know is skipped,
    /// so a profile written for a newer kernel still loads.
    public var names: [String]
    public var action: SeccompAction
    public var conditions: [SeccompCondition]

    public init(names: [String], action: SeccompAction, conditions: [SeccompCondition] = []) {
        self.names = names
        self.action = action
        self.conditions = conditions
    }
}

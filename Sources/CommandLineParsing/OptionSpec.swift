/// One option a command accepts, described as data: its names, what it takes, and its help line.
///
/// Options are spelt `--long`, and `-s` when they have a short name. A flag takes nothing, or
/// Docker's `--long=false` / `-s=false` (also `=true`, `=0`, `=1`); a value
/// option takes one word (`--name value`, `--name=value`, `-s value` or `-svalue`), the last one
/// given winning; a repeatable option keeps every value, in order.
public struct OptionSpec: Sendable {
    /// What the option takes after its name.
    public enum Kind: Sendable, Equatable {
        /// Present or absent: `--debug`, `-i`.
        case flag
        /// One value, named in the help (`--memory <size>`); given twice, the last one counts.
        case value(valueName: String)
        /// Any number of values, kept in order (`-e A=1 -e B=2`).
        case repeatable(valueName: String)
    }

    /// The name without dashes: "pids-limit" for `--pids-limit`.
    public let long: String
    public let short: Character?
    public let kind: Kind
    public let help: String

    public init(_ long: String, short: Character? = nil, _ kind: Kind, help: String) {
        self.long = long
        self.short = short
        self.kind = kind
        self.help = help
    }

    public static func flag(_ long: String, short: Character? = nil, help: String) -> OptionSpec {
        OptionSpec(long, short: short, .flag, help: help)
    }

    public static func value(_ long: String, short: Character? = nil, valueName: String, help: String) -> OptionSpec {
        OptionSpec(long, short: short, .value(valueName: valueName), help: help)
    }

    public static func repeatable(_ long: String, short: Character? = nil, valueName: String,
                                  help: String) -> OptionSpec {
        OptionSpec(long, short: short, .repeatable(valueName: valueName), help: help)
    }

    var takesValue: Bool { kind != .flag }
}

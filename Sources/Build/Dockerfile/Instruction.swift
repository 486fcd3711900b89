/// One instruction of a Dockerfile as written: its name, its `--flags`, its arguments and the
/// heredocs that follow it, before any variable is expanded (which ones are, and with what,
/// depends on the stage: `StagePlan`).
public struct Instruction: Sendable, Equatable {
    /// The upper-cased name: `RUN`, `COPY`, ...
    public var name: String
    /// `--name=value` flags in order; a flag without `=` has the value "true" (`--link`).
    public var flags: [Flag]
    /// The text after the name and flags, continuation lines joined, for the shell form.
    public var text: String
    /// The JSON array of the exec form (`CMD ["a", "b"]`), when the text is one.
    public var json: [String]?
    /// Heredoc bodies (`RUN <<EOF`), in the order of their markers on the line.
    public var heredocs: [Heredoc]
    /// The line the instruction starts on (1-based).
    public var line: Int
    /// The instruction as written (continuations joined), for messages and `--print`.
    public var original: String

    public struct Flag: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// A `<<NAME` document: its name, its body, and whether variables in it are expanded
    /// (an unquoted name) and its leading tabs stripped (`<<-`).
    public struct Heredoc: Sendable, Equatable {
        public var name: String
        public var body: String
        public var expands: Bool

        public init(name: String, body: String, expands: Bool) {
            self.name = name
            self.body = body
            self.expands = expands
        }
    }

    public init(name: String, flags: [Flag] = [], text: String, json: [String]? = nil, heredocs: [Heredoc] = [],
                line: Int, original: String = "") {
        self.name = name
        self.flags = flags
        self.text = text
        self.json = json
        self.heredocs = heredocs
        self.line = line
        self.original = original
    }

    /// The value of flag `name` (the last one given), nil when absent.
    public func flag(_ name: String) -> String? {
        flags.last { $0.name == name }?.value
    }

    /// The instructions berth knows, and the flags each accepts.
    public static let known: [String: Set<String>] = [
        "FROM": ["platform"], "RUN": ["network", "mount", "security"], "CMD": [], "LABEL": [], "MAINTAINER": [],
        "EXPOSE": [], "ENV": [], "ADD": ["chown", "chmod", "link", "checksum", "keep-git-dir", "exclude"],
        "COPY": ["from", "chown", "chmod", "link", "parents", "exclude"], "ENTRYPOINT": [], "VOLUME": [],
        "USER": [], "WORKDIR": [], "ARG": [], "ONBUILD": [], "STOPSIGNAL": [],
        "HEALTHCHECK": ["interval", "timeout", "start-period", "start-interval", "retries"], "SHELL": [],
    ]

    /// Instructions whose arguments may be a JSON array.
    static let jsonForms: Set<String> = ["RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"]
    /// Instructions that may be followed by heredocs.
    static let heredocForms: Set<String> = ["RUN", "COPY", "ADD"]
}

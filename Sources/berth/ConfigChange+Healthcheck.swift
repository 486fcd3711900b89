import CommandLineParsing
import Containers
import ImageStore

extension ConfigChange {
    /// `HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D] [--retries=N] CMD command`
    /// (the shell form, or the JSON form `CMD ["prog", "arg"]`), or `HEALTHCHECK NONE`.
    static func healthcheck(_ rest: String, _ text: String) throws(UsageError) -> OCIImage.Healthcheck {
        if rest.uppercased() == "NONE" { return OCIImage.Healthcheck(test: ["NONE"]) }
        var check = OCIImage.Healthcheck(test: nil)
        var remaining = Substring(rest)
        // Bounded by the text: each pass takes one option off the front.
        while remaining.hasPrefix("--") {
            let word = remaining.prefix(while: { $0 != " " && $0 != "\t" })
            remaining = remaining.dropFirst(word.count).drop(while: { $0 == " " || $0 == "\t" })
            let parts = word.dropFirst(2).split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw UsageError("--change \"\(text)\": \(word) needs =VALUE") }
            if parts[0] == "retries" {
                guard let retries = Int(parts[1]), retries >= 1 else {
                    throw UsageError("--change \"\(text)\": --retries needs a number, at least 1")
                }
                check.retries = retries
                continue
            }
            guard let nanoseconds = GoDuration.parse(parts[1]) else {
                throw UsageError("--change \"\(text)\": \(parts[1]) is not a duration (e.g. 30s, 500ms)")
            }
            switch parts[0] {
            case "interval": check.interval = nanoseconds
            case "timeout": check.timeout = nanoseconds
            case "start-period": check.startPeriod = nanoseconds
            default:
                throw UsageError("--change \"\(text)\": unknown HEALTHCHECK option --\(parts[0]); "
                                 + "use --interval, --timeout, --start-period or --retries")
            }
        }
        let keyword = remaining.prefix(while: { $0 != " " && $0 != "\t" })
        let command = String(remaining.dropFirst(keyword.count).drop(while: { $0 == " " || $0 == "\t" }))
        guard keyword.uppercased() == "CMD", !command.isEmpty else {
            throw UsageError("--change \"\(text)\": HEALTHCHECK takes CMD and a command, or NONE")
        }
        check.test = command.hasPrefix("[") ? ["CMD"] + (try Self.command(command, text)) : ["CMD-SHELL", command]
        return check
    }
}

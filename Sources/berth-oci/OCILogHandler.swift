import JSON
import Logging
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// berth-oci's log lines, on `--log FILE` (appended) or stderr: runc's text form, or its JSON
/// form (`{"level":"error","msg":"...","time":"..."}`) that containerd and podman read back to
/// show a runtime's error.
struct OCILogHandler: LogHandler {
    let fd: Int32
    let json: Bool
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let message = event.message
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }.sorted { $0.key < $1.key }
        let level = event.level == .warning ? "warning" : event.level.rawValue
        let text: String
        if json {
            var object: [(key: String, value: JSONValue)] = [
                ("level", .string(level)), ("msg", .string(message.description)), ("time", .string(Timestamp.now())),
            ]
            object += fields.map { ($0.key, .string($0.value.description)) }
            text = JSONValue.object(object).serialized()
        } else {
            let context = fields.map { " \($0.key)=\($0.value)" }.joined()
            text = "time=\"\(Timestamp.now())\" level=\(level) msg=\"\(message)\"\(context)"
        }
        OCIOutput.writeLine(fd, text)
    }
}

import FileSystem
import JSON
import Runtime

/// `--security-opt seccomp=FILE`: a Docker or OCI JSON profile read when the container is
/// created. The profile it gives (resolved against the container's capabilities) is stored in
/// the launch spec, so start, restart and exec use it without the file.
enum SeccompProfileFile {
    /// The checked profile, compiled once so that a rule libseccomp refuses is reported now and
    /// not at every start. Every error is one sentence naming the file.
    static func load(_ path: String, capabilities: CapabilitySet) throws -> SeccompProfile {
        let fail = { (what: String) in
            ContainerError(.invalidArgument, "seccomp profile \(path): \(what); give a Docker or OCI seccomp JSON profile")
        }
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readFile(path)
        } catch {
            throw ContainerError(.invalidArgument, "seccomp profile \(path) can't be read: \(error.reason)")
        }
        let document: SeccompProfileDocument
        do {
            document = try JSON.decode(SeccompProfileDocument.self, from: bytes)
        } catch {
            throw fail(error.description)
        }
        do {
            let profile = try document.profile(capabilities: capabilities)
            _ = try profile.compile(cacheDirectory: nil)
            return profile
        } catch let error as ContainerError {
            throw fail(error.message.hasPrefix("seccomp: ") ? String(error.message.dropFirst(9)) : error.description)
        }
    }
}

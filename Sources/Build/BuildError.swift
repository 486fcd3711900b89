import BerthErrors

/// The builder's name for berth's one error type.
public typealias BuildError = BerthError

extension BerthError {
    /// An error about one line of a Dockerfile: `Dockerfile:7: unknown instruction COPPY`.
    static func dockerfile(_ file: String, line: Int, _ message: String) -> BerthError {
        BerthError(.invalidArgument, "\(file):\(line): \(message)")
    }
}

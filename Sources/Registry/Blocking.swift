import Dispatch

/// The result of an async body, carried to the thread that waits for it.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    // Written once by the task before the semaphore is signalled, read after the wait: the
    // semaphore orders the two.
    var result: Result<T, any Error>?
}

/// Runs `body` to its end and returns its result on the calling thread: berth's commands are
/// synchronous, the HTTP client is async. Only the registry commands call this.
public func waitFor<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    guard let result = box.result else {
        throw RegistryError(.systemError, "the registry operation ended without a result")
    }
    return try result.get()
}

/// Runs `operation`, cancelling it and throwing 504 ``APIError/timeout`` when it takes longer
/// than `timeout` (nil: no limit). Cancelling the caller cancels the operation.
func withTimeout<T: Sendable>(
    _ timeout: Duration?, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    guard let timeout else { return try await operation() }
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw APIError.timeout }
        return value
    }
}

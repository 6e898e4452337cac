import NIOCore
import Synchronization

/// Notices a client closing its connection: one per connection, in its pipeline from the start
/// (``ClinferHTTPServer`` adds it), so a close that happens before a route asks is not missed. It
/// reports the input closing (a client's close arrives as that, since the server allows
/// half-closed connections; the server does not serve clients that half-close and then wait) or
/// the channel going inactive. It reads nothing, so keep-alive connections stay usable.
final class DisconnectWatcher: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    private struct State {
        var closed = false
        var nextID = 0
        var observers: [Int: @Sendable () -> Void] = [:]
    }
    private let state = Mutex(State())

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { fire() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fire()
        context.fireChannelInactive()
    }

    /// Calls `observer` once when the client closes, at once if it already has; returns what
    /// ``stopObserving(_:)`` takes (a keep-alive connection serves many requests).
    @discardableResult
    func onClose(_ observer: @escaping @Sendable () -> Void) -> Int {
        let (id, closed) = state.withLock { state in
            state.nextID += 1
            if !state.closed { state.observers[state.nextID] = observer }
            return (state.nextID, state.closed)
        }
        if closed { observer() }
        return id
    }

    func stopObserving(_ id: Int) {
        _ = state.withLock { $0.observers.removeValue(forKey: id) }
    }

    private func fire() {
        let observers = state.withLock { state in
            guard !state.closed else { return [Int: @Sendable () -> Void]() }
            state.closed = true
            defer { state.observers.removeAll() }
            return state.observers
        }
        for observer in observers.values { observer() }
    }

    /// The watcher of `channel`'s connection, or nil when the server did not install one.
    static func of(_ channel: any Channel) async -> DisconnectWatcher? {
        try? await channel.eventLoop.submit { try channel.pipeline.syncOperations.handler(type: DisconnectWatcher.self) }.get()
    }
}

/// The client went away before its response was complete.
struct ClientDisconnected: Error {}

/// Runs `operation`, cancelling it and throwing ``ClientDisconnected`` as soon as the client
/// closes `channel` (or at once, if it already has). Cancelling the caller cancels the operation too.
func cancellingOnDisconnect<T: Sendable>(_ channel: any Channel, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let (closed, signal) = AsyncStream.makeStream(of: Void.self)
    let watcher = await DisconnectWatcher.of(channel)
    let observation = watcher?.onClose { signal.finish() }
    defer { if let watcher, let observation { watcher.stopObserving(observation) } }
    if watcher == nil, !channel.isActive { throw ClientDisconnected() }
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            for await _ in closed {}
            return nil   // the connection closed (or this task was cancelled because the operation finished)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            if Task.isCancelled { throw CancellationError() }
            throw ClientDisconnected()
        }
        return value
    }
}

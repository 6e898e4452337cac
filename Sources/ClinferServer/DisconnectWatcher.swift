import NIOCore
import Synchronization

/// Notices a client closing its connection: one per connection, in its pipeline from the start
/// (``ClinferHTTPServer`` adds it), so a close that happens before a route asks is not missed. It
/// reads nothing, so keep-alive connections stay usable.
///
/// Two signals, since a client's close arrives first as its input closing (the server allows
/// half-closed connections): ``Signal/inputClosed``, the client sent its last byte, which is how
/// a client that went away looks until the server writes to it; and ``Signal/closed``, the
/// connection is gone (a write failed, or the peer reset it). A streamed response writes every
/// token, so it waits for `closed` and a client that half-closes after its request still gets
/// its stream; a response written only at the end cannot tell the two apart and takes
/// `inputClosed`, as nginx (499) and llama-server do.
final class DisconnectWatcher: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    /// What an observer waits for.
    enum Signal: Sendable { case inputClosed, closed }

    private struct State {
        var inputClosed = false
        var closed = false
        var nextID = 0
        var observers: [Int: (signal: Signal, call: @Sendable () -> Void)] = [:]

        func fired(_ signal: Signal) -> Bool { signal == .closed ? closed : inputClosed || closed }
    }
    private let state = Mutex(State())

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { fire { $0.inputClosed = true } }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fire { $0.closed = true }
        context.fireChannelInactive()
    }

    /// Calls `observer` once when `signal` happens, at once if it already has; returns what
    /// ``stopObserving(_:)`` takes (a keep-alive connection serves many requests).
    @discardableResult
    func on(_ signal: Signal, _ observer: @escaping @Sendable () -> Void) -> Int {
        let (id, fired) = state.withLock { state in
            state.nextID += 1
            let fired = state.fired(signal)
            if !fired { state.observers[state.nextID] = (signal, observer) }
            return (state.nextID, fired)
        }
        if fired { observer() }
        return id
    }

    func stopObserving(_ id: Int) {
        _ = state.withLock { $0.observers.removeValue(forKey: id) }
    }

    private func fire(_ change: (inout State) -> Void) {
        let due = state.withLock { state in
            change(&state)
            let due = state.observers.filter { state.fired($0.value.signal) }
            for id in due.keys { state.observers.removeValue(forKey: id) }
            return due
        }
        for observer in due.values { observer.call() }
    }

    /// The watcher of `channel`'s connection, or nil when the server did not install one.
    static func of(_ channel: any Channel) async -> DisconnectWatcher? {
        try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: DisconnectWatcher.self)
        }.get()
    }
}

/// The client went away before its response was complete.
struct ClientDisconnected: Error {}

/// Runs `operation`, cancelling it and throwing ``ClientDisconnected`` as soon as the client
/// closes `channel` (`until`: its input, or the whole connection), or at once if it already has.
/// Cancelling the caller cancels the operation too.
func cancellingOnDisconnect<T: Sendable>(
    _ channel: any Channel, until signal: DisconnectWatcher.Signal = .inputClosed,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let (closed, finish) = AsyncStream.makeStream(of: Void.self)
    let watcher = await DisconnectWatcher.of(channel)
    let observation = watcher?.on(signal) { finish.finish() }
    defer { if let watcher, let observation { watcher.stopObserving(observation) } }
    if watcher == nil, !channel.isActive { throw ClientDisconnected() }
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            for await _ in closed {}
            return nil  // the connection closed (or this task was cancelled because the operation finished)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            if Task.isCancelled { throw CancellationError() }
            throw ClientDisconnected()
        }
        return value
    }
}

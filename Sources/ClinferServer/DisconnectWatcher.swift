import NIOCore
import Synchronization

/// Notices a client closing its connection while its request runs: added at the front of the
/// connection's pipeline for the request's lifetime, it reports the input closing (the server
/// allows half-closed connections, so that is what a client's close looks like) or the channel
/// going inactive. Unlike Hummingbird's `consumeWithCancellationOnInboundClose` it does not read
/// the connection, so keep-alive connections stay usable for the next request.
final class DisconnectWatcher: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    private let fired = Atomic<Bool>(false)
    private let onDisconnect: @Sendable () -> Void

    init(onDisconnect: @escaping @Sendable () -> Void) {
        self.onDisconnect = onDisconnect
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { fire() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fire()
        context.fireChannelInactive()
    }

    private func fire() {
        if !fired.exchange(true, ordering: .acquiringAndReleasing) { onDisconnect() }
    }
}

/// The client went away before its response was complete.
struct ClientDisconnected: Error {}

/// Runs `operation`, cancelling it and throwing ``ClientDisconnected`` as soon as the client
/// closes `channel`. Cancelling the caller cancels the operation too.
func cancellingOnDisconnect<T: Sendable>(_ channel: any Channel, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let (closed, signal) = AsyncStream.makeStream(of: Void.self)
    let watcher = DisconnectWatcher { signal.finish() }
    try await channel.pipeline.addHandler(watcher, position: .first).get()
    defer { channel.pipeline.removeHandler(watcher, promise: nil) }
    if !channel.isActive { throw ClientDisconnected() }
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

import NIOCore
import NIOHTTPTypes

/// Closes a connection whose peer stops cooperating, so a slow client can hold neither a slot,
/// nor an admission ticket, nor a connection for long:
/// - a request whose head and body take longer than `readTimeout` to arrive (a slow writer,
///   e.g. a body dripped a byte at a time), and
/// - a response write that has waited longer than `writeTimeout` for the client to read (a slow
///   reader: once the socket buffers are full, writes stop completing).
///
/// Closing fails the response's pending writes, so the route's write loop ends and releases its
/// ticket, and the disconnect watcher cancels the sequence at its next token. Hummingbird's idle
/// timeout covers connections with no request at all.
final class ConnectionDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Why a connection was closed.
    enum Expiry: String, Sendable { case slowRequest = "slow_request", slowReader = "slow_reader" }

    private let readTimeout: TimeAmount
    private let writeTimeout: TimeAmount
    private let onExpiry: @Sendable (Expiry) -> Void
    /// When the request being read started arriving; nil between requests.
    private var readingSince: NIODeadline?
    /// Writes handed to the socket and not yet completed, and when one last completed (or the
    /// first was queued).
    private var pendingWrites = 0
    private var lastWriteProgress = NIODeadline.now()
    private var check: Scheduled<Void>?

    private let sendBufferBytes: Int?

    /// - Parameter sendBufferBytes: the socket's send buffer (`SO_SNDBUF`); nil keeps the
    ///   kernel's autotuning, which lets one slow reader park megabytes in the kernel before its
    ///   writes stall.
    init(readTimeout: Duration, writeTimeout: Duration, sendBufferBytes: Int? = nil, onExpiry: @escaping @Sendable (Expiry) -> Void) {
        self.readTimeout = TimeAmount(readTimeout)
        self.writeTimeout = TimeAmount(writeTimeout)
        self.sendBufferBytes = sendBufferBytes
        self.onExpiry = onExpiry
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if let sendBufferBytes, let options = context.channel.syncOptions {
            try? options.setOption(.socketOption(.so_sndbuf), value: SocketOptionValue(clamping: sendBufferBytes))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            readingSince = .now()
            scheduleCheck(context)
        case .end:
            readingSince = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let promise = promise ?? context.eventLoop.makePromise()
        if pendingWrites == 0 { lastWriteProgress = .now() }
        pendingWrites += 1
        promise.futureResult.assumeIsolated().whenComplete { [self] _ in
            pendingWrites -= 1
            lastWriteProgress = .now()
        }
        scheduleCheck(context)
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
        context.fireChannelInactive()
    }

    /// Checks the deadlines once a second while a request is read or a write is pending.
    private func scheduleCheck(_ context: ChannelHandlerContext) {
        guard check == nil, context.channel.isActive else { return }
        check = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) { [self] in
            check = nil
            let now = NIODeadline.now()
            if let readingSince, now - readingSince > readTimeout {
                expire(.slowRequest, context)
            } else if pendingWrites > 0, now - lastWriteProgress > writeTimeout {
                expire(.slowReader, context)
            } else if readingSince != nil || pendingWrites > 0 {
                scheduleCheck(context)
            }
        }
    }

    private func expire(_ expiry: Expiry, _ context: ChannelHandlerContext) {
        onExpiry(expiry)
        context.close(promise: nil)
    }
}

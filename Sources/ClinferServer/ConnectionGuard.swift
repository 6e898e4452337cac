import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Defends one HTTP/1 connection against a client that stops cooperating or does not speak HTTP,
/// so that it can hold neither a slot, nor an admission ticket, nor a connection for long, and
/// every answer it gets is OpenAI-shaped JSON:
/// - a request whose body takes longer than `readTimeout` to arrive after its head (a slow
///   writer, e.g. a body dripped a byte at a time) loses the connection;
/// - a response write that has waited longer than `writeTimeout` for the client to read (a slow
///   reader: once the socket buffers are full, writes stop completing) loses the connection;
/// - bytes the HTTP parser rejects (a garbage request line, a malformed chunk) get a JSON 400,
///   and `CONNECT` a JSON 405, then the connection closes (no route could answer them);
/// - a response finished before its request body was read (a 413, say) closes the connection
///   instead of leaving the client blocked sending a body nobody reads.
///
/// Closing fails the response's pending writes, so the route's write loop ends and releases its
/// ticket, and the disconnect watcher cancels the sequence at its next token. Hummingbird's idle
/// timeout covers connections with no request at all.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
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
    /// A response head went out and its end has not.
    private var responding = false
    /// The connection was refused: whatever else arrives is dropped.
    private var refused = false

    private let sendBufferBytes: Int?

    /// - Parameter sendBufferBytes: the socket's send buffer (`SO_SNDBUF`); nil keeps the
    ///   kernel's autotuning, which lets one slow reader park megabytes in the kernel before its
    ///   writes stall.
    init(
        readTimeout: Duration, writeTimeout: Duration, sendBufferBytes: Int? = nil,
        onExpiry: @escaping @Sendable (Expiry) -> Void
    ) {
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
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if head.method == .connect {
                refuse(
                    APIError(
                        status: .methodNotAllowed,
                        message: "CONNECT is not supported: this is an API server, not a proxy.",
                        type: "invalid_request_error", code: "method_not_allowed"), context)
                return
            }
            readingSince = .now()
            scheduleCheck(context)
        case .end:
            readingSince = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else { return context.fireErrorCaught(error) }
        refuse(
            APIError.invalidRequest("The request is not valid HTTP/1.1 (\(error)).", code: "malformed_request"), context
        )
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let promise = promise ?? context.eventLoop.makePromise()
        if pendingWrites == 0 { lastWriteProgress = .now() }
        pendingWrites += 1
        promise.futureResult.assumeIsolated().whenComplete { [self] _ in
            pendingWrites -= 1
            lastWriteProgress = .now()
        }
        switch unwrapOutboundIn(data) {
        case .head: responding = true
        case .end:
            responding = false
            // Answered before the request body arrived: stop here rather than read the rest.
            if readingSince != nil {
                promise.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
        case .body: break
        }
        scheduleCheck(context)
        context.write(data, promise: promise)
    }

    /// Answers `error` (unless a response is already under way) and closes the connection.
    private func refuse(_ error: APIError, _ context: ChannelHandlerContext) {
        readingSince = nil
        refused = true
        guard !responding, context.channel.isActive else {
            context.close(promise: nil)
            return
        }
        let body = JSONBody.buffer(ErrorEnvelope(error))
        var fields: HTTPFields = [
            .contentType: "application/json", .connection: "close", .contentLength: String(body.readableBytes),
        ]
        for field in error.headers { fields.append(field) }
        let head = HTTPResponse(status: error.status, headerFields: fields)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
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

import Hummingbird
import NIOCore

/// The request context of the server's routes: Hummingbird's basics plus the connection, so a
/// route can notice the client going away (``DisconnectWatcher``).
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's connection.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

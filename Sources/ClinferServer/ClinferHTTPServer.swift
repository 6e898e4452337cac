import ClinferEngine
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// The OpenAI-compatible HTTP server: builds the Hummingbird application (routes, middleware,
/// model loading) and runs it until SIGINT or SIGTERM.
///
/// ```swift
/// let server = ClinferHTTPServer(configuration: ServerConfiguration(port: 8080), logger: Logger(label: "clinfer"))
/// try await server.run()
/// ```
public struct ClinferHTTPServer: Sendable {
    public let state: ServerState
    private let load: @Sendable () async throws -> ServedModels

    /// A server loading its models with `load` (default: the configuration's paths) after it starts
    /// listening; `/health` answers 503 until they are ready.
    public init(
        configuration: ServerConfiguration, logger: Logger, metrics: ServerMetrics = ServerMetrics(),
        load: (@Sendable () async throws -> ServedModels)? = nil
    ) {
        state = ServerState(configuration: configuration, metrics: metrics, logger: logger)
        self.load = load ?? { try await Self.loadModels(configuration, logger: logger) }
    }

    /// Loads the configuration's models.
    public static func loadModels(_ configuration: ServerConfiguration, logger: Logger) async throws -> ServedModels {
        logger.info(
            "loading models",
            metadata: [
                "model": .string(configuration.modelPath),
                "embedding_model": .string(configuration.embeddingModelPath ?? "none"),
            ])
        let options = configuration.languageModelOptions
        let language = try await LanguageModel.load(path: configuration.modelPath, options: options)
        var embedding: EmbeddingModel?
        if let directory = configuration.embeddingModelPath {
            embedding = try await EmbeddingModel.load(
                directory: directory, options: .init(backend: configuration.backend))
        }
        return ServedModels(
            language: language, languageID: configuration.languageModelID,
            embedding: embedding, embeddingID: embedding == nil ? nil : configuration.embeddingModelID)
    }

    /// The methods each endpoint serves (others are 405).
    static let endpoints: [String: [HTTPRequest.Method]] = [
        "/v1/chat/completions": [.post], "/v1/completions": [.post], "/v1/embeddings": [.post],
        "/v1/models": [.get], "/health": [.get], "/metrics": [.get], "/tokenize": [.post], "/detokenize": [.post],
        "/tokenizer_info": [.get],
    ]

    /// The router: the access log outermost, errors in OpenAI's shape, request metrics, 405s,
    /// the API key, the body limit, and the routes.
    func makeRouter() -> Router<ServerRequestContext> {
        let configuration = state.configuration
        let router = Router(context: ServerRequestContext.self)
        router.middlewares.add(AccessLogMiddleware())
        router.middlewares.add(ErrorMiddleware())
        router.middlewares.add(MetricsMiddleware())
        router.middlewares.add(MethodCheckMiddleware(allowed: Self.endpoints))
        if let apiKey = configuration.apiKey {
            router.middlewares.add(AuthMiddleware(apiKey: apiKey, openPaths: ["/health", "/metrics"]))
        }
        router.middlewares.add(BodyLimitMiddleware(limit: configuration.maxBodyBytes))

        let chat = ChatCompletionsRoute(state: state), completions = CompletionsRoute(state: state)
        let embeddings = EmbeddingsRoute(state: state), models = ModelsRoute(state: state)
        let health = HealthRoute(state: state), metrics = MetricsRoute(state: state)
        let tokenize = TokenizeRoute(state: state)
        router.post("/v1/chat/completions") { request, context in try await chat.handle(request, context: context) }
        router.post("/v1/completions") { request, context in try await completions.handle(request, context: context) }
        router.post("/v1/embeddings") { request, context in try await embeddings.handle(request, context: context) }
        router.get("/v1/models") { request, _ in try models.list(request) }
        router.get("/v1/models/{id}") { _, context in try models.model(try context.parameters.require("id")) }
        router.post("/tokenize") { request, context in try await tokenize.tokenize(request, context: context) }
        router.post("/detokenize") { request, context in try await tokenize.detokenize(request, context: context) }
        router.get("/tokenizer_info") { request, _ in try tokenize.info(request) }
        router.get("/health") { request, _ in health.handle(request) }
        router.get("/metrics") { request, _ in metrics.handle(request) }
        return router
    }

    /// The Hummingbird application, with model loading as one of its services.
    public func makeApplication() -> some ApplicationProtocol {
        let configuration = state.configuration, logger = state.logger, metrics = state.metrics
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                DisconnectWatcher(),
                ConnectionGuard(
                    readTimeout: configuration.readTimeout, writeTimeout: configuration.writeTimeout,
                    sendBufferBytes: configuration.sendBufferBytes
                ) { expiry in
                    metrics.connectionsExpired.increment()
                    logger.notice("connection closed", metadata: ["reason": .string(expiry.rawValue)])
                },
            ],
            idleTimeout: TimeAmount(configuration.idleTimeout))
        return Application(
            router: makeRouter(),
            server: .http1(configuration: http1),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "clinfer",
                availableConnectionsDelegate: .maximum(configuration.maxConnections, logger: logger)),
            services: [ModelLoadingService(store: state.models, metrics: state.metrics, logger: logger, load: load)],
            onServerRunning: { channel in
                logger.info("listening", metadata: ["address": .string(channel.localAddress.map { "\($0)" } ?? "?")])
            },
            logger: logger)
    }

    /// Serves until SIGINT or SIGTERM, then stops accepting connections and gives running
    /// requests ``ServerConfiguration/shutdownGrace`` to finish before cancelling them.
    public func run() async throws {
        var configuration = ServiceGroupConfiguration(
            services: [makeApplication()], gracefulShutdownSignals: [.sigterm, .sigint], logger: state.logger)
        configuration.maximumGracefulShutdownDuration = state.configuration.shutdownGrace
        configuration.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: configuration).run()
        // Cancelled requests return at once, but their last batch or token may still run on the
        // device; exiting meanwhile can crash the OpenCL driver's compiler at teardown.
        if case .ready(let served) = state.models.current {
            await served.language.waitUntilIdle()
            await served.embedding?.waitUntilIdle()
        }
    }
}

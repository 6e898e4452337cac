import ClinferEngine
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The models a server answers with, under the ids clients send as `model`.
public struct ServedModels: Sendable {
    public var language: LanguageModel
    public var languageID: String
    public var embedding: EmbeddingModel?
    public var embeddingID: String?
    /// When the models were loaded (the `created` of `/v1/models`).
    public var created: Int

    public init(
        language: LanguageModel, languageID: String, embedding: EmbeddingModel? = nil, embeddingID: String? = nil
    ) {
        self.language = language
        self.languageID = languageID
        self.embedding = embedding
        self.embeddingID = embeddingID
        created = Int(Date().timeIntervalSince1970)
    }

    /// Every served id.
    var ids: [String] { [languageID] + [embeddingID].compactMap { $0 } }
}

/// Loading, then ready: what `/health` reports and what routes wait for.
public final class ModelStore: Sendable {
    enum State: Sendable {
        case loading
        case ready(ServedModels)
        case failed(String)
    }

    private let state = Mutex(State.loading)

    public init() {}

    var current: State { state.withLock { $0 } }

    /// The models, or 503 `model_loading`.
    func models() throws(APIError) -> ServedModels {
        switch current {
        case .ready(let models): return models
        case .loading: throw APIError.loading
        case .failed:
            throw APIError(
                status: .serviceUnavailable, message: "The model failed to load; the reason is in the server's log.",
                type: "server_error", code: "model_load_failed")
        }
    }

    func set(_ models: ServedModels) { state.withLock { $0 = .ready(models) } }
    func fail(_ reason: String) { state.withLock { $0 = .failed(reason) } }
}

/// Loads the models while the server already answers (`/health` 503 until done), then stays up
/// until shutdown. A load failure stops the server with the error.
struct ModelLoadingService: Service {
    let store: ModelStore
    let metrics: ServerMetrics
    let logger: Logger
    let load: @Sendable () async throws -> ServedModels

    func run() async throws {
        let start = ContinuousClock.now
        do {
            let models = try await load()
            store.set(models)
            metrics.modelReady.set(1.0)
            logger.info(
                "models ready",
                metadata: [
                    "model": .string(models.languageID), "device": .string(models.language.deviceName),
                    "context": .stringConvertible(models.language.contextLength),
                    "embedding_model": .string(models.embeddingID ?? "none"),
                    "load_seconds": .stringConvertible((ContinuousClock.now - start).components.seconds),
                ])
        } catch {
            store.fail(String(describing: error))
            logger.critical("model loading failed", metadata: ["error": .string(String(describing: error))])
            throw error
        }
        try? await gracefulShutdown()
    }
}

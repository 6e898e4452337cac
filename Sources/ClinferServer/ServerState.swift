import Logging

/// What the routes share: configuration, the models (once loaded), admission, metrics.
public final class ServerState: Sendable {
    public let configuration: ServerConfiguration
    public let models: ModelStore
    public let metrics: ServerMetrics
    let generation: GenerationService
    /// Bounds embedding requests like generation ones (one batch runs at a time).
    let embeddingGate: AdmissionGate
    let logger: Logger

    public init(configuration: ServerConfiguration, metrics: ServerMetrics = ServerMetrics(), logger: Logger) {
        self.configuration = configuration
        models = ModelStore()
        self.metrics = metrics
        self.logger = logger
        generation = GenerationService(
            slots: configuration.slots, queueSize: configuration.queueSize, timeout: configuration.requestTimeout,
            metrics: metrics, logger: logger)
        embeddingGate = AdmissionGate(capacity: configuration.slots + configuration.queueSize)
        metrics.slots.set(Int64(configuration.slots))
        metrics.queueCapacity.set(Int64(configuration.queueSize))
        metrics.modelReady.set(0.0)
    }

    /// Generation requests admitted and not finished (running or waiting): 0 when idle.
    public var generationRequestsInFlight: Int { generation.gate.count }

    /// Sequences the engine is decoding, and those waiting for a slot (the engine's own counts
    /// once the model is loaded, else the server's).
    public var sequenceCounts: (running: Int, waiting: Int) {
        if case .ready(let served) = models.current {
            return (served.language.activeSequences, served.language.waitingSequences)
        }
        let sequences = generation.tracker.snapshot.sequences
        let running = min(sequences, configuration.slots)
        return (running, sequences - running)
    }

    /// Refreshes the gauges that describe the present; called when `/metrics` is scraped.
    func refreshGauges() {
        let counts = sequenceCounts
        metrics.requestsRunning.set(Int64(counts.running))
        metrics.requestsWaiting.set(Int64(counts.waiting))
        if case .ready(let served) = models.current {
            let capacity = Double(configuration.slots * served.language.contextLength)
            metrics.kvCacheUsage.set(Double(generation.tracker.snapshot.positions) / max(capacity, 1))
        }
    }

    /// The language model for a request naming `requested` (nil: the served one), or 404.
    func languageModel(_ requested: String?) throws(APIError) -> (model: ServedModels, id: String) {
        let served = try models.models()
        if let requested, requested != served.languageID {
            if requested == served.embeddingID {
                throw APIError.invalidRequest(
                    "'\(requested)' is an embedding model; use /v1/embeddings.", param: "model",
                    code: "model_not_supported")
            }
            throw APIError.unknownModel(requested, served: served.ids)
        }
        return (served, served.languageID)
    }
}

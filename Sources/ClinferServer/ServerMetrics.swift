import Prometheus
import Synchronization

/// The server's Prometheus metrics (`GET /metrics`), in one registry per server. Gauges that
/// describe the present (running and waiting requests, KV-cache use, tok/s) are refreshed when
/// scraped; counters and histograms as requests run.
public final class ServerMetrics: Sendable {
    /// The registry `/metrics` renders; `clinfer-server` also routes swift-metrics (Hummingbird's
    /// per-endpoint request metrics) into it.
    public let registry: PrometheusCollectorRegistry

    let requestsRunning: Gauge
    let requestsWaiting: Gauge
    let slots: Gauge
    let queueCapacity: Gauge
    let modelReady: Gauge
    let promptTokens: Counter
    let cachedPromptTokens: Counter
    let promptCacheHitRatio: Gauge
    /// Prompt tokens of finished sequences, and how many of them came from the prompt cache.
    let promptTokensSeen = Atomic<Int>(0), cachedTokensSeen = Atomic<Int>(0)
    let generatedTokens: Counter
    let tokensPerSecond: Gauge
    let kvCacheUsage: Gauge
    let timeToFirstToken: DurationHistogram
    let latency: DurationHistogram
    let rejected: Counter
    let cancelled: Counter
    let timedOut: Counter
    let embeddingInputs: Counter
    let connectionsExpired: Counter
    let throughput = ThroughputMeter()

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        requestsRunning = registry.makeGauge(
            descriptor: Self.name("requests_running", help: "Generation requests holding a slot (decoding)."))
        requestsWaiting = registry.makeGauge(
            descriptor: Self.name("requests_waiting", help: "Generation requests admitted and waiting for a slot."))
        slots = registry.makeGauge(
            descriptor: Self.name("slots", help: "Generation slots (sequences generated at once)."))
        queueCapacity = registry.makeGauge(
            descriptor: Self.name(
                "queue_capacity", help: "Requests that may wait for a slot before the server answers 429."))
        modelReady = registry.makeGauge(
            descriptor: Self.name("model_ready", help: "1 once the models are loaded and requests are served, else 0."))
        promptTokens = registry.makeCounter(
            descriptor: Self.name(
                "prompt_tokens_total", help: "Prompt tokens of admitted generation requests (tokens in)."))
        cachedPromptTokens = registry.makeCounter(
            descriptor: Self.name(
                "prompt_cache_hit_tokens_total",
                help: "Prompt tokens found in the prompt cache, not prefilled again (÷ prompt_tokens_total: hit ratio)."
            ))
        promptCacheHitRatio = registry.makeGauge(
            descriptor: Self.name(
                "prompt_cache_hit_ratio",
                help: "Prompt tokens found in the prompt cache over all prompt tokens of finished sequences."))
        generatedTokens = registry.makeCounter(
            descriptor: Self.name("generated_tokens_total", help: "Tokens generated (tokens out)."))
        tokensPerSecond = registry.makeGauge(
            descriptor: Self.name(
                "generated_tokens_per_second",
                help: "Tokens generated per second, all requests together, over the last 10 s."))
        kvCacheUsage = registry.makeGauge(
            descriptor: Self.name(
                "kv_cache_usage_ratio",
                help: "KV-cache positions held by running sequences over slots x context length."))
        let latencyBuckets: [Duration] = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120].map {
            .milliseconds(Int($0 * 1000))
        }
        timeToFirstToken = registry.makeDurationHistogram(
            descriptor: Self.name(
                "time_to_first_token_seconds",
                help: "From request arrival to the first generated token (queueing and prefill included)."),
            buckets: latencyBuckets)
        latency = registry.makeDurationHistogram(
            descriptor: Self.name(
                "request_duration_seconds",
                help: "From request arrival to the last generated token of generation requests that completed."),
            buckets: latencyBuckets)
        rejected = registry.makeCounter(
            descriptor: Self.name(
                "requests_rejected_total", help: "Requests answered 429 because the slots and the wait queue were full."
            ))
        cancelled = registry.makeCounter(
            descriptor: Self.name(
                "requests_cancelled_total",
                help: "Generation and embedding requests stopped because the client disconnected."))
        timedOut = registry.makeCounter(
            descriptor: Self.name(
                "requests_timed_out_total", help: "Generation and embedding requests stopped by the request timeout."))
        embeddingInputs = registry.makeCounter(descriptor: Self.name("embedding_inputs_total", help: "Texts embedded."))
        connectionsExpired = registry.makeCounter(
            descriptor: Self.name(
                "connections_expired_total",
                help:
                    "Connections closed because a request arrived too slowly or a response was not read (--read-timeout, --write-timeout)."
            ))
    }

    /// `clinfer_<name>` (the unit, when there is one, is part of `name`).
    private static func name(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "clinfer", metricName: name, unitName: "", helpText: help)
    }

    /// The text exposition format, with the present-state gauges refreshed first.
    func render(refresh: () -> Void) -> String {
        refresh()
        tokensPerSecond.set(throughput.rate)
        return registry.emitToString()
    }
}

extension ServerMetrics {
    /// Records a finished sequence's prompt: its tokens and those reused from the prompt cache.
    func recordPrompt(tokens: Int, cached: Int) {
        if cached > 0 { cachedPromptTokens.increment(by: Int64(cached)) }
        let total = promptTokensSeen.add(tokens, ordering: .relaxed).newValue
        let hits = cachedTokensSeen.add(cached, ordering: .relaxed).newValue
        promptCacheHitRatio.set(Double(hits) / Double(max(total, 1)))
    }
}

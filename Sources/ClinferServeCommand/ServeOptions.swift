import ArgumentParser
import ClinferOps
import ClinferServer
import Foundation
import Logging
import Metrics
import Prometheus

/// The flags of `clinfer-server` and `clinfer serve`; each falls back to a `CLINFER_*`
/// environment variable, then to its default.
public struct ServeOptions: ParsableArguments {
    /// The one-line help of `clinfer-server` and `clinfer serve`.
    public static let abstract =
        "Serve the model over an OpenAI-compatible HTTP API (chat, completions, embeddings, models, health, metrics)."

    @Option(help: "Address to bind; 0.0.0.0 for every interface (env CLINFER_HOST, default 127.0.0.1).")
    var host: String?

    @Option(help: "TCP port, 0 for an ephemeral one (env CLINFER_PORT, default 8080).")
    var port: Int?

    @Option(help: "GGUF chat model (env CLINFER_MODEL, default \(ServerConfiguration.defaultModel)).")
    var model: String?

    @Option(
        help:
            "Sentence-embedding model directory, or 'none' (env CLINFER_EMBEDDING_MODEL, default \(ServerConfiguration.defaultEmbeddingModel) when present)."
    )
    var embeddingModel: String?

    @Option(help: "The id clients send as 'model' (env CLINFER_MODEL_NAME, default the GGUF file name without .gguf).")
    var modelName: String?

    @Option(
        help:
            "auto (OpenCL when a device exists), opencl or cpu; the OpenCL device is $CLINFER_DEVICE (env CLINFER_BACKEND, default auto)."
    )
    var device: String?

    @Option(help: "Sequences generated at once (env CLINFER_SLOTS, default 4).")
    var slots: Int?

    @Option(help: "Positions per sequence, prompt plus completion (env CLINFER_CONTEXT, default min(model's, 4096)).")
    var context: Int?

    @Option(help: "Requests that may wait for a slot; more get 429 (env CLINFER_QUEUE_SIZE, default 32).")
    var queueSize: Int?

    @Option(
        name: .customLong("prompt-cache-mib"),
        help:
            "MiB of extra KV-cache slots keeping earlier prompts for reuse; idle slots always keep theirs (env CLINFER_PROMPT_CACHE_MIB, default 0)."
    )
    var promptCacheMiB: Int?

    @Flag(
        inversion: .prefixedNo,
        help: "Reuse the KV cache of a prompt's cached prefix (env CLINFER_PROMPT_CACHE=on|off, default on).")
    var promptCache: Bool?

    @Option(
        help:
            "Prompt tokens prefilled per decode round while other requests generate: a long prompt delays their next token by one chunk (env CLINFER_PREFILL_CHUNK, default 256)."
    )
    var prefillChunk: Int?

    @Option(
        help:
            "How decode matmuls over 4-bit weights read activations: exact, int16 or int8 (env CLINFER_ACTIVATIONS, default exact)."
    )
    var activations: String?

    @Option(
        help:
            "Require 'Authorization: Bearer KEY' on every endpoint but /health and /metrics (env CLINFER_API_KEY, default none)."
    )
    var apiKey: String?

    @Option(help: "Largest request body in bytes; larger is 413 (env CLINFER_MAX_BODY_BYTES, default 4194304).")
    var maxBodyBytes: Int?

    @Option(
        help:
            "Seconds a request may run before it is stopped, 0 for no limit (env CLINFER_REQUEST_TIMEOUT, default 600)."
    )
    var requestTimeout: Double?

    @Option(
        help: "Seconds running requests get to finish after SIGINT/SIGTERM (env CLINFER_SHUTDOWN_GRACE, default 30).")
    var shutdownGrace: Double?

    @Option(help: "Seconds a request's body may take to arrive after its head (env CLINFER_READ_TIMEOUT, default 30).")
    var readTimeout: Double?

    @Option(
        help:
            "Seconds a response may wait for the client to read before the connection is closed (env CLINFER_WRITE_TIMEOUT, default 30)."
    )
    var writeTimeout: Double?

    @Option(help: "Seconds an idle keep-alive connection stays open (env CLINFER_IDLE_TIMEOUT, default 60).")
    var idleTimeout: Double?

    @Option(
        help: "Connections open at once; more wait in the listen backlog (env CLINFER_MAX_CONNECTIONS, default 256).")
    var maxConnections: Int?

    @Option(
        help:
            "Each connection's kernel send buffer in bytes (env CLINFER_SEND_BUFFER_BYTES, default: the kernel's autotuning)."
    )
    var sendBufferBytes: Int?

    @Option(help: "trace, debug, info, notice, warning, error or critical (env CLINFER_LOG_LEVEL, default info).")
    var logLevel: String?

    public init() {}

    /// The configuration: flags, then environment, then defaults; errors name the flag.
    public func configuration(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ServerConfiguration {
        func value<T>(_ flag: T?, _ variable: String, _ parse: (String) -> T?) throws -> T? {
            if let flag { return flag }
            guard let text = environment[variable], !text.isEmpty else { return nil }
            guard let parsed = parse(text) else { throw ValidationError("\(variable)=\(text) is not a valid value") }
            return parsed
        }
        var configuration = ServerConfiguration()
        configuration.host = try value(host, "CLINFER_HOST", { $0 }) ?? configuration.host
        configuration.port = try value(port, "CLINFER_PORT", Int.init) ?? configuration.port
        configuration.modelPath = try value(model, "CLINFER_MODEL", { $0 }) ?? configuration.modelPath
        switch try value(embeddingModel, "CLINFER_EMBEDDING_MODEL", { $0 }) {
        case "none"?: configuration.embeddingModelPath = nil
        case let path?: configuration.embeddingModelPath = path
        case nil:
            let path = ServerConfiguration.defaultEmbeddingModel
            configuration.embeddingModelPath = FileManager.default.fileExists(atPath: path) ? path : nil
        }
        configuration.modelName = try value(modelName, "CLINFER_MODEL_NAME", { $0 })
        if let device = try value(device, "CLINFER_BACKEND", { $0 }) {
            guard let backend = ComputeTarget.Preference(rawValue: device) else {
                throw ValidationError("--device must be auto, opencl or cpu, got \(device)")
            }
            configuration.backend = backend
        }
        configuration.slots = try value(slots, "CLINFER_SLOTS", Int.init) ?? configuration.slots
        configuration.contextLength = try value(context, "CLINFER_CONTEXT", Int.init)
        configuration.queueSize = try value(queueSize, "CLINFER_QUEUE_SIZE", Int.init) ?? configuration.queueSize
        configuration.promptCacheMiB =
            try value(promptCacheMiB, "CLINFER_PROMPT_CACHE_MIB", Int.init) ?? configuration.promptCacheMiB
        configuration.promptCache =
            try value(promptCache, "CLINFER_PROMPT_CACHE", { ["on": true, "off": false][$0] }) ?? true
        configuration.prefillChunk =
            try value(prefillChunk, "CLINFER_PREFILL_CHUNK", Int.init) ?? configuration.prefillChunk
        if let mode = try value(activations, "CLINFER_ACTIVATIONS", { $0 }) {
            guard let parsed = GEMVActivations(rawValue: mode) else {
                throw ValidationError("activations \(mode): exact, int16 or int8")
            }
            configuration.activations = parsed
        }
        configuration.apiKey = try value(apiKey, "CLINFER_API_KEY", { $0 })
        configuration.maxBodyBytes =
            try value(maxBodyBytes, "CLINFER_MAX_BODY_BYTES", Int.init) ?? configuration.maxBodyBytes
        /// A duration flag in seconds, range-checked before it becomes a millisecond count.
        func seconds(_ flag: Double?, _ name: String, _ variable: String) throws -> Duration? {
            guard let seconds = try value(flag, variable, Double.init) else { return nil }
            guard (0...Self.maxSeconds).contains(seconds) else {
                throw ValidationError("--\(name) must be in 0...\(Int(Self.maxSeconds)) seconds, got \(seconds)")
            }
            return .milliseconds(Int64(seconds * 1000))
        }
        if let timeout = try seconds(requestTimeout, "request-timeout", "CLINFER_REQUEST_TIMEOUT") {
            configuration.requestTimeout = timeout == .zero ? nil : timeout
        }
        configuration.shutdownGrace =
            try seconds(shutdownGrace, "shutdown-grace", "CLINFER_SHUTDOWN_GRACE") ?? configuration.shutdownGrace
        configuration.readTimeout =
            try seconds(readTimeout, "read-timeout", "CLINFER_READ_TIMEOUT") ?? configuration.readTimeout
        configuration.writeTimeout =
            try seconds(writeTimeout, "write-timeout", "CLINFER_WRITE_TIMEOUT") ?? configuration.writeTimeout
        configuration.idleTimeout =
            try seconds(idleTimeout, "idle-timeout", "CLINFER_IDLE_TIMEOUT") ?? configuration.idleTimeout
        configuration.maxConnections =
            try value(maxConnections, "CLINFER_MAX_CONNECTIONS", Int.init) ?? configuration.maxConnections
        configuration.sendBufferBytes = try value(sendBufferBytes, "CLINFER_SEND_BUFFER_BYTES", Int.init)
        do {
            try configuration.validate()
        } catch {
            throw ValidationError(error.message)
        }
        return configuration
    }

    /// The longest timeout or grace period accepted (30 days): longer ones are a typo, and would
    /// overflow a millisecond count.
    static let maxSeconds: Double = 30 * 86_400

    /// The log level: flag, then environment, then info.
    func level(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Logger.Level {
        let text = logLevel ?? environment["CLINFER_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: text) else {
            throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical")
        }
        return level
    }

    /// Checks the model paths, sets up logging (stderr) and metrics (Prometheus), and serves
    /// until SIGINT or SIGTERM.
    public func run() async throws {
        let configuration = try configuration()
        guard FileManager.default.fileExists(atPath: configuration.modelPath) else {
            throw ValidationError(
                "no model at \(configuration.modelPath); run `make models` (or scripts/fetch-models.sh) to fetch the default one, or pass --model"
            )
        }
        if let directory = configuration.embeddingModelPath, !FileManager.default.fileExists(atPath: directory) {
            throw ValidationError(
                "no embedding model directory at \(directory); pass --embedding-model none to serve without embeddings")
        }
        let level = try level()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let metrics = ServerMetrics()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
        let server = ClinferHTTPServer(
            configuration: configuration, logger: Logger(label: "clinfer.server"), metrics: metrics)
        try await server.run()
    }
}

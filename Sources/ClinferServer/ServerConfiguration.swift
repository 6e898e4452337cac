import ClinferEngine
import ClinferOps
import Foundation

/// Everything `clinfer-server` can be told (flags, or `CLINFER_*` environment variables, see
/// ``ServeOptions``).
public struct ServerConfiguration: Sendable {
    /// Address to bind (default 127.0.0.1: local only; 0.0.0.0 for every interface).
    public var host: String
    /// TCP port (0: an ephemeral port).
    public var port: Int
    /// The GGUF chat/completion model.
    public var modelPath: String
    /// The sentence-embedding model directory; nil serves no embeddings.
    public var embeddingModelPath: String?
    /// The id clients send as `model` (default: the GGUF file name without `.gguf`).
    public var modelName: String?
    /// The embedding model's id (default: the directory name).
    public var embeddingModelName: String?
    /// OpenCL, CPU, or OpenCL when a device exists (the device itself is `CLINFER_DEVICE`).
    public var backend: ComputeTarget.Preference
    /// Sequences generated at once.
    public var slots: Int
    /// Positions per sequence (prompt + completion); nil: min(model's, 4096).
    public var contextLength: Int?
    /// Requests that may wait for a slot; more are answered 429.
    public var queueSize: Int
    /// MiB of KV-cache slots beyond `slots` that keep earlier prompts for reuse (0: only the
    /// idle `slots` keep theirs).
    public var promptCacheMiB = 0
    /// Reuse cached prompt prefixes at all (off: every request prefills its whole prompt).
    public var promptCache = true
    /// Prompt tokens prefilled per decode round while other requests generate.
    public var prefillChunk = 256
    /// How decode matmuls over 4-bit weights read activations (``GEMVActivations``).
    public var activations = GEMVActivations.default
    /// Bearer token every request except `/health` and `/metrics` must send; nil: no auth.
    public var apiKey: String?
    /// Largest request body accepted (413 above).
    public var maxBodyBytes: Int
    /// A request still running after this long is stopped (504, or an error event when
    /// streaming); nil: no limit.
    public var requestTimeout: Duration?
    /// On SIGINT/SIGTERM, running requests get this long to finish before they are cancelled.
    public var shutdownGrace: Duration
    /// A request's body must arrive within this long of its head, or the connection is closed
    /// (a head that never completes is bounded by ``idleTimeout``).
    public var readTimeout: Duration
    /// A response write the client does not read for this long closes the connection (a slow
    /// reader frees its slot and its place in the queue).
    public var writeTimeout: Duration
    /// A keep-alive connection with no request for this long is closed.
    public var idleTimeout: Duration
    /// Connections open at once; further ones wait in the listen backlog until one closes.
    public var maxConnections: Int
    /// Each connection's kernel send buffer in bytes (`SO_SNDBUF`); nil: the kernel's
    /// autotuning (up to 4 MiB a connection on Linux). Smaller bounds the memory a slow reader
    /// holds and lets ``writeTimeout`` notice it sooner.
    public var sendBufferBytes: Int?

    public init(
        host: String = "127.0.0.1", port: Int = 8080, modelPath: String = ServerConfiguration.defaultModel,
        embeddingModelPath: String? = ServerConfiguration.defaultEmbeddingModel, modelName: String? = nil,
        embeddingModelName: String? = nil,
        backend: ComputeTarget.Preference = .fromEnvironment, slots: Int = 4, contextLength: Int? = nil,
        queueSize: Int = 32,
        apiKey: String? = nil, maxBodyBytes: Int = 4 << 20, requestTimeout: Duration? = .seconds(600),
        shutdownGrace: Duration = .seconds(30),
        readTimeout: Duration = .seconds(30), writeTimeout: Duration = .seconds(30),
        idleTimeout: Duration = .seconds(60),
        maxConnections: Int = 256, sendBufferBytes: Int? = nil
    ) {
        self.host = host
        self.port = port
        self.modelPath = modelPath
        self.embeddingModelPath = embeddingModelPath
        self.modelName = modelName
        self.embeddingModelName = embeddingModelName
        self.backend = backend
        self.slots = slots
        self.contextLength = contextLength
        self.queueSize = queueSize
        self.apiKey = apiKey
        self.maxBodyBytes = maxBodyBytes
        self.requestTimeout = requestTimeout
        self.shutdownGrace = shutdownGrace
        self.readTimeout = readTimeout
        self.writeTimeout = writeTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.sendBufferBytes = sendBufferBytes
    }

    public static let defaultModel = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    public static let defaultEmbeddingModel = "models/all-MiniLM-L6-v2"

    /// The id of the language model: ``modelName``, else the file name without `.gguf`.
    public var languageModelID: String {
        modelName ?? ((modelPath as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    /// The id of the embedding model: ``embeddingModelName``, else the directory name.
    public var embeddingModelID: String? {
        embeddingModelName
            ?? embeddingModelPath.map { (($0 as NSString).standardizingPath as NSString).lastPathComponent }
    }

    /// Checks ranges; the message names the flag.
    public func validate() throws(APIError) {
        func fail(_ message: String) -> APIError {
            APIError(status: .badRequest, message: message, type: "configuration_error")
        }
        guard (0...65535).contains(port) else { throw fail("--port must be in 0...65535, got \(port)") }
        guard slots >= 1 else { throw fail("--slots must be ≥ 1, got \(slots)") }
        guard queueSize >= 0 else { throw fail("--queue-size must be ≥ 0, got \(queueSize)") }
        guard prefillChunk >= 1 else { throw fail("--prefill-chunk must be ≥ 1, got \(prefillChunk)") }
        guard (0...(1 << 20)).contains(promptCacheMiB) else {
            throw fail("--prompt-cache-mib must be in 0...\(1 << 20), got \(promptCacheMiB)")
        }
        guard contextLength.map({ $0 >= 2 }) ?? true else { throw fail("--context must be ≥ 2") }
        guard maxBodyBytes >= 1024 else { throw fail("--max-body-bytes must be ≥ 1024, got \(maxBodyBytes)") }
        guard apiKey.map({ !$0.isEmpty }) ?? true else { throw fail("--api-key must not be empty") }
        guard maxConnections >= 1 else { throw fail("--max-connections must be ≥ 1, got \(maxConnections)") }
        guard sendBufferBytes.map({ (1024...(1 << 30)).contains($0) }) ?? true else {
            throw fail("--send-buffer-bytes must be in 1024...\(1 << 30)")
        }
        for (flag, value) in [
            ("--read-timeout", readTimeout), ("--write-timeout", writeTimeout), ("--idle-timeout", idleTimeout),
        ] where value <= .zero {
            throw fail("\(flag) must be > 0")
        }
    }
}

extension ServerConfiguration {
    /// The language model's load options: its slots, the prompt cache's memory, and a wait queue
    /// with room for everything the admission gate lets in (`--queue-size`, each request with up
    /// to ``SamplingFields/maxChoices`` sequences) plus one more per slot for sequences still
    /// winding down when their request's place is already free. The gate decides who waits (429
    /// past it); the engine never refuses what it admitted, so a streamed request never gets a
    /// 200 and then a queue-full error event.
    public var languageModelOptions: LanguageModel.LoadOptions {
        LanguageModel.LoadOptions(
            backend: backend, contextLength: contextLength, slots: slots,
            maxWaiting: (queueSize + slots) * SamplingFields.maxChoices, promptCache: promptCache,
            promptCacheBytes: promptCacheMiB << 20, prefillChunk: prefillChunk, activations: activations)
    }
}

import ClinferEngine
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import ClinferServer

/// The real models the server tests serve (fetched by `make models` into models/, or
/// $CLINFER_MODELS_DIR), loaded once per test process on OpenCL with a 512-position context.
/// Without them a test is skipped locally and fails in CI (CI=true).
enum ServerFixture {
    static let directory: URL = {
        if let custom = ProcessInfo.processInfo.environment["CLINFER_MODELS_DIR"] {
            return URL(fileURLWithPath: custom)
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../models")
            .standardized
    }()
    static let languagePath = directory.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf").path
    static let embeddingPath = directory.appendingPathComponent("all-MiniLM-L6-v2").path
    static let context = 512
    static let languageID = "SmolLM2-135M-Instruct.Q4_1"
    static let embeddingID = "all-MiniLM-L6-v2"

    /// Whether the models exist; records a failure in CI when they do not.
    static var available: Bool {
        if FileManager.default.fileExists(atPath: languagePath), FileManager.default.fileExists(atPath: embeddingPath) {
            return true
        }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("\(languagePath) or \(embeddingPath) is missing: CI must fetch the models (make models)")
        }
        return false
    }

    /// The embedding model, loaded once per test process.
    static let embedding = Result { try EmbeddingModel(directory: embeddingPath, options: .init(backend: .opencl)) }
    /// Language models by (slots, queue size), loaded once each, with the load options the server
    /// itself uses for that configuration.
    private static let languageModels = Mutex<[String: Result<LanguageModel, any Error>]>([:])

    static func models(slots: Int = 2, queueSize: Int = 4) throws -> ServedModels {
        let language = try languageModels.withLock { loaded in
            let key = "\(slots)/\(queueSize)"
            if let model = loaded[key] { return model }
            let model = Result {
                try LanguageModel(
                    path: languagePath, options: configuration(slots: slots, queueSize: queueSize).languageModelOptions)
            }
            loaded[key] = model
            return model
        }.get()
        return ServedModels(
            language: language, languageID: languageID, embedding: try embedding.get(), embeddingID: embeddingID)
    }

    static var logger: Logger {
        var logger = Logger(label: "clinfer.server.tests")
        logger.logLevel =
            ProcessInfo.processInfo.environment["CLINFER_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }

    /// A server on an ephemeral port serving the shared models (or loading them with `load`).
    static func server(
        slots: Int = 2, queueSize: Int = 4, apiKey: String? = nil, maxBodyBytes: Int = 64 << 10,
        requestTimeout: Duration? = .seconds(60), readTimeout: Duration = .seconds(30),
        writeTimeout: Duration = .seconds(30),
        sendBufferBytes: Int? = nil, load: (@Sendable () async throws -> ServedModels)? = nil
    ) -> ClinferHTTPServer {
        var configuration = configuration(slots: slots, queueSize: queueSize)
        configuration.apiKey = apiKey
        configuration.maxBodyBytes = maxBodyBytes
        configuration.requestTimeout = requestTimeout
        configuration.readTimeout = readTimeout
        configuration.writeTimeout = writeTimeout
        configuration.sendBufferBytes = sendBufferBytes
        return ClinferHTTPServer(
            configuration: configuration, logger: logger,
            load: load ?? { try models(slots: slots, queueSize: queueSize) })
    }

    /// The test servers' configuration: ephemeral port, the fixture's models on OpenCL, context 512.
    static func configuration(slots: Int, queueSize: Int) -> ServerConfiguration {
        ServerConfiguration(
            host: "127.0.0.1", port: 0, modelPath: languagePath, embeddingModelPath: embeddingPath, backend: .opencl,
            slots: slots, contextLength: context, queueSize: queueSize)
    }
}

extension ClinferHTTPServer {
    /// Runs `test` against the server on a real socket, once its models are ready.
    func test<Value: Sendable>(
        waitForModels: Bool = true, _ test: @escaping @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        try await makeApplication().test(.live) { client in
            if waitForModels { try await state.waitUntilReady() }
            return try await test(client)
        }
    }
}

extension ServerState {
    func waitUntilReady() async throws {
        try await eventually("models ready") { if case .ready = models.current { true } else { false } }
    }
}

/// ``eventually(_:timeout:_:)`` for conditions that need to await (a request to the server).
func eventuallyAsync(
    _ what: String, timeout: Duration = .seconds(20), _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        if ContinuousClock.now > deadline {
            Issue.record("timed out waiting for: \(what)")
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}

/// Polls `condition` every 20 ms until it holds; fails the test after `timeout`.
func eventually(_ what: String, timeout: Duration = .seconds(20), _ condition: @Sendable () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now > deadline {
            Issue.record("timed out waiting for: \(what)")
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

extension TestClientProtocol {
    func post(
        _ uri: String, _ body: String, headers: HTTPFields = [.contentType: "application/json"]
    ) async throws -> TestResponse {
        try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    func post(_ uri: String, json: [String: Any], headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        let data = try JSONSerialization.data(withJSONObject: json)
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: data))
    }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await execute(uri: uri, method: .get, headers: headers)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body as a JSON object.
    var json: [String: Any] {
        get throws {
            try #require(
                try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
                "not a JSON object: \(text)")
        }
    }

    /// `error.code` of an OpenAI-shaped error body (and checks its shape).
    var errorCode: String? {
        get throws {
            let error = try #require(try json["error"] as? [String: Any], "no error object in \(text)")
            #expect(error["message"] is String)
            #expect(error["type"] is String)
            #expect(error.keys.contains("param") && error.keys.contains("code"))
            return error["code"] as? String
        }
    }

    /// The `data:` payloads of a server-sent-event stream, in order (`[DONE]` included).
    var events: [String] {
        text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
            #expect(event.hasPrefix("data: "), "not an SSE data line: \(event)")
            return String(event.dropFirst("data: ".count))
        }
    }
}

/// Parses an SSE payload as a JSON object.
func object(_ payload: String) throws -> [String: Any] {
    try #require(
        try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any], "not a JSON object: \(payload)")
}

/// A second connection to the server, for requests running alongside the test client's.
func connection(_ port: Int?) throws -> TestClient {
    let client = TestClient(host: "127.0.0.1", port: try #require(port))
    client.connect()
    return client
}

/// A request that generates `tokens` tokens whatever the model says (to hold a slot a while).
func longStream(tokens: Int = 400, stream: Bool = true) throws -> TestClient.Request {
    let body: [String: Any] = [
        "messages": [["role": "user", "content": "Count to a thousand."]], "max_tokens": tokens,
        "ignore_eos": true, "stream": stream, "temperature": 0,
    ]
    return TestClient.Request(
        "/v1/chat/completions", method: .post, authority: "localhost", headers: [.contentType: "application/json"],
        body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
}

import ClinferEngine
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ClinferServer

extension ServerTests {
    /// Clients that stop cooperating lose their connection, and with it their slot and their
    /// place in the queue, within the configured timeouts.
    @Suite("Slow clients: read and write deadlines, embeddings timeout, admission order")
    struct SlowClients {
        /// `clinfer_connections_expired_total` from `/metrics`.
        static func expiredConnections(_ client: any TestClientProtocol) async throws -> Int {
            let text = try await client.get("/metrics").text
            let line = text.split(separator: "\n").first { $0.hasPrefix("clinfer_connections_expired_total") }
            return Int(Double(line?.split(separator: " ").last ?? "0") ?? 0)
        }

        @Test("a streaming client that never reads is disconnected after --write-timeout, freeing its slot and ticket")
        func slowReader() async throws {
            // A 4 KiB send buffer: the kernel would otherwise absorb megabytes on loopback.
            let server = ServerFixture.server(writeTimeout: .seconds(1), sendBufferBytes: 4096)
            try await server.test { client in
                let socket = try RawSocket(port: try #require(client.port), receiveBuffer: 2048)
                let body =
                    #"{"messages":[{"role":"user","content":"Count to a thousand."}],"max_tokens":470,"ignore_eos":true,"stream":true,"temperature":0}"#
                try socket.send(RawSocket.post("/v1/chat/completions", body: body))
                // 470 events of ~170 bytes overflow the small socket buffers long before the last
                // token; then writes stop completing and the deadline closes the connection.
                try await eventuallyAsync("the stalled stream's connection is closed", timeout: .seconds(40)) {
                    try await Self.expiredConnections(client) >= 1
                }
                try await eventually("its slot and ticket are free", timeout: .seconds(10)) {
                    server.state.generationRequestsInFlight == 0 && server.state.sequenceCounts == (0, 0)
                }
                #expect(socket.drainUntilClosed(timeout: .seconds(5)))
                let normal = try await client.post(
                    "/v1/chat/completions", json: ["messages": [["role": "user", "content": "Hi"]], "max_tokens": 2])
                #expect(normal.status == .ok)
            }
        }

        @Test("a request body dripped slower than --read-timeout is cut off")
        func slowWriter() async throws {
            let server = ServerFixture.server(readTimeout: .seconds(1))
            try await server.test { client in
                let socket = try RawSocket(port: try #require(client.port))
                try socket.send(RawSocket.post("/v1/chat/completions", body: #"{"messages": ["#, contentLength: 200))
                #expect(socket.drainUntilClosed(timeout: .seconds(10)), "the server kept waiting for the body")
                #expect(try await Self.expiredConnections(client) >= 1)
                #expect(server.state.generationRequestsInFlight == 0)
            }
        }

        @Test("embeddings obey the request timeout and free their ticket")
        func embeddingsTimeout() async throws {
            let server = ServerFixture.server(requestTimeout: .milliseconds(50))
            try await server.test { client in
                let texts = (0..<256).map {
                    "Sentence number \($0) is long enough to take a while to embed, with several more words after it."
                }
                let response = try await client.post("/v1/embeddings", json: ["input": texts])
                #expect(response.status == .gatewayTimeout)
                #expect(try response.errorCode == "request_timeout")
                #expect(server.state.embeddingGate.count == 0)
                await (try ServerFixture.embedding.get()).waitUntilIdle()
            }
        }

        @Test("embedding requests over the token cap are 400 too_many_tokens")
        func embeddingTokenCap() async throws {
            try await ServerFixture.server(maxBodyBytes: 4 << 20).test { client in
                let long = String(repeating: "word ", count: 300)
                let texts = [String](repeating: long, count: EmbeddingsRoute.maxTotalTokens / 256 + 1)
                let response = try await client.post("/v1/embeddings", json: ["input": texts])
                #expect(response.status == .badRequest)
                #expect(try response.errorCode == "too_many_tokens")
            }
        }

        @Test("a prompt that cannot fit the context is refused before admission and tokenization")
        func hugePromptRefusedCheaply() async throws {
            let server = ServerFixture.server(slots: 1, queueSize: 0, maxBodyBytes: 4 << 20)
            try await server.test { client in
                // The only place is taken: a request reaching admission would get 429, not 400.
                let holder = try connection(client.port)
                try await holder.executeAndDontWaitForResponse(try longStream(tokens: 300))
                try await eventually("the only slot is busy") { server.state.sequenceCounts.running == 1 }
                let huge = String(repeating: "a", count: 2 << 20)
                let chat = try await client.post(
                    "/v1/chat/completions", json: ["messages": [["role": "user", "content": huge]]])
                #expect(chat.status == .badRequest)
                #expect(try chat.errorCode == "context_length_exceeded")
                #expect(chat.text.contains("at least"))
                let completion = try await client.post("/v1/completions", json: ["prompt": huge])
                #expect(completion.status == .badRequest)
                let small = try await client.post(
                    "/v1/chat/completions", json: ["messages": [["role": "user", "content": "Hi"]]])
                #expect(small.status == .tooManyRequests)
                try await holder.shutdown()
                try await eventually("the held slot is free") { server.state.sequenceCounts == (0, 0) }
            }
        }

        @Test(
            "what the HTTP parser rejects, CONNECT, a half-sent body and a too-large body get JSON errors and a closed connection"
        )
        func malformedHTTP() async throws {
            try await ServerFixture.server().test { client in
                let port = try #require(client.port)
                func exchange(_ request: String, halfClose: Bool = false) throws -> (String, Bool) {
                    let socket = try RawSocket(port: port)
                    try socket.send(request)
                    if halfClose { socket.shutdownOutput() }
                    return socket.receiveUntilClosed(timeout: .seconds(10))
                }
                for garbage in [
                    "GET /health HTTP/1.2\r\n\r\n",
                    "POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                    "G\u{1}T / HTTP/1.1\r\n\r\n",
                ] {
                    let (text, closed) = try exchange(garbage)
                    #expect(text.hasPrefix("HTTP/1.1 400"), "\(garbage.debugDescription) → \(text)")
                    #expect(text.contains(#""code":"malformed_request""#), "\(text)")
                    #expect(closed)
                }
                let (connect, connectClosed) = try exchange("CONNECT 127.0.0.1:\(port) HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(connect.hasPrefix("HTTP/1.1 405") && connectClosed)
                // 20 of 100 bytes, then the client stops sending: 400, not 500.
                let (partial, _) = try exchange(
                    RawSocket.post("/v1/chat/completions", body: #"{"messages": [{"role""#, contentLength: 100),
                    halfClose: true)
                #expect(!partial.hasPrefix("HTTP/1.1 500"), "\(partial)")
                // A body over the limit with Connection: close: 413, then the server closes rather
                // than leave the client blocked sending a body nobody reads.
                let socket = try RawSocket(port: port)
                try socket.send(
                    "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 16777216\r\n\r\n"
                )
                let (tooLarge, closed) = socket.receiveUntilClosed(timeout: .seconds(10))
                #expect(tooLarge.hasPrefix("HTTP/1.1 413") && tooLarge.contains("request_too_large"), "\(tooLarge)")
                #expect(closed)
                let normal = try await client.get("/health")
                #expect(normal.status == .ok)
            }
        }

        @Test("a streaming client that half-closes after its request still gets the whole stream")
        func halfClosedStream() async throws {
            try await ServerFixture.server().test { client in
                let socket = try RawSocket(port: try #require(client.port))
                let body =
                    #"{"messages":[{"role":"user","content":"Say hello."}],"max_tokens":12,"stream":true,"temperature":0}"#
                try socket.send(RawSocket.post("/v1/chat/completions", body: body))
                socket.shutdownOutput()
                let (text, _) = socket.receiveUntilClosed(timeout: .seconds(30))
                #expect(text.hasPrefix("HTTP/1.1 200"), "\(text.prefix(200))")
                #expect(text.contains("data: [DONE]"), "the stream was cut short: \(text.suffix(300))")
                #expect(text.contains(#""finish_reason":"length""#) || text.contains(#""finish_reason":"stop""#))
            }
        }

        @Test("an embeddings client that disconnects frees its place at once, before its texts are embedded")
        func embeddingsDisconnect() async throws {
            let server = ServerFixture.server()
            try await server.test { client in
                let holder = try connection(client.port)
                let texts = (0..<400).map {
                    "Sentence number \($0) is long enough to take a while to embed, with several more words after it."
                }
                let body = try JSONSerialization.data(withJSONObject: ["input": texts])
                try await holder.executeAndDontWaitForResponse(
                    TestClient.Request(
                        "/v1/embeddings", method: .post, authority: "localhost",
                        headers: [.contentType: "application/json"],
                        body: ByteBuffer(bytes: body)))
                try await eventually("the request holds its place") { server.state.embeddingGate.count == 1 }
                try await holder.shutdown()
                let start = ContinuousClock.now
                try await eventually("its place is free", timeout: .seconds(5)) {
                    server.state.embeddingGate.count == 0
                }
                #expect(ContinuousClock.now - start < .seconds(2))
                let metrics = try await client.get("/metrics").text
                #expect(metrics.contains("clinfer_requests_cancelled_total 1"))
                #expect(
                    !metrics.contains("clinfer_embedding_inputs_total 400"), "the cancelled texts were embedded anyway")
                // The cancelled batch may still be on the device: let it finish before the test
                // (perhaps the process's last) ends.
                await (try ServerFixture.embedding.get()).waitUntilIdle()
            }
        }
    }
}

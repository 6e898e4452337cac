import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ClinferServer

extension ServerTests {
    @Suite("Scheduling: slots, the wait queue, disconnects, loading")
    struct Scheduling {
        @Test("slots and queue full: 429 with Retry-After; closing the clients frees every place")
        func queueFull() async throws {
            let server = ServerFixture.server(slots: 1, queueSize: 1)
            try await server.test { client in
                let holders = try (0..<2).map { _ in try connection(client.port) }
                for holder in holders { try await holder.executeAndDontWaitForResponse(try longStream()) }
                try await eventually("both requests admitted") { server.state.generationRequestsInFlight == 2 }
                let rejected = try await client.post(
                    "/v1/chat/completions", json: ["messages": [["role": "user", "content": "Hi"]], "max_tokens": 2])
                #expect(rejected.status == .tooManyRequests)
                #expect(rejected.headers[.retryAfter] == "1")
                #expect(try rejected.errorCode == "queue_full")
                let embeddings = try await client.post("/v1/embeddings", json: ["input": "still served"])
                #expect(embeddings.status == .ok)
                for holder in holders { try await holder.shutdown() }
                try await eventually("places freed") { server.state.generationRequestsInFlight == 0 }
                try await eventually("sequences ended") { server.state.sequenceCounts == (0, 0) }
                let metrics = try await client.get("/metrics").text
                #expect(metrics.contains("clinfer_requests_rejected_total 1"))
                let again = try await client.post(
                    "/v1/chat/completions", json: ["messages": [["role": "user", "content": "Hi"]], "max_tokens": 2])
                #expect(again.status == .ok)
            }
        }

        @Test(
            "a client that disconnects mid-stream cancels its sequence and frees its slot at once",
            arguments: [true, false])
        func disconnect(stream: Bool) async throws {
            let server = ServerFixture.server(slots: 2, queueSize: 2)
            try await server.test { client in
                let holder = try connection(client.port)
                try await holder.executeAndDontWaitForResponse(try longStream(tokens: 450, stream: stream))
                try await eventually("generation started") { server.state.generation.tracker.snapshot.started == 1 }
                try await holder.shutdown()
                let start = ContinuousClock.now
                try await eventually("slot freed", timeout: .seconds(5)) {
                    server.state.generationRequestsInFlight == 0 && server.state.sequenceCounts == (0, 0)
                }
                #expect(ContinuousClock.now - start < .seconds(2))
                let metrics = try await client.get("/metrics").text
                #expect(metrics.contains("clinfer_requests_cancelled_total 1"))
                let generated = metrics.split(separator: "\n").first { $0.hasPrefix("clinfer_generated_tokens_total ") }
                let count = try #require(generated.flatMap { Double($0.split(separator: " ")[1]) })
                #expect(count < 450, "the sequence ran to the end")
            }
        }

        @Test("the request timeout stops a long generation: 504, or an error event and [DONE] when streaming")
        func timeout() async throws {
            let server = ServerFixture.server(requestTimeout: .milliseconds(300))
            try await server.test { client in
                let body: [String: Any] = [
                    "messages": [["role": "user", "content": "Count."]], "max_tokens": 450, "ignore_eos": true,
                ]
                let whole = try await client.post("/v1/chat/completions", json: body)
                #expect(whole.status == .gatewayTimeout)
                #expect(try whole.errorCode == "request_timeout")
                var streamed = body
                streamed["stream"] = true
                let stream = try await client.post("/v1/chat/completions", json: streamed)
                #expect(stream.status == .ok)
                let events = stream.events
                #expect(events.last == "[DONE]")
                let error = try #require(try object(events.dropLast().last ?? "{}")["error"] as? [String: Any])
                #expect(error["code"] as? String == "request_timeout")
                try await eventually("places freed") { server.state.generationRequestsInFlight == 0 }
            }
        }

        @Test("health: 503 while the models load, 200 once ready; generation waits with 503 model_loading meanwhile")
        func health() async throws {
            let (gate, open) = AsyncStream.makeStream(of: Void.self)
            let server = ServerFixture.server(load: {
                for await _ in gate { break }
                return try ServerFixture.models()
            })
            try await server.test(waitForModels: false) { client in
                let loading = try await client.get("/health")
                #expect(loading.status == .serviceUnavailable)
                #expect(try loading.json["status"] as? String == "loading")
                let early = try await client.post(
                    "/v1/chat/completions", json: ["messages": [["role": "user", "content": "Hi"]]])
                #expect(early.status == .serviceUnavailable)
                #expect(try early.errorCode == "model_loading")
                #expect(early.headers[.retryAfter] != nil)
                #expect(try await client.get("/metrics").text.contains("clinfer_model_ready 0.0"))
                open.yield()
                try await server.state.waitUntilReady()
                let ready = try await client.get("/health")
                #expect(ready.status == .ok)
                #expect(try ready.json["status"] as? String == "ok")
                #expect(try ready.json["model"] as? String == ServerFixture.languageID)
            }
        }

        @Test("concurrent streams all complete with [DONE] and the server returns to idle")
        func concurrent() async throws {
            let server = ServerFixture.server(slots: 2, queueSize: 4)
            try await server.test { client in
                let port = try #require(client.port)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<4 {
                        group.addTask {
                            try await TestClient.withClient(host: "127.0.0.1", port: port) { connection in
                                let body: [String: Any] = [
                                    "prompt": "Item \(index):", "max_tokens": 6, "ignore_eos": true, "stream": true,
                                ]
                                let response = try await connection.execute(
                                    TestClient.Request(
                                        "/v1/completions", method: .post, authority: "localhost",
                                        headers: [.contentType: "application/json"],
                                        body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))))
                                #expect(response.status == .ok)
                                #expect(String(buffer: response.body ?? ByteBuffer()).hasSuffix("data: [DONE]\n\n"))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                try await eventually("idle") {
                    server.state.generationRequestsInFlight == 0 && server.state.sequenceCounts == (0, 0)
                }
            }
        }
    }
}

import ClinferEngine
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ClinferServer

extension ServerTests {
    @Suite("Endpoints")
    struct Endpoints {
        var messages: [[String: Any]] { [["role": "user", "content": "What is the capital of France?"]] }

        @Test("chat: non-streamed greedy reply equals the engine's, usage counts the prompt and completion tokens")
        func chat() async throws {
            let server = ServerFixture.server()
            let models = try ServerFixture.models()
            let prompt = try models.language.chatTokens([.user("What is the capital of France?")])
            let expected = try await models.language.generate(tokens: prompt, parameters: .greedy(maxTokens: 12))
                .collect()
            try await server.test { client in
                let response = try await client.post(
                    "/v1/chat/completions",
                    json: [
                        "model": ServerFixture.languageID, "messages": messages,
                        "temperature": 0, "max_tokens": 12,
                    ])
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let body = try response.json
                #expect(body["object"] as? String == "chat.completion")
                #expect((body["id"] as? String)?.hasPrefix("chatcmpl-") == true)
                #expect(body["model"] as? String == ServerFixture.languageID)
                let choice = try #require((body["choices"] as? [[String: Any]])?.first)
                let message = try #require(choice["message"] as? [String: Any])
                #expect(message["role"] as? String == "assistant")
                #expect(message["content"] as? String == expected.text)
                #expect(choice["finish_reason"] as? String == (expected.finishReason == .stop ? "stop" : "length"))
                let usage = try #require(body["usage"] as? [String: Int])
                #expect(usage["prompt_tokens"] == prompt.count)
                #expect(usage["completion_tokens"] == expected.tokens.count)
                #expect(usage["total_tokens"] == prompt.count + expected.tokens.count)
            }
        }

        @Test(
            "chat: streamed chunks, role first, finish_reason last, usage chunk, then [DONE]; same text as non-streamed"
        )
        func chatStream() async throws {
            try await ServerFixture.server().test { client in
                let request: [String: Any] = ["messages": messages, "temperature": 0, "max_tokens": 10]
                let whole = try await client.post("/v1/chat/completions", json: request)
                let text = try #require(
                    ((try whole.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"]
                        as? String)

                var streamed = request
                streamed["stream"] = true
                streamed["stream_options"] = ["include_usage": true]
                let response = try await client.post("/v1/chat/completions", json: streamed)
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/event-stream")
                let events = response.events
                #expect(events.last == "[DONE]")
                let chunks = try events.dropLast().map(object)
                #expect(chunks.count >= 3)
                #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
                #expect(Set(chunks.compactMap { $0["id"] as? String }).count == 1)
                let first = try #require((chunks.first?["choices"] as? [[String: Any]])?.first)
                #expect((first["delta"] as? [String: Any])?["role"] as? String == "assistant")
                let choices = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first }
                let content = choices.compactMap { ($0["delta"] as? [String: Any])?["content"] as? String }.joined()
                #expect(content == text)
                let reasons = choices.compactMap { $0["finish_reason"] as? String }
                #expect(reasons.count == 1)
                #expect(choices.last?["finish_reason"] as? String != nil)
                let usageChunk = try #require(chunks.last)
                #expect((usageChunk["choices"] as? [Any])?.isEmpty == true)
                let usage = try #require(usageChunk["usage"] as? [String: Int])
                #expect(usage["completion_tokens"].map { $0 > 0 && $0 <= 10 } == true)
                #expect(usage["total_tokens"] == usage["prompt_tokens"]! + usage["completion_tokens"]!)
                #expect(chunks.dropLast().allSatisfy { $0.keys.contains("usage") && $0["usage"] is NSNull })
            }
        }

        @Test("max_tokens and max_completion_tokens bound the completion (finish_reason length)")
        func maxTokens() async throws {
            try await ServerFixture.server().test { client in
                for key in ["max_tokens", "max_completion_tokens"] {
                    let response = try await client.post(
                        "/v1/chat/completions", json: ["messages": messages, key: 5, "ignore_eos": true, "seed": 7])
                    let body = try response.json
                    #expect((body["usage"] as? [String: Int])?["completion_tokens"] == 5)
                    #expect((body["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String == "length")
                }
            }
        }

        @Test("a stop string ends the completion before it (finish_reason stop), also when streamed")
        func stopSequences() async throws {
            try await ServerFixture.server().test { client in
                let base: [String: Any] = [
                    "prompt": "The numbers from one to ten are: one, two, three,", "temperature": 0, "max_tokens": 16,
                    "ignore_eos": true,
                ]
                let free = try await client.post("/v1/completions", json: base)
                let text = try #require((try free.json["choices"] as? [[String: Any]])?.first?["text"] as? String)
                let words = text.split(separator: " ")
                try #require(words.count >= 3, "the completion is too short to pick a stop string: \(text)")
                let stop = String(words[2])
                let cut = try #require(text.range(of: stop))
                var stopped = base
                stopped["stop"] = [stop, "never-appears"]
                let response = try await client.post("/v1/completions", json: stopped)
                let choice = try #require((try response.json["choices"] as? [[String: Any]])?.first)
                #expect(choice["text"] as? String == String(text[..<cut.lowerBound]))
                #expect(choice["finish_reason"] as? String == "stop")

                stopped["stream"] = true
                stopped["stop"] = stop
                let streamed = try await client.post("/v1/completions", json: stopped)
                let chunks = try streamed.events.dropLast().map(object)
                let pieces = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first }
                #expect(pieces.compactMap { $0["text"] as? String }.joined() == String(text[..<cut.lowerBound]))
                #expect(pieces.last?["finish_reason"] as? String == "stop")
                #expect(streamed.events.last == "[DONE]")
            }
        }

        @Test("completions: a string, a list of prompts (one choice each), token ids, echo")
        func completions() async throws {
            let models = try ServerFixture.models()
            try await ServerFixture.server().test { client in
                let single = try await client.post(
                    "/v1/completions",
                    json: [
                        "model": ServerFixture.languageID, "prompt": "Once upon a time",
                        "max_tokens": 6, "temperature": 0,
                    ])
                #expect(single.status == .ok)
                let body = try single.json
                #expect(body["object"] as? String == "text_completion")
                let text = try #require((body["choices"] as? [[String: Any]])?.first?["text"] as? String)
                let usage = try #require(body["usage"] as? [String: Int])
                #expect(usage["prompt_tokens"] == models.language.tokenizer.encode("Once upon a time").count)

                let many = try await client.post(
                    "/v1/completions",
                    json: [
                        "prompt": ["Once upon a time", "The sky is"], "max_tokens": 4,
                        "temperature": 0, "ignore_eos": true,
                    ])
                let choices = try #require(try many.json["choices"] as? [[String: Any]])
                #expect(choices.map { $0["index"] as? Int } == [0, 1])
                #expect(
                    choices[0]["text"] as? String == String(text.prefix((choices[0]["text"] as? String)?.count ?? 0)))
                #expect((try many.json["usage"] as? [String: Int])?["completion_tokens"] == 8)

                let ids = models.language.tokenizer.encode("Once upon a time")
                let tokens = try await client.post(
                    "/v1/completions", json: ["prompt": ids, "max_tokens": 6, "temperature": 0])
                #expect((try tokens.json["choices"] as? [[String: Any]])?.first?["text"] as? String == text)

                let echo = try await client.post(
                    "/v1/completions",
                    json: ["prompt": "Once upon a time", "max_tokens": 6, "temperature": 0, "echo": true])
                #expect(
                    (try echo.json["choices"] as? [[String: Any]])?.first?["text"] as? String == "Once upon a time"
                        + text)
            }
        }

        @Test("a seed reproduces a sampled completion")
        func seed() async throws {
            try await ServerFixture.server().test { client in
                let request: [String: Any] = [
                    "prompt": "My favourite colour is", "max_tokens": 8, "temperature": 1.0, "seed": 1234,
                    "presence_penalty": 0.5, "frequency_penalty": 0.5, "top_p": 0.9,
                ]
                let a = try await client.post("/v1/completions", json: request)
                let b = try await client.post("/v1/completions", json: request)
                #expect(a.status == .ok)
                #expect(
                    (try a.json["choices"] as? [[String: Any]])?.first?["text"] as? String
                        == (try b.json["choices"] as? [[String: Any]])?.first?["text"] as? String)
            }
        }

        @Test("embeddings: one vector per input in order, float and base64 agree, usage counts tokens")
        func embeddings() async throws {
            let models = try ServerFixture.models()
            let embedder = try #require(models.embedding)
            let texts = ["A man is playing a guitar.", "The weather is nice today."]
            let expected = try await embedder.embed(texts)
            try await ServerFixture.server().test { client in
                let floats = try await client.post(
                    "/v1/embeddings", json: ["model": ServerFixture.embeddingID, "input": texts])
                #expect(floats.status == .ok)
                let body = try floats.json
                #expect(body["object"] as? String == "list")
                #expect(body["model"] as? String == ServerFixture.embeddingID)
                let data = try #require(body["data"] as? [[String: Any]])
                #expect(data.map { $0["index"] as? Int } == [0, 1])
                let vectors = data.map { ($0["embedding"] as? [Double] ?? []).map(Float.init) }
                #expect(vectors.map(\.count) == [embedder.dimension, embedder.dimension])
                for (vector, reference) in zip(vectors, expected) {
                    #expect(zip(vector, reference).allSatisfy { abs($0 - $1) < 1e-6 })
                }
                let tokens = texts.map { embedder.tokenize($0).count }.reduce(0, +)
                #expect((body["usage"] as? [String: Int])?["prompt_tokens"] == tokens)

                let base64 = try await client.post(
                    "/v1/embeddings", json: ["input": texts[0], "encoding_format": "base64"])
                let encoded = try #require(
                    ((try base64.json["data"] as? [[String: Any]])?.first)?["embedding"] as? String)
                let bytes = try #require(Data(base64Encoded: encoded))
                let decoded = stride(from: 0, to: bytes.count, by: 4).map { offset in
                    Float(
                        bitPattern: bytes[offset..<offset + 4].enumerated().reduce(UInt32(0)) {
                            $0 | UInt32($1.element) << (8 * $1.offset)
                        })
                }
                let single = try await client.post(
                    "/v1/embeddings", json: ["input": texts[0], "encoding_format": "float"])
                let floats0 = try #require(
                    ((try single.json["data"] as? [[String: Any]])?.first)?["embedding"] as? [Double]
                ).map(Float.init)
                #expect(decoded == floats0)
                #expect(zip(decoded, expected[0]).allSatisfy { abs($0 - $1) < 1e-6 })
            }
        }

        @Test("models list both served models; /v1/models/{id} finds one, 404 for others")
        func modelList() async throws {
            try await ServerFixture.server().test { client in
                let list = try await client.get("/v1/models")
                #expect(list.status == .ok)
                let data = try #require(try list.json["data"] as? [[String: Any]])
                #expect(
                    data.compactMap { $0["id"] as? String } == [ServerFixture.languageID, ServerFixture.embeddingID])
                #expect(
                    data.allSatisfy { $0["object"] as? String == "model" && $0["owned_by"] as? String == "clinfer" })
                let one = try await client.get("/v1/models/\(ServerFixture.languageID)")
                #expect(try one.json["id"] as? String == ServerFixture.languageID)
                let missing = try await client.get("/v1/models/gpt-4")
                #expect(missing.status == .notFound)
                #expect(try missing.errorCode == "model_not_found")
            }
        }

        @Test(
            "metrics: Prometheus text with requests, tokens in and out, tok/s, TTFT and latency histograms, KV-cache use"
        )
        func metrics() async throws {
            let server = ServerFixture.server()
            try await server.test { client in
                _ = try await client.post(
                    "/v1/chat/completions", json: ["messages": messages, "max_tokens": 3, "ignore_eos": true])
                // The engine frees a finished sequence's slot just after its last chunk.
                try await eventually("engine idle") { server.state.sequenceCounts == (0, 0) }
                let response = try await client.get("/metrics")
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = response.text
                for name in [
                    "clinfer_requests_running 0.0", "clinfer_requests_waiting 0.0", "clinfer_slots 2.0",
                    "clinfer_generated_tokens_total 3",
                    "clinfer_prompt_tokens_total", "clinfer_generated_tokens_per_second",
                    "clinfer_kv_cache_usage_ratio 0.0",
                    "clinfer_time_to_first_token_seconds_count 1", "clinfer_request_duration_seconds_count 1",
                    "clinfer_model_ready 1.0",
                    "# HELP clinfer_time_to_first_token_seconds", "clinfer_time_to_first_token_seconds_bucket{le=",
                ] {
                    #expect(text.contains(name), "missing \(name) in\n\(text)")
                }
            }
        }
    }
}

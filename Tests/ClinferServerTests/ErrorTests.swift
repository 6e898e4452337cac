import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ClinferServer

extension ServerTests {
    @Suite("Errors: OpenAI-shaped JSON with the right status")
    struct Errors {
        let chat = "/v1/chat/completions"
        var hello: [[String: Any]] { [["role": "user", "content": "Hello"]] }

        @Test("malformed JSON, an empty body, wrong types, missing fields: 400 naming the parameter")
        func badRequests() async throws {
            try await ServerFixture.server().test { client in
                let malformed = try await client.post(chat, "{\"messages\": [")
                #expect(malformed.status == .badRequest)
                #expect(try malformed.errorCode == "invalid_json")
                let empty = try await client.post(chat, "")
                #expect(empty.status == .badRequest)
                #expect(try empty.errorCode == "invalid_json")
                let notObject = try await client.post(chat, "[1, 2]")
                #expect(notObject.status == .badRequest)

                let wrongType = try await client.post(chat, json: ["messages": hello, "temperature": "hot"])
                #expect(wrongType.status == .badRequest)
                #expect(try wrongType.errorCode == "invalid_type")
                #expect((try wrongType.json["error"] as? [String: Any])?["param"] as? String == "temperature")
                let wrongMessages = try await client.post(chat, json: ["messages": "Hello"])
                #expect(wrongMessages.status == .badRequest)
                #expect((try wrongMessages.json["error"] as? [String: Any])?["param"] as? String == "messages")
                let badContent = try await client.post(chat, json: ["messages": [["role": "user", "content": 42]]])
                #expect(badContent.status == .badRequest)
                #expect((try badContent.json["error"] as? [String: Any])?["param"] as? String == "messages[0].content")
                let missing = try await client.post(chat, json: ["model": ServerFixture.languageID])
                #expect(missing.status == .badRequest)
                #expect(try missing.errorCode == "missing_required_parameter")
                let noPrompt = try await client.post("/v1/completions", json: ["max_tokens": 3])
                #expect(noPrompt.status == .badRequest)
                #expect((try noPrompt.json["error"] as? [String: Any])?["param"] as? String == "prompt")
            }
        }

        @Test("out-of-range sampling parameters and unsupported options: 400 with the parameter")
        func badParameters() async throws {
            try await ServerFixture.server().test { client in
                let cases: [(String, Any)] = [
                    ("temperature", 3), ("top_p", 0), ("top_p", 1.5), ("max_tokens", 0), ("max_completion_tokens", -1),
                    ("presence_penalty", 5), ("frequency_penalty", -3), ("n", 9), ("logprobs", 3), ("stop", [""]),
                    ("top_k", -1), ("min_p", 2),
                ]
                for (param, value) in cases {
                    let response = try await client.post(chat, json: ["messages": hello, param: value])
                    #expect(response.status == .badRequest, "\(param) = \(value)")
                    #expect(
                        (try response.json["error"] as? [String: Any])?["param"] as? String == param,
                        "\(param) = \(value)")
                }
                let role = try await client.post(chat, json: ["messages": [["role": "wizard", "content": "hi"]]])
                #expect(role.status == .badRequest)
                let image = try await client.post(
                    chat,
                    json: [
                        "messages": [["role": "user", "content": [["type": "image_url", "image_url": ["url": "x"]]]]]
                    ])
                #expect(image.status == .badRequest)
            }
        }

        @Test("empty messages and empty prompts: 400")
        func emptyInput() async throws {
            try await ServerFixture.server().test { client in
                let messages = try await client.post(chat, json: ["messages": [Any]()])
                #expect(messages.status == .badRequest)
                #expect(try messages.errorCode == "empty_messages")
                let prompts = try await client.post("/v1/completions", json: ["prompt": [String]()])
                #expect(prompts.status == .badRequest)
                let tokens = try await client.post("/v1/completions", json: ["prompt": [Int]()])
                #expect(tokens.status == .badRequest)
                #expect(try tokens.errorCode == "empty_prompt")
                let inputs = try await client.post("/v1/embeddings", json: ["input": [String]()])
                #expect(inputs.status == .badRequest)
            }
        }

        @Test("unknown model: 404 model_not_found; the embedding model cannot chat, nor the chat model embed")
        func unknownModel() async throws {
            try await ServerFixture.server().test { client in
                let chat = try await client.post(chat, json: ["model": "gpt-4o", "messages": hello])
                #expect(chat.status == .notFound)
                #expect(try chat.errorCode == "model_not_found")
                #expect((try chat.json["error"] as? [String: Any])?["param"] as? String == "model")
                let embeddings = try await client.post(
                    "/v1/embeddings", json: ["model": "text-embedding-3-small", "input": "hi"])
                #expect(embeddings.status == .notFound)
                let crossed = try await client.post(
                    "/v1/chat/completions", json: ["model": ServerFixture.embeddingID, "messages": hello])
                #expect(crossed.status == .badRequest)
                let crossedBack = try await client.post(
                    "/v1/embeddings", json: ["model": ServerFixture.languageID, "input": "hi"])
                #expect(crossedBack.status == .badRequest)
            }
        }

        @Test("a prompt over the context, or prompt plus max_tokens over it: 400 context_length_exceeded")
        func contextLength() async throws {
            try await ServerFixture.server().test { client in
                let long = String(repeating: "hello world ", count: ServerFixture.context)
                let prompt = try await client.post("/v1/completions", json: ["prompt": long, "max_tokens": 1])
                #expect(prompt.status == .badRequest)
                #expect(try prompt.errorCode == "context_length_exceeded")
                let chat = try await client.post(chat, json: ["messages": [["role": "user", "content": long]]])
                #expect(chat.status == .badRequest)
                #expect(try chat.errorCode == "context_length_exceeded")
                let total = try await client.post(
                    "/v1/completions", json: ["prompt": "Hello", "max_tokens": ServerFixture.context])
                #expect(total.status == .badRequest)
                #expect(try total.errorCode == "context_length_exceeded")
                #expect((try total.json["error"] as? [String: Any])?["param"] as? String == "max_tokens")
            }
        }

        @Test("a body over the limit: 413; a wrong method: 405 with Allow; an unknown path: 404")
        func transport() async throws {
            try await ServerFixture.server(maxBodyBytes: 4096).test { client in
                let big = try await client.post(
                    chat, json: ["messages": [["role": "user", "content": String(repeating: "x", count: 10_000)]]])
                #expect(big.status == .contentTooLarge)
                #expect(try big.errorCode == "request_too_large")
                let method = try await client.get(chat)
                #expect(method.status == .methodNotAllowed)
                #expect(method.headers[.allow] == "POST")
                #expect(try method.errorCode == "method_not_allowed")
                let health = try await client.post("/health", "{}")
                #expect(health.status == .methodNotAllowed)
                let nowhere = try await client.get("/v2/everything")
                #expect(nowhere.status == .notFound)
                #expect(try nowhere.errorCode == "not_found")
                // The server is still fine.
                let ok = try await client.post("/v1/chat/completions", json: ["messages": hello, "max_tokens": 2])
                #expect(ok.status == .ok)
            }
        }

        @Test("with an API key: 401 without it or with a wrong one, 200 with it; /health and /metrics stay open")
        func apiKey() async throws {
            try await ServerFixture.server(apiKey: "sk-test-123").test { client in
                let none = try await client.get("/v1/models")
                #expect(none.status == .unauthorized)
                #expect(try none.errorCode == "invalid_api_key")
                #expect(none.headers[.wwwAuthenticate] == "Bearer")
                let wrong = try await client.post(
                    chat, json: ["messages": hello], headers: [.authorization: "Bearer sk-test-124"])
                #expect(wrong.status == .unauthorized)
                let basic = try await client.get("/v1/models", headers: [.authorization: "Basic sk-test-123"])
                #expect(basic.status == .unauthorized)
                let right = try await client.get("/v1/models", headers: [.authorization: "Bearer sk-test-123"])
                #expect(right.status == .ok)
                #expect(try await client.get("/health").status == .ok)
                #expect(try await client.get("/metrics").status == .ok)
            }
        }
    }
}

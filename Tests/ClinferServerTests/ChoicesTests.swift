import ClinferEngine
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ClinferServer

extension ServerTests {
    @Suite("Several choices (n)")
    struct Choices {
        static var messages: [[String: Any]] { [["role": "user", "content": "Tell me a story."]] }

        @Test("chat n = 2: each choice is its seed's generation, the prompt counts once, streamed the same")
        func chat() async throws {
            let model = try ServerFixture.models().language
            let prompt = try model.chatTokens([.user("Tell me a story.")])
            var texts: [String] = []
            for index in 0..<2 {
                let parameters = GenerationParameters(
                    maxTokens: 8, temperature: 0.9, topK: 0, topP: 1, minP: 0, seed: 11 + UInt64(index))
                texts.append(try await model.generate(tokens: prompt, parameters: parameters).collect().text)
            }
            let expected = texts
            try await ServerFixture.server().test { client in
                let request: [String: Any] = [
                    "messages": Self.messages, "n": 2, "max_tokens": 8, "temperature": 0.9, "seed": 11,
                ]
                let response = try await client.post("/v1/chat/completions", json: request)
                #expect(response.status == .ok, "\(response.text)")
                let choices = try #require(try response.json["choices"] as? [[String: Any]])
                #expect(choices.map { $0["index"] as? Int } == [0, 1])
                let texts = choices.map { ($0["message"] as? [String: Any])?["content"] as? String }
                #expect(texts == expected)
                let usage = try #require(try response.json["usage"] as? [String: Int])
                #expect(usage["prompt_tokens"] == prompt.count)

                var streamed = request
                streamed["stream"] = true
                let stream = try await client.post("/v1/chat/completions", json: streamed)
                var pieces = ["", ""], roles = 0, finishes = 0
                for chunk in try stream.events.dropLast().map(object) {
                    for choice in chunk["choices"] as? [[String: Any]] ?? [] {
                        let index = try #require(choice["index"] as? Int)
                        let delta = choice["delta"] as? [String: Any]
                        if delta?["role"] != nil { roles += 1 }
                        pieces[index] += delta?["content"] as? String ?? ""
                        if choice["finish_reason"] as? String != nil { finishes += 1 }
                    }
                }
                #expect(pieces == expected)
                #expect(roles == 2 && finishes == 2)
            }
        }

        @Test("a repeated conversation prefix comes from the prompt cache, counted in /metrics, with the same reply")
        func promptCacheThroughServer() async throws {
            let model = try ServerFixture.models().language
            let prompt = try model.chatTokens([.user("Which is larger, a cat or a mouse? (cache test)")])
            try await ServerFixture.server().test { client in
                let request: [String: Any] = [
                    "messages": [["role": "user", "content": "Which is larger, a cat or a mouse? (cache test)"]],
                    "max_tokens": 6, "temperature": 0,
                ]
                let first = try await client.post("/v1/chat/completions", json: request)
                let second = try await client.post("/v1/chat/completions", json: request)
                func reply(_ response: TestResponse) throws -> String? {
                    ((try response.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?[
                        "content"]
                        as? String
                }
                #expect(try reply(first) == reply(second))
                let metrics = try await client.get("/metrics").text
                let line = metrics.split(separator: "\n").first {
                    $0.hasPrefix("clinfer_prompt_cache_hit_tokens_total ")
                }
                let hits = line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
                #expect(hits >= Double(prompt.count - 1), "\(line ?? "no metric")")
                let ratio = metrics.split(separator: "\n").first { $0.hasPrefix("clinfer_prompt_cache_hit_ratio ") }
                    .flatMap { Double($0.split(separator: " ").last ?? "") }
                #expect(ratio.map { $0 >= 0.45 && $0 <= 1 } == true, "hit ratio \(String(describing: ratio))")
            }
        }

        @Test("completions: two prompts × n = 2 in OpenAI's order; bad n is a 400")
        func completions() async throws {
            try await ServerFixture.server().test { client in
                let response = try await client.post(
                    "/v1/completions",
                    json: ["prompt": ["Once upon a time", "The sky is"], "n": 2, "max_tokens": 4, "temperature": 0])
                #expect(response.status == .ok, "\(response.text)")
                let choices = try #require(try response.json["choices"] as? [[String: Any]])
                #expect(choices.map { $0["index"] as? Int } == [0, 1, 2, 3])
                let texts = choices.map { $0["text"] as? String }
                // Greedy: both choices of a prompt agree.
                #expect(texts[0] == texts[1] && texts[2] == texts[3])
                let single = try await client.post(
                    "/v1/completions", json: ["prompt": "The sky is", "max_tokens": 4, "temperature": 0])
                #expect(((try single.json["choices"] as? [[String: Any]])?.first?["text"] as? String) == texts[2])
                for n in [0, 9, 3] {  // 3 > the test server's 2 slots
                    let bad = try await client.post(
                        "/v1/chat/completions", json: ["messages": Self.messages, "n": n, "max_tokens": 1])
                    #expect(bad.status == .badRequest, "n = \(n)")
                    #expect((try bad.json["error"] as? [String: Any])?["param"] as? String == "n", "n = \(n)")
                }
            }
        }
    }
}

import ClinferEngine
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ClinferServer

extension ServerTests {
    @Suite("Logprobs, tokenize and model metadata")
    struct Logprobs {
        /// The log-softmax of one logits row at `token`, in double precision.
        static func logSoftmax(_ row: [Float], _ token: Int) -> Double {
            let top = Double(row.max()!)
            let sum = row.reduce(0.0) { $0 + Foundation.exp(Double($1) - top) }
            return Double(row[token]) - top - Foundation.log(sum)
        }

        @Test("completions: echo + logprobs equal the log-softmax of the model's teacher-forced logits")
        func echoMatchesScore() async throws {
            let models = try ServerFixture.models()
            let model = models.language
            let prompt = model.tokenizer.encode("The capital of France is")
            try await ServerFixture.server().test { client in
                let response = try await client.post(
                    "/v1/completions",
                    json: ["prompt": prompt, "max_tokens": 4, "temperature": 0, "logprobs": 5, "echo": true])
                #expect(response.status == .ok, "\(response.text)")
                let choice = try #require((try response.json["choices"] as? [[String: Any]])?.first)
                let text = try #require(choice["text"] as? String)
                let logprobs = try #require(choice["logprobs"] as? [String: Any])
                let tokens = try #require(logprobs["tokens"] as? [String])
                let values = try #require(logprobs["token_logprobs"] as? [Any])
                let tops = try #require(logprobs["top_logprobs"] as? [Any])
                let offsets = try #require(logprobs["text_offset"] as? [Int])
                let completion = try #require((try response.json["usage"] as? [String: Int])?["completion_tokens"])
                #expect(tokens.count == prompt.count + completion)
                #expect(values.count == tokens.count && tops.count == tokens.count && offsets.count == tokens.count)
                #expect(values.first is NSNull && tops.first is NSNull)

                // Every position against the model's own logits for prompt + completion.
                let generated = try await model.generate(tokens: prompt, parameters: .greedy(maxTokens: 4)).collect()
                let all = prompt + generated.tokens
                #expect(all.count == tokens.count)
                let rows = try await model.logits(tokens: all)
                for position in 1..<all.count {
                    let reported = try #require(values[position] as? Double)
                    let expected = Self.logSoftmax(rows[position - 1], all[position])
                    // Prompt positions come from the same prefill; generated ones from decode steps
                    // (the GEMV path), whose logits differ from a prefill's by summation order.
                    let tolerance = position < prompt.count ? 1e-4 : 2e-3
                    #expect(abs(reported - expected) <= tolerance, "position \(position): \(reported) vs \(expected)")
                    let top = try #require(tops[position] as? [String: Double])
                    #expect(top.count >= 1 && top.count <= 5)
                    if position >= prompt.count {
                        // Greedy: the chosen token is the most likely one.
                        #expect(abs(top.values.max()! - reported) <= 1e-6)
                    }
                }
                // Offsets index the echoed text: each token's text starts there.
                let characters = Array(text)
                for (token, offset) in zip(tokens, offsets) where !token.hasPrefix("bytes:") {
                    #expect(String(characters[offset..<min(characters.count, offset + token.count)]) == token)
                }
                #expect(offsets == offsets.sorted())
            }
        }

        @Test("with logprobs, an end token the model picks is reported as the last entry, with no text")
        func endTokenEntry() async throws {
            let model = try ServerFixture.models().language
            // A finished chat turn: the model's next token is its end-of-turn token.
            let prompt = try model.chatTokens([.user("Say OK.")])
            let reply = try await model.generate(tokens: prompt, parameters: .greedy(maxTokens: 32)).collect()
            #expect(reply.finishReason == .stop)
            try await ServerFixture.server().test { client in
                let response = try await client.post(
                    "/v1/completions",
                    json: [
                        "prompt": prompt + reply.tokens, "max_tokens": 1, "temperature": 0, "logprobs": 1, "echo": true,
                    ])
                let choice = try #require((try response.json["choices"] as? [[String: Any]])?.first)
                let logprobs = try #require(choice["logprobs"] as? [String: Any])
                let tokens = try #require(logprobs["tokens"] as? [String])
                // Prompt entries, then the end token's (its text is not part of `text`).
                #expect(tokens.count == prompt.count + reply.tokens.count + 1)
                #expect(model.endTokens.contains(try #require(model.tokenizer.id(of: tokens.last ?? ""))))
                #expect(choice["finish_reason"] as? String == "stop")
                #expect((choice["text"] as? String)?.hasSuffix(tokens.last ?? "") == false)
            }
        }

        @Test("completions: max_tokens 0 with echo scores the prompt only; without echo it is a 400")
        func scoringOnly() async throws {
            try await ServerFixture.server().test { client in
                let response = try await client.post(
                    "/v1/completions",
                    json: ["prompt": "Paris is a city", "max_tokens": 0, "logprobs": 0, "echo": true])
                #expect(response.status == .ok, "\(response.text)")
                let choice = try #require((try response.json["choices"] as? [[String: Any]])?.first)
                #expect(choice["text"] as? String == "Paris is a city")
                let logprobs = try #require(choice["logprobs"] as? [String: Any])
                let values = try #require(logprobs["token_logprobs"] as? [Any])
                #expect(values.count == (try response.json["usage"] as? [String: Int])?["prompt_tokens"])
                #expect(values.dropFirst().allSatisfy { ($0 as? Double).map { $0 < 0 } == true })
                let tops = try #require(logprobs["top_logprobs"] as? [Any])
                #expect(tops.dropFirst().allSatisfy { ($0 as? [String: Double])?.isEmpty == true })
                let noEcho = try await client.post("/v1/completions", json: ["prompt": "Paris", "max_tokens": 0])
                #expect(noEcho.status == .badRequest)
            }
        }

        @Test("chat: logprobs in the chat shape, streamed the same as whole, greedy picks the top alternative")
        func chatLogprobs() async throws {
            try await ServerFixture.server().test { client in
                let request: [String: Any] = [
                    "messages": [["role": "user", "content": "Name a color."]], "max_tokens": 8, "temperature": 0,
                    "logprobs": true, "top_logprobs": 3,
                ]
                let whole = try await client.post("/v1/chat/completions", json: request)
                #expect(whole.status == .ok, "\(whole.text)")
                let choice = try #require((try whole.json["choices"] as? [[String: Any]])?.first)
                let content = try #require((choice["message"] as? [String: Any])?["content"] as? String)
                let logprobs = try #require(choice["logprobs"] as? [String: Any])
                #expect(logprobs.keys.contains("refusal"))
                let entries = try #require(logprobs["content"] as? [[String: Any]])
                #expect(entries.count == (try whole.json["usage"] as? [String: Int])?["completion_tokens"])
                var bytes: [UInt8] = []
                for entry in entries {
                    let logprob = try #require(entry["logprob"] as? Double)
                    let top = try #require(entry["top_logprobs"] as? [[String: Any]])
                    #expect(top.count == 3)
                    #expect(abs((top.first?["logprob"] as? Double ?? 1) - logprob) <= 1e-6)
                    let values = top.compactMap { $0["logprob"] as? Double }
                    #expect(values == values.sorted(by: >))
                    bytes += try #require(entry["bytes"] as? [Int]).map { UInt8($0) }
                }
                // The tokens' bytes spell the reply (no stop string was cut from it).
                if choice["finish_reason"] as? String == "length" {
                    #expect(String(decoding: bytes, as: UTF8.self) == content)
                }

                var streamed = request
                streamed["stream"] = true
                let stream = try await client.post("/v1/chat/completions", json: streamed)
                let chunks = try stream.events.dropLast().map(object)
                let streamedEntries = chunks.flatMap { chunk -> [[String: Any]] in
                    let choice = (chunk["choices"] as? [[String: Any]])?.first
                    return (choice?["logprobs"] as? [String: Any])?["content"] as? [[String: Any]] ?? []
                }
                #expect(streamedEntries.map { $0["token"] as? String } == entries.map { $0["token"] as? String })
                // The second request finds its prompt cached and prefills only the last token (the
                // decode path): values agree to summation order.
                let streamedValues = streamedEntries.compactMap { $0["logprob"] as? Double }
                let values = entries.compactMap { $0["logprob"] as? Double }
                #expect(streamedValues.count == values.count)
                #expect(zip(streamedValues, values).allSatisfy { abs($0 - $1) <= 1e-4 })
            }
        }

        @Test("bad logprobs requests: 400 naming the parameter")
        func badLogprobs() async throws {
            try await ServerFixture.server().test { client in
                let messages = [["role": "user", "content": "hi"]]
                let chat: [([String: Any], String)] = [
                    (["logprobs": 3], "logprobs"), (["top_logprobs": 2], "top_logprobs"),
                    (["logprobs": true, "top_logprobs": 21], "top_logprobs"),
                    (["logprobs": true, "top_logprobs": -1], "top_logprobs"),
                ]
                for (fields, param) in chat {
                    let body = fields.merging(["messages": messages, "max_tokens": 1]) { a, _ in a }
                    let response = try await client.post("/v1/chat/completions", json: body)
                    #expect(response.status == .badRequest, "\(fields)")
                    #expect((try response.json["error"] as? [String: Any])?["param"] as? String == param, "\(fields)")
                }
                let completions: [([String: Any], String)] = [
                    (["logprobs": 21], "logprobs"), (["logprobs": -1], "logprobs"), (["logprobs": true], "logprobs"),
                    (["top_logprobs": 2], "top_logprobs"),
                ]
                for (fields, param) in completions {
                    let body = fields.merging(["prompt": "hi", "max_tokens": 1]) { a, _ in a }
                    let response = try await client.post("/v1/completions", json: body)
                    #expect(response.status == .badRequest, "\(fields)")
                    #expect((try response.json["error"] as? [String: Any])?["param"] as? String == param, "\(fields)")
                }
            }
        }

        @Test("/tokenize and /detokenize: the model's tokenizer, pieces, round trip, bad ids and methods")
        func tokenize() async throws {
            let tokenizer = try ServerFixture.models().language.tokenizer
            try await ServerFixture.server().test { client in
                let text = "Hello world, 你好 🙂"
                let ids = try #require(
                    try await client.post("/tokenize", json: ["content": text]).json["tokens"] as? [Int])
                #expect(ids == tokenizer.encode(text, addSpecialPrefix: false))
                let pieces = try #require(
                    try await client.post("/tokenize", json: ["content": text, "with_pieces": true]).json["tokens"]
                        as? [[String: Any]])
                #expect(pieces.map { $0["id"] as? Int } == ids)
                var bytes: [UInt8] = []
                for piece in pieces {
                    if let string = piece["piece"] as? String {
                        bytes += Array(string.utf8)
                    } else {
                        bytes += try #require(piece["piece"] as? [Int]).map { UInt8($0) }
                    }
                }
                #expect(String(decoding: bytes, as: UTF8.self) == text)
                let back = try await client.post("/detokenize", json: ["tokens": ids])
                #expect(try back.json["content"] as? String == text)
                let bad = try await client.post("/detokenize", json: ["tokens": [1, tokenizer.vocabularySize]])
                #expect(bad.status == .badRequest)
                #expect(try bad.errorCode == "invalid_token")
                let malformed = try await client.post("/tokenize", json: ["text": text])
                #expect(malformed.status == .badRequest)
                let get = try await client.get("/detokenize")
                #expect(get.status == .methodNotAllowed)
                // vLLM's field names, which lm-evaluation-harness's remote tokenizer sends.
                let vllm = try await client.post("/tokenize", json: ["prompt": text, "add_special_tokens": false]).json
                #expect(vllm["tokens"] as? [Int] == ids && vllm["count"] as? Int == ids.count)
                #expect(vllm["max_model_len"] as? Int == ServerFixture.context)
                #expect(try back.json["prompt"] as? String == text)
                let info = try await client.get("/tokenizer_info").json
                #expect(info["eos_token"] as? String == "<|im_end|>" || info["eos_token"] as? String == "<|endoftext|>")
                #expect((info["chat_template"] as? String)?.contains("<|im_start|>") == true)
                #expect(info["vocab_size"] as? Int == tokenizer.vocabularySize)
            }
        }

        @Test("/v1/models/{id}: context length, vocabulary, architecture, kind and tensor types")
        func modelMetadata() async throws {
            try await ServerFixture.server().test { client in
                let language = try await client.get("/v1/models/\(ServerFixture.languageID)").json
                #expect(language["context_length"] as? Int == ServerFixture.context)
                #expect(language["vocab_size"] as? Int == 49152)
                #expect(language["architecture"] as? String == "llama")
                #expect(language["kind"] as? String == "chat")
                let types = try #require(language["tensor_types"] as? [String: Int])
                #expect((types["Q4_1"] ?? 0) > 0 && (types["F32"] ?? 0) > 0)
                let embedding = try await client.get("/v1/models/\(ServerFixture.embeddingID)").json
                #expect(embedding["dimensions"] as? Int == 384)
                #expect(embedding["kind"] as? String == "embedding")
                let list = try #require(try await client.get("/v1/models").json["data"] as? [[String: Any]])
                #expect(list.first?["context_length"] as? Int == ServerFixture.context)
            }
        }
    }
}

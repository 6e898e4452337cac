import Foundation
import Testing

@testable import ClinferEngine

/// The SmolLM2-135M-Instruct tokenizer against llama.cpp's ids.
@Suite("Tokenizer: SmolLM2 vocabulary")
struct TokenizerModelTests {

    @Test("vocabulary metadata", .enabled(if: TokenizerFixtures.required(TestModels.smolLM2)))
    func metadata() throws {
        let tokenizer = try TokenizerFixtures.tokenizer.get()
        #expect(tokenizer.vocabularySize == 49152)
        #expect(tokenizer.bosID == 1 && tokenizer.eosID == 2 && !tokenizer.addBOS)
        #expect(tokenizer.preType == "smollm" && tokenizer.preTokenizer == .smollm)
        #expect(
            tokenizer.id(of: "<|im_start|>") == 1 && tokenizer.id(of: "<|im_end|>") == 2
                && tokenizer.id(of: "<|endoftext|>") == 0)
    }

    @Test("a few known encodings", .enabled(if: TokenizerFixtures.required(TestModels.smolLM2)))
    func known() throws {
        let tokenizer = try TokenizerFixtures.tokenizer.get()
        #expect(tokenizer.encode("Hello, world!") == [19556, 28, 905, 17])
        #expect(tokenizer.encode(" Hello world") == [38699, 905])
        #expect(tokenizer.encode("hello   world") == [28120, 256, 905])
        #expect(tokenizer.encode("<|im_start|>user\nHi<|im_end|>", addSpecialPrefix: true).prefix(2) == [1, 1])
    }

    @Test(
        "encode matches llama.cpp on every golden case; decode and streaming give the text back",
        .enabled(
            if: TokenizerFixtures.required(TestModels.smolLM2)
                && TokenizerFixtures.required(TokenizerFixtures.tokenizerGolden)))
    func golden() throws {
        let tokenizer = try TokenizerFixtures.tokenizer.get()
        let golden = try ClinferEngineTests.golden("smollm2-tokenizer.json", as: TokenizerGolden.self)
        #expect(golden.cases.count > 0)
        #expect(golden.addBOS == tokenizer.addBOS)
        for testCase in golden.cases {
            let ids = tokenizer.encode(testCase.text, addSpecialPrefix: false)
            #expect(ids == testCase.ids, "\(testCase.text.debugDescription)")
            #expect(try tokenizer.decode(testCase.ids) == testCase.text, "\(testCase.text.debugDescription)")
            var decoder = tokenizer.streamingDecoder()
            var streamed = ""
            for id in testCase.ids { streamed += try decoder.append(id) }
            streamed += decoder.flush()
            #expect(streamed == testCase.text, "\(testCase.text.debugDescription)")
        }
    }

    @Test("a 100 KB text round-trips", .enabled(if: TokenizerFixtures.required(TestModels.smolLM2)))
    func largeText() throws {
        let tokenizer = try TokenizerFixtures.tokenizer.get()
        let text = TokenizerFixtures.sampleText(bytes: 100_000)
        let ids = tokenizer.encode(text)
        #expect(try tokenizer.decode(ids) == text)
        // The server's cheap prompt bound (bytes / longest token) never exceeds the real count.
        let bytes = text.utf8.count
        #expect(bytes / tokenizer.longestTokenBytes <= ids.count && ids.count <= bytes)
    }
}

extension TokenizerFixtures {
    /// Mixed prose, code, numbers, whitespace runs, non-Latin scripts and emoji, about `bytes` long.
    static func sampleText(bytes: Int) -> String {
        let parts = [
            "The quick brown fox jumps over the lazy dog. It's 3.14159 o'clock, isn't it?\n\n",
            "func encode(_ text: String) -> [Int] {\n    return text.utf8.map { Int($0) }  // 42\n}\n",
            "Grüße aus Köln — naïve café, 日本語のテキスト、한국어 텍스트, русский текст. 😀🎉👨‍👩‍👧\n",
            "    indented\tline with  double  spaces   and trailing   \r\n",
            "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n",
        ]
        var text = "", index = 0
        while text.utf8.count < bytes {
            text += parts[index % parts.count]
            index += 1
        }
        return text
    }
}

import Foundation
import Testing

@testable import ClinferEngine

/// SentencePiece (`tokenizer.ggml.model = llama`): Gemma 3's vocabulary against llama.cpp's ids,
/// and a hand-built vocabulary for the merge order and byte fallback.
@Suite("Tokenizer: SentencePiece")
struct TokenizerSentencePieceTests {
    struct Golden: Decodable {
        struct Case: Decodable {
            let text: String
            let special: Bool
            let ids: [Int]
        }
        let bosID: Int
        let eosID: Int
        let cases: [Case]

        enum CodingKeys: String, CodingKey {
            case bosID = "bos_id", eosID = "eos_id", cases
        }
    }

    static let gemma = Result { try Tokenizer(gguf: GGUFFile(path: TestModels.gemma3)) }

    @Test(
        "Gemma 3: encode equals llama.cpp on every golden string; decode gives the text back",
        .enabled(if: TokenizerFixtures.required(TestModels.gemma3)))
    func gemmaGolden() throws {
        let tokenizer = try Self.gemma.get()
        let golden = try ClinferEngineTests.golden("gemma3-tokenizer.json", as: Golden.self)
        #expect(tokenizer.model == .sentencePiece && tokenizer.preTokenizer == nil)
        #expect(tokenizer.vocabularySize == 262_144 && tokenizer.addBOS)
        #expect(tokenizer.bosID == golden.bosID && tokenizer.eosID == golden.eosID)
        #expect(golden.cases.count >= 20)
        for testCase in golden.cases {
            let ids = tokenizer.encode(testCase.text, parseSpecial: testCase.special)
            #expect(ids == testCase.ids, "\(testCase.text.debugDescription) special \(testCase.special)")
            let text = try tokenizer.decode(Array(testCase.ids.dropFirst()))
            #expect(text == testCase.text, "\(testCase.text.debugDescription)")
        }
    }

    /// Pieces: the byte tokens, then ▁, a, b, ab, ▁ab, abc, c with scores that make the merge
    /// order matter: "ab" (−1) beats "bc" (−2), then "▁ab" (−0.5) forms before "abc" would.
    static func tiny(spacePrefix: Bool) throws -> Tokenizer {
        let bytes = (0..<256).map { String(format: "<0x%02X>", $0) }
        let pieces = ["<unk>", "<s>", "</s>"] + bytes + ["▁", "a", "b", "c", "ab", "bc", "▁ab", "abc"]
        let scores: [Float] = [0, 0, 0] + [Float](repeating: 0, count: 256) + [-3, -4, -4, -4, -1, -2, -0.5, -0.6]
        let types = [2, 3, 3] + [Int](repeating: 6, count: 256) + [Int](repeating: 1, count: 8)
        return try Tokenizer(
            vocabulary: TokenizerVocabulary(
                sentencePieces: pieces, scores: scores, tokenTypes: types, bosID: 1, eosID: 2, unknownID: 0,
                addBOS: true, addSpacePrefix: spacePrefix))
    }

    @Test("merges by score, leftmost on ties; bytes for characters without a piece; space prefix")
    func mergeOrder() throws {
        let tokenizer = try Self.tiny(spacePrefix: true)
        let id = { (piece: String) in 259 + ["▁", "a", "b", "c", "ab", "bc", "▁ab", "abc"].firstIndex(of: piece)! }
        // "▁abc": ab (−1) first, then ▁ab (−0.5) beats abc (−0.6): ▁ab, c.
        #expect(tokenizer.encode("abc") == [1, id("▁ab"), id("c")])
        #expect(tokenizer.encode("abc", addSpecialPrefix: false) == [id("▁ab"), id("c")])
        // "é" has no piece: its two UTF-8 bytes become byte tokens (3 + byte value).
        #expect(tokenizer.encode("é", addSpecialPrefix: false) == [id("▁"), 3 + 0xC3, 3 + 0xA9])
        #expect(try tokenizer.decode([id("▁ab"), id("c"), 3 + 0xC3, 3 + 0xA9]) == " abcé")
        #expect(
            try Self.tiny(spacePrefix: false).encode("ab c", addSpecialPrefix: false) == [id("ab"), id("▁"), id("c")])
        #expect(tokenizer.encode("", addSpecialPrefix: false) == [])
    }

    @Test("a SentencePiece vocabulary needs one score per token")
    func badScores() {
        #expect(throws: TokenizerError.self) {
            try Tokenizer(vocabulary: TokenizerVocabulary(sentencePieces: ["a", "b"], scores: [0]))
        }
    }
}

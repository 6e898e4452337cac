import ClinferEngine
import Foundation
import Testing

extension TestModels {
    /// all-MiniLM-L6-v2 (sentence-transformers), fetched by `make models`.
    static let miniLM = directory.appendingPathComponent("all-MiniLM-L6-v2").path
}

/// Token ids from Hugging Face `tokenizers` for all-MiniLM-L6-v2 (Golden/minilm-tokenizer.json).
struct MiniLMTokenizerGolden: Decodable {
    struct Case: Decodable { let text: String; let ids: [Int] }
    let max_length: Int
    let cases: [Case]
}

@Suite("WordPiece tokenizer (BERT basic tokenizer + greedy longest-match pieces)")
struct WordPieceTokenizerTests {
    static let tokenizer = Result { try WordPieceTokenizer(directory: TestModels.miniLM) }

    @Test(
        "golden ids from Hugging Face tokenizers: plain, punctuation, accents, CJK, emoji, empty, truncated",
        .enabled(if: TestModels.required(TestModels.miniLM + "/tokenizer.json")))
    func golden() throws {
        let reference = try ClinferEngineTests.golden("minilm-tokenizer.json", as: MiniLMTokenizerGolden.self)
        let tokenizer = try Self.tokenizer.get()
        #expect(reference.cases.count >= 7)
        for item in reference.cases {
            #expect(tokenizer.encode(item.text, maxLength: reference.max_length) == item.ids, "\(item.text.prefix(60))")
        }
    }

    @Test(
        "vocab.txt with tokenizer_config.json gives the same ids as tokenizer.json",
        .enabled(if: TestModels.required(TestModels.miniLM + "/vocab.txt")))
    func vocabTextAgrees() throws {
        let text = try String(contentsOfFile: TestModels.miniLM + "/vocab.txt", encoding: .utf8)
        let config =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: TestModels.miniLM + "/tokenizer_config.json")))
            as! [String: Any]
        let fromVocab = try WordPieceTokenizer(vocabText: text, config: config), fromJSON = try Self.tokenizer.get()
        #expect(fromVocab.vocabularySize == fromJSON.vocabularySize)
        for item in try ClinferEngineTests.golden("minilm-tokenizer.json", as: MiniLMTokenizerGolden.self).cases {
            #expect(
                fromVocab.encode(item.text, maxLength: 256) == fromJSON.encode(item.text, maxLength: 256),
                "\(item.text.prefix(60))")
        }
    }

    @Test(
        "special tokens written in the text, Unicode cleanup and casing (ids from Hugging Face tokenizers)",
        .enabled(if: TestModels.required(TestModels.miniLM + "/tokenizer.json")))
    func specialsAndUnicode() throws {
        let tokenizer = try Self.tokenizer.get()
        let cases: [(String, [Int])] = [
            ("[CLS] hi [SEP]", [101, 101, 7632, 102, 102]), ("a[MASK]b", [101, 1037, 103, 1038, 102]),
            // special tokens match case-sensitively, before lowercasing
            ("[cls] x", [101, 1031, 18856, 2015, 1033, 1060, 102]),
            ("hi€", [101, 7632, 30102, 102]), ("x\u{200D}y", [101, 1060, 2100, 102]),
            ("tab\u{0B}x", [101, 21628, 2595, 102]),
            ("İstanbul", [101, 9960, 102]), ("ΣΑΣ", [101, 1173, 14608, 29733, 102]),
            ("a\u{0}b\u{FFFD}c", [101, 5925, 102]),
            ("ｈｅｌｌｏ", [101, 100, 102]), ("Ünïcödé", [101, 27260, 102]),
            (String(repeating: "x", count: 101), [101, 100, 102]),  // over max_input_chars_per_word
        ]
        for (text, ids) in cases { #expect(tokenizer.encode(text) == ids, "\(text)") }
        #expect(
            tokenizer.tokenStrings(tokenizer.encode("unbelievably")) == [
                "[CLS]", "un", "##bel", "##ie", "##va", "##bly", "[SEP]",
            ])
        #expect(tokenizer.decode(tokenizer.encode("Unbelievably, it works!")) == "unbelievably , it works !")
    }

    @Test(
        "truncation keeps [CLS] and the final [SEP]; batches pad with [PAD] and mask it",
        .enabled(if: TestModels.required(TestModels.miniLM + "/tokenizer.json")))
    func truncationAndBatch() throws {
        let tokenizer = try Self.tokenizer.get()
        let long = String(repeating: "word ", count: 50)
        let ids = tokenizer.encode(long, maxLength: 8)
        #expect(ids.count == 8 && ids.first == 101 && ids.last == 102)
        #expect(tokenizer.encode(long, maxLength: 2) == [101, 102])
        let batch = tokenizer.batch(["Hello world", "", "The quick brown fox"], maxLength: 5)
        #expect(batch.sequences == [[101, 7592, 2088, 102], [101, 102], [101, 1996, 4248, 2829, 102]])
        #expect(batch.sequenceLength == 5 && batch.lengths == [4, 2, 5])
        #expect(batch.paddedIDs == [101, 7592, 2088, 102, 0, 101, 102, 0, 0, 0, 101, 1996, 4248, 2829, 102])
        #expect(batch.attentionMask == [1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1])
    }

    @Test(
        "a small hand-built vocabulary: greedy longest match, ## continuations, [UNK] for a word with an uncovered part"
    )
    func handBuilt() throws {
        let tokenizer = try WordPieceTokenizer(tokens: [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "aff", "##a", "!", "日", "本",
        ])
        #expect(tokenizer.encode("Unaffable!") == [2, 4, 5, 6, 9, 3])
        #expect(tokenizer.pieces("unaffable") == [4, 5, 6])
        #expect(tokenizer.pieces("UNAFFABLE!") == [4, 5, 6, 9])
        #expect(tokenizer.pieces("unaffx aff") == [1, 7])  // "x" is not covered: the whole word is [UNK]
        #expect(tokenizer.pieces("日本") == [10, 11])  // CJK ideographs split into words of their own
        #expect(tokenizer.pieces("affa") == [7, 8])
        #expect(tokenizer.pieces("") == [])
    }

    @Test("bad vocabularies and tokenizer files give typed errors")
    func badInput() throws {
        #expect(throws: TokenizerError.invalidVocabulary("the vocabulary (3 tokens) has no unknown token [UNK]")) {
            try WordPieceTokenizer(tokens: ["[CLS]", "[SEP]", "a"])
        }
        #expect(throws: TokenizerError.self) { try WordPieceTokenizer(vocabText: "[PAD]\n[CLS]\n[SEP]\nhello\n") }
        let bpe = Data(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#.utf8)
        #expect(throws: TokenizerError.self) { try WordPieceTokenizer(tokenizerJSON: bpe) }
        let gaps = Data(#"{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "[CLS]": 5, "[SEP]": 2}}}"#.utf8)
        #expect(throws: TokenizerError.self) { try WordPieceTokenizer(tokenizerJSON: gaps) }
        #expect(throws: ModelFormatError.self) { try WordPieceTokenizer(tokenizerJSON: Data("not json".utf8)) }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent(
            "clinfer-wordpiece-empty-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(throws: ModelFormatError.self) { try WordPieceTokenizer(directory: empty.path) }
    }
}

import Foundation
import Testing

@testable import ClinferEngine

/// Files the tokenizer and chat-template tests read: the default model (`TestModels.smolLM2`,
/// not in git) and golden outputs of llama.cpp and jinja2.
///
/// A test needing a missing file is skipped on a developer machine and runs (and fails) in CI
/// (`CI=true`), where the files must be present.
enum TokenizerFixtures {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Golden")
    static let tokenizerGolden = goldenDirectory.appendingPathComponent("smollm2-tokenizer.json").path
    static let chatGolden = goldenDirectory.appendingPathComponent("smollm2-chat.json").path

    /// Whether to run a test needing `paths`: they all exist, or this is CI.
    static func required(_ paths: String...) -> Bool {
        TestModels.inCI || paths.allSatisfy { FileManager.default.fileExists(atPath: $0) }
    }

    /// The default model's GGUF file, opened once per process.
    static let model: Result<GGUFFile, any Error> = Result { try GGUFFile(path: TestModels.smolLM2) }

    /// The default model's tokenizer, built once per process.
    static let tokenizer: Result<Tokenizer, any Error> = Result { try Tokenizer(gguf: model.get()) }
}

/// `Golden/smollm2-tokenizer.json`: llama.cpp's token ids (special tokens parsed, no BOS).
struct TokenizerGolden: Decodable {
    struct Case: Decodable {
        let text: String
        let ids: [Int]
    }

    let model: String
    let addBOS: Bool?
    let cases: [Case]

    enum CodingKeys: String, CodingKey {
        case model, cases
        case addBOS = "add_bos"
    }
}

/// A tiny byte-level vocabulary built by hand: three control tokens, the 256 byte characters,
/// then one token per merge result.
struct TinyVocabulary {
    static let specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

    let tokens: [String]
    let merges: [String]

    /// `merges` in the byte-level alphabet (`"Ġ w"`); their results are appended as tokens.
    init(merges: [String] = [], extraTokens: [String] = []) {
        var tokens = Self.specials + ByteLevel.scalarForByte.map { String($0) }
        for merge in merges {
            let result = merge.replacingOccurrences(of: " ", with: "")
            if !tokens.contains(result) { tokens.append(result) }
        }
        self.tokens = tokens + extraTokens
        self.merges = merges
    }

    func vocabulary(types: [Int]? = nil, preType: String = "gpt2", addBOS: Bool = false) -> TokenizerVocabulary {
        TokenizerVocabulary(
            tokens: tokens, merges: merges,
            tokenTypes: types
                ?? tokens.indices.map {
                    $0 < Self.specials.count ? TokenType.control.rawValue : TokenType.normal.rawValue
                },
            preType: preType, bosID: 1, eosID: 2, addBOS: addBOS)
    }

    func tokenizer(preType: String = "gpt2") throws -> Tokenizer {
        try Tokenizer(vocabulary: vocabulary(preType: preType))
    }

    /// The id of token text `text` (byte-level form).
    func id(_ text: String) -> Int { tokens.firstIndex(of: text)! }

    /// The id of the single-byte token for `byte`.
    func byteID(_ byte: UInt8) -> Int { id(String(ByteLevel.scalarForByte[Int(byte)])) }
}

/// A language model's tokenizer: text → token ids and back, as llama.cpp does it for the two
/// GGUF tokenizer models (``TokenizerVocabulary/Model``).
///
/// Encoding: special tokens are cut out of the raw text first (`SpecialTokenMatcher`); then
/// - byte-level BPE (`gpt2`: SmolLM2, Llama 3, Qwen2): the rest is split by the model's
///   pre-tokenizer regex (`PreTokenizer`) and each piece's UTF-8 bytes are merged by rank
///   (`BPEMerger`). Bytes the vocabulary has no token for (SmolLM2 lacks 21, e.g. U+0004) are
///   dropped as llama.cpp drops them.
/// - SentencePiece (`llama`: Gemma): spaces become `▁`, and characters merge by piece score
///   (`SentencePieceMerger`); a character without a piece becomes its `<0xXX>` byte tokens.
///
/// Immutable and `Sendable`: one instance serves any number of threads.
public final class Tokenizer: Sendable {
    /// Number of tokens in the vocabulary; valid ids are `0..<vocabularySize`.
    public let vocabularySize: Int
    /// Beginning-of-sequence token, if the model has one.
    public let bosID: Int?
    /// End-of-sequence token, if the model has one.
    public let eosID: Int?
    /// Whether `encode` prepends BOS when not told otherwise.
    public let addBOS: Bool
    /// The tokenization model.
    public let model: TokenizerVocabulary.Model
    /// The pre-tokenizer name the vocabulary asked for (`tokenizer.ggml.pre`).
    public let preType: String
    /// The byte-level BPE split `preType` names (`default` is GPT-2's); nil for SentencePiece.
    public let preTokenizer: PreTokenizer?
    /// The most bytes one token stands for: a text of `n` UTF-8 bytes needs at least
    /// `n / longestTokenBytes` tokens, a bound that costs nothing to check before encoding.
    public let longestTokenBytes: Int

    private let tokens: [String]
    private let types: [TokenType]
    private let tokenIDs: [String: Int32]
    private let subword: Subword
    private let specials: SpecialTokenMatcher
    /// The bytes each token decodes to, concatenated; token i is `decodedStarts[i]..<decodedStarts[i+1]`.
    private let decodedBytes: [UInt8]
    private let decodedStarts: [Int32]

    /// Builds the tokenizer, checking that the vocabulary is consistent: token types (if any)
    /// match the tokens, merges are `"left right"`, BOS/EOS are in range.
    public init(vocabulary: TokenizerVocabulary) throws(TokenizerError) {
        let tokens = vocabulary.tokens
        guard vocabulary.tokenTypes.isEmpty || vocabulary.tokenTypes.count == tokens.count else {
            throw .invalidVocabulary("\(vocabulary.tokenTypes.count) token types for \(tokens.count) tokens")
        }
        var types: [TokenType] = []
        types.reserveCapacity(tokens.count)
        for (id, raw) in vocabulary.tokenTypes.enumerated() {
            guard let type = TokenType(rawValue: raw) else {
                throw .invalidVocabulary("token \(id) has unknown type \(raw)")
            }
            types.append(type)
        }
        if types.isEmpty { types = Array(repeating: .normal, count: tokens.count) }
        for (name, id) in [("BOS", vocabulary.bosID), ("EOS", vocabulary.eosID)] {
            if let id, !tokens.indices.contains(id) {
                throw .invalidVocabulary("\(name) id \(id) is outside 0..<\(tokens.count)")
            }
        }
        if vocabulary.addBOS && vocabulary.bosID == nil {
            throw .invalidVocabulary("add_bos is set but there is no BOS token")
        }

        var tokenIDs: [String: Int32] = [:]
        tokenIDs.reserveCapacity(tokens.count)
        for (id, text) in tokens.enumerated() { tokenIDs[text] = Int32(id) }  // later duplicates win, as in llama.cpp

        var decodedBytes: [UInt8] = [], decodedStarts: [Int32] = [0]
        decodedStarts.reserveCapacity(tokens.count + 1)
        for (id, text) in tokens.enumerated() {
            if types[id].isSpecial {
                decodedBytes.append(contentsOf: text.utf8)
            } else if vocabulary.model == .byteLevelBPE {
                decodedBytes.append(contentsOf: ByteLevel.decode(text))
            } else if types[id] == .byte, let byte = Self.byteTokenValue(text) {
                decodedBytes.append(byte)
            } else {
                decodedBytes.append(contentsOf: text.replacingOccurrences(of: "\u{2581}", with: " ").utf8)
            }
            decodedStarts.append(Int32(decodedBytes.count))
        }

        self.tokens = tokens
        self.types = types
        self.tokenIDs = tokenIDs
        switch vocabulary.model {
        case .byteLevelBPE:
            let split: PreTokenizer? =
                vocabulary.preType == "default" ? .gpt2 : PreTokenizer(preType: vocabulary.preType)
            guard let split else {
                throw .unsupported(
                    "pre-tokenizer '\(vocabulary.preType)' (Clinfer implements "
                        + "\(PreTokenizer.allCases.map(\.rawValue).joined(separator: ", ")) and 'default')")
            }
            subword = .bytePairs(
                try BPEMergeTable(tokens: tokens, tokenIDs: tokenIDs, merges: vocabulary.merges), split)
            preTokenizer = split
        case .sentencePiece:
            subword = .sentencePiece(
                try SentencePieceTable(tokens: tokens, scores: vocabulary.scores, unknownID: vocabulary.unknownID),
                spacePrefix: vocabulary.addSpacePrefix)
            preTokenizer = nil
        }
        model = vocabulary.model
        self.specials = SpecialTokenMatcher(tokens: tokens, types: types)
        self.decodedBytes = decodedBytes
        self.decodedStarts = decodedStarts
        longestTokenBytes = max(1, zip(decodedStarts.dropFirst(), decodedStarts).map { Int($0 - $1) }.max() ?? 1)
        vocabularySize = tokens.count
        bosID = vocabulary.bosID
        eosID = vocabulary.eosID
        addBOS = vocabulary.addBOS
        preType = vocabulary.preType
    }

    /// How text between special tokens becomes tokens.
    private enum Subword: Sendable {
        case bytePairs(BPEMergeTable, PreTokenizer)
        case sentencePiece(SentencePieceTable, spacePrefix: Bool)
    }

    /// The byte a SentencePiece byte token (`<0x0A>`) stands for.
    private static func byteTokenValue(_ text: String) -> UInt8? {
        guard text.hasPrefix("<0x"), text.hasSuffix(">"), text.utf8.count == 6 else { return nil }
        return UInt8(text.dropFirst(3).dropLast(), radix: 16)
    }

    /// The token ids of `text`.
    ///
    /// - Parameters:
    ///   - addSpecialPrefix: prepend BOS; nil follows the vocabulary's `addBOS`.
    ///   - parseSpecial: recognise control tokens such as `<|im_start|>` written in `text` (chat
    ///     templates need this); when false they are spelled out as ordinary text. User-defined
    ///     tokens are recognised either way, as in llama.cpp.
    public func encode(_ text: String, addSpecialPrefix: Bool? = nil, parseSpecial: Bool = true) -> [Int] {
        encode(text, addSpecialPrefix: addSpecialPrefix, parseSpecial: parseSpecial, controlRanges: nil)
    }

    /// The token ids of a rendered chat prompt: control tokens are recognised in the template's
    /// markup only, so message content that spells one is tokenized as text.
    public func encode(_ prompt: RenderedPrompt, addSpecialPrefix: Bool? = nil) -> [Int] {
        encode(prompt.text, addSpecialPrefix: addSpecialPrefix, parseSpecial: true, controlRanges: prompt.markupRanges)
    }

    private func encode(
        _ text: String, addSpecialPrefix: Bool?, parseSpecial: Bool, controlRanges: [Range<Int>]?
    ) -> [Int] {
        var output: [Int32] = []
        output.reserveCapacity(text.utf8.count / 3 + 2)
        if addSpecialPrefix ?? addBOS, let bosID { output.append(Int32(bosID)) }
        let bytes = Array(text.utf8)
        var encoder = TextEncoder()
        var afterSpecial = true  // SentencePiece's space prefix goes on runs that start the text or follow a token
        for segment in specials.segments(bytes, parseSpecial: parseSpecial, controlRanges: controlRanges) {
            switch segment {
            case .token(let id):
                output.append(id)
                afterSpecial = true
            case .text(let range):
                switch subword {
                case .bytePairs(let table, let split):
                    encoder.encode(bytes[range], table: table, split: split, tokenIDs: tokenIDs, into: &output)
                case .sentencePiece(let table, let spacePrefix):
                    encoder.sentencePieces.encode(
                        SentencePieceTable.escapeWhitespace(bytes[range], spacePrefix: spacePrefix && afterSpecial),
                        table: table, into: &output)
                }
                afterSpecial = false
            }
        }
        return output.map(Int.init)
    }

    /// The text of `ids`. Control tokens decode to their text (`<|im_end|>`) unless
    /// `skipSpecial`; invalid UTF-8 (a sequence cut mid-character) becomes U+FFFD.
    public func decode(_ ids: [Int], skipSpecial: Bool = false) throws(TokenizerError) -> String {
        var bytes: [UInt8] = []
        for id in ids { try appendBytes(of: id, skipSpecial: skipSpecial, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes `id` decodes to on its own (a piece of a multi-byte character may be invalid
    /// UTF-8 by itself): what the server's `logprobs` report as a token's `bytes`.
    public func bytes(of id: Int) throws(TokenizerError) -> [UInt8] {
        var bytes: [UInt8] = []
        try appendBytes(of: id, skipSpecial: false, to: &bytes)
        return bytes
    }

    /// The raw vocabulary text of `id` (byte-level form, `Ġthe`), or nil when out of range.
    public func tokenText(_ id: Int) -> String? { tokens.indices.contains(id) ? tokens[id] : nil }

    /// The type of `id`, or nil when out of range.
    public func tokenType(_ id: Int) -> TokenType? { types.indices.contains(id) ? types[id] : nil }

    /// The id of a special (control, user-defined or unknown) token by its text, e.g. `<|im_end|>`.
    public func id(of special: String) -> Int? { specials.ids[special] }

    /// A decoder for tokens arriving one at a time (generation).
    public func streamingDecoder(skipSpecial: Bool = false) -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, skipSpecial: skipSpecial)
    }

    /// Appends the bytes `id` decodes to.
    func appendBytes(of id: Int, skipSpecial: Bool, to bytes: inout [UInt8]) throws(TokenizerError) {
        guard tokens.indices.contains(id) else { throw .unknownToken(id) }
        if skipSpecial && (types[id] == .control || types[id] == .unknown) { return }
        bytes.append(contentsOf: decodedBytes[Int(decodedStarts[id])..<Int(decodedStarts[id + 1])])
    }

    /// Encodes the special-free text between special tokens; holds the buffers and piece cache
    /// of one `encode` call.
    private struct TextEncoder {
        private var scalars: [UInt32] = []
        private var classes: [UInt8] = []
        private var byteStarts: [Int] = []
        private var ends: [Int] = []
        private var merger = BPEMerger()
        private var cache: [ArraySlice<UInt8>: [Int32]] = [:]
        var sentencePieces = SentencePieceMerger()

        mutating func encode(
            _ text: ArraySlice<UInt8>, table: BPEMergeTable, split: PreTokenizer, tokenIDs: [String: Int32],
            into output: inout [Int32]
        ) {
            decodeScalars(text)
            ends.removeAll(keepingCapacity: true)
            split.split(scalars, classes, 0..<scalars.count, into: &ends)
            var start = 0
            for end in ends {
                encodePiece(
                    text[byteStarts[start]..<byteStarts[end]], table: table, split: split, tokenIDs: tokenIDs,
                    into: &output)
                start = end
            }
        }

        private mutating func encodePiece(
            _ piece: ArraySlice<UInt8>, table: BPEMergeTable, split: PreTokenizer, tokenIDs: [String: Int32],
            into output: inout [Int32]
        ) {
            if let cached = cache[piece] {
                output.append(contentsOf: cached)
                return
            }
            var tokens: [Int32] = []
            if split.ignoresMerges, let id = tokenIDs[ByteLevel.encode(piece)] {
                tokens.append(id)
            } else {
                merger.encode(piece, table: table, into: &tokens)
            }
            output.append(contentsOf: tokens)
            if piece.count <= 64 { cache[piece] = tokens }
        }

        /// Fills `scalars`, `classes` and `byteStarts` (absolute byte index of each scalar, plus
        /// the end) from valid UTF-8.
        private mutating func decodeScalars(_ text: ArraySlice<UInt8>) {
            scalars.removeAll(keepingCapacity: true)
            classes.removeAll(keepingCapacity: true)
            byteStarts.removeAll(keepingCapacity: true)
            var index = text.startIndex
            while index < text.endIndex {
                let lead = UInt32(text[index])
                byteStarts.append(index)
                var value: UInt32, length: Int
                switch lead {
                case 0..<0x80: value = lead; length = 1
                case 0xC0..<0xE0: value = lead & 0x1F; length = 2
                case 0xE0..<0xF0: value = lead & 0x0F; length = 3
                default: value = lead & 0x07; length = 4
                }
                for offset in 1..<length { value = value << 6 | UInt32(text[index + offset] & 0x3F) }
                scalars.append(value)
                classes.append(ScalarClass.of(value))
                index += length
            }
            byteStarts.append(text.endIndex)
        }
    }
}

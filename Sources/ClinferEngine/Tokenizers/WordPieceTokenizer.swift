/// BERT's WordPiece tokenizer, as Hugging Face `tokenizers` runs it for `bert-base-uncased`-style
/// models (all-MiniLM-L6-v2 among them): special tokens in the text are matched first, the rest
/// goes through ``BertNormalizer`` (cleanup, CJK splitting, accent stripping, lowercasing,
/// whitespace and punctuation splitting), then each word is cut into the longest vocabulary
/// pieces from the left, continuation pieces carrying the `##` prefix. A word with a part no
/// piece covers, or longer than `maxInputCharsPerWord` scalars, becomes `[UNK]`. ``encode(_:maxLength:)``
/// wraps the pieces in `[CLS]` … `[SEP]`.
///
/// Vocabulary lookups compare UTF-8 bytes exactly (as the reference does), not Swift's
/// canonical-equivalence string comparison.
public struct WordPieceTokenizer: Sendable {
    /// Token strings by id.
    public let tokens: [String]
    public let normalizer: BertNormalizer
    /// The prefix of pieces that continue a word ("##").
    public let continuingPrefix: String
    /// Words longer than this (in Unicode scalars) become `[UNK]` whole.
    public let maxInputCharsPerWord: Int
    public let unknownID: Int, classifierID: Int, separatorID: Int, paddingID: Int
    /// Special tokens recognised verbatim in input text (`[CLS]`, `[SEP]`, `[MASK]`, …), by content.
    public let specialTokens: [String: Int]

    private let ids: [[UInt8]: Int]
    private let prefixBytes: [UInt8]
    /// The longest vocabulary entry in bytes (bounds the pieces tried).
    private let longestPiece: Int

    /// A tokenizer over `tokens` (id = index). Throws `TokenizerError.invalidVocabulary` when the
    /// unknown, classifier or separator token is not in the vocabulary.
    public init(
        tokens: [String], normalizer: BertNormalizer = BertNormalizer(), continuingPrefix: String = "##",
        maxInputCharsPerWord: Int = 100, unknownToken: String = "[UNK]", classifierToken: String = "[CLS]",
        separatorToken: String = "[SEP]", paddingToken: String = "[PAD]", specialTokens: [String]? = nil
    ) throws(TokenizerError) {
        var ids: [[UInt8]: Int] = [:]
        ids.reserveCapacity(tokens.count)
        var byString: [String: Int] = [:]
        for (id, token) in tokens.enumerated() {
            ids[Array(token.utf8)] = id  // a repeated entry keeps its last id, as BERT's vocabulary loader does
            byString[token] = id
        }
        func require(_ token: String, _ role: String) throws(TokenizerError) -> Int {
            guard let id = ids[Array(token.utf8)] else {
                throw .invalidVocabulary("the vocabulary (\(tokens.count) tokens) has no \(role) token \(token)")
            }
            return id
        }
        unknownID = try require(unknownToken, "unknown")
        classifierID = try require(classifierToken, "classifier")
        separatorID = try require(separatorToken, "separator")
        paddingID = ids[Array(paddingToken.utf8)] ?? 0
        guard maxInputCharsPerWord >= 1 else { throw .invalidVocabulary("maxInputCharsPerWord must be ≥ 1") }
        let specials = specialTokens ?? [paddingToken, unknownToken, classifierToken, separatorToken, "[MASK]"]
        self.specialTokens = Dictionary(
            specials.compactMap { token in byString[token].map { (token, $0) } },
            uniquingKeysWith: { first, _ in first })
        self.tokens = tokens
        self.normalizer = normalizer
        self.continuingPrefix = continuingPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        self.ids = ids
        prefixBytes = Array(continuingPrefix.utf8)
        longestPiece = ids.keys.map(\.count).max() ?? 1
    }

    public var vocabularySize: Int { tokens.count }

    /// The id of `token`, if it is in the vocabulary.
    public func id(of token: String) -> Int? { ids[Array(token.utf8)] }

    /// The word-piece ids of `text`, without `[CLS]`/`[SEP]`.
    public func pieces(_ text: String) -> [Int] {
        var result: [Int] = []
        for segment in splitSpecialTokens(text) {
            switch segment {
            case .special(let id): result.append(id)
            case .text(let part):
                for word in BertNormalizer.preTokenize(normalizer.normalize(part)) {
                    appendPieces(of: word, to: &result)
                }
            }
        }
        return result
    }

    /// `[CLS]` + the pieces of `text` + `[SEP]`; with `maxLength`, pieces are cut so the whole
    /// fits (the final `[SEP]` is kept), as `truncation=True, max_length=…` does.
    public func encode(_ text: String, maxLength: Int? = nil) -> [Int] {
        var body = pieces(text)
        if let maxLength { body = Array(body.prefix(max(0, maxLength - 2))) }
        return [classifierID] + body + [separatorID]
    }

    /// Encodes `texts` and pads them to the longest: ids, attention masks and lengths.
    public func batch(_ texts: [String], maxLength: Int? = nil) -> WordPieceBatch {
        WordPieceBatch(sequences: texts.map { encode($0, maxLength: maxLength) }, paddingID: paddingID)
    }

    /// The token strings of `ids` (unknown ids as `[UNK]`).
    public func tokenStrings(_ ids: [Int]) -> [String] {
        ids.map { tokens.indices.contains($0) ? tokens[$0] : tokens[unknownID] }
    }

    /// Text from ids: pieces joined with spaces, `##` continuations glued to the previous piece,
    /// special tokens dropped when `skipSpecialTokens`.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        let specials = Set(specialTokens.values)
        var text = ""
        for id in ids where !(skipSpecialTokens && specials.contains(id)) {
            let token = tokens.indices.contains(id) ? tokens[id] : tokens[unknownID]
            if token.hasPrefix(continuingPrefix) && !text.isEmpty {
                text += token.dropFirst(continuingPrefix.count)
            } else {
                text += (text.isEmpty ? "" : " ") + token
            }
        }
        return text
    }

    // MARK: - Internals

    private enum Segment {
        case text(Substring)
        case special(Int)
    }

    /// `text` cut at verbatim occurrences of special tokens (leftmost, longest first).
    private func splitSpecialTokens(_ text: String) -> [Segment] {
        guard !specialTokens.isEmpty, !text.isEmpty else { return [.text(text[...])] }
        let firstScalars = Set(specialTokens.keys.compactMap { $0.unicodeScalars.first })
        let byLength = specialTokens.sorted { $0.key.utf8.count > $1.key.utf8.count }
        var segments: [Segment] = []
        let scalars = text.unicodeScalars
        var segmentStart = scalars.startIndex, index = scalars.startIndex
        search: while index < scalars.endIndex {
            if firstScalars.contains(scalars[index]) {
                for (token, id) in byLength where scalars[index...].starts(with: token.unicodeScalars) {
                    if segmentStart < index { segments.append(.text(Substring(scalars[segmentStart..<index]))) }
                    segments.append(.special(id))
                    index = scalars.index(index, offsetBy: token.unicodeScalars.count)
                    segmentStart = index
                    continue search
                }
            }
            index = scalars.index(after: index)
        }
        if segmentStart < scalars.endIndex { segments.append(.text(Substring(scalars[segmentStart...]))) }
        return segments
    }

    /// Greedy longest-match-first pieces of one word.
    private func appendPieces(of word: ArraySlice<Unicode.Scalar>, to result: inout [Int]) {
        guard word.count <= maxInputCharsPerWord else { result.append(unknownID); return }
        // UTF-8 bytes of the word and the byte offset of every scalar boundary.
        var bytes: [UInt8] = [], boundaries: [Int] = [0]
        for scalar in word {
            UTF8.encode(scalar) { bytes.append($0) }
            boundaries.append(bytes.count)
        }
        let start = result.count
        var first = 0
        var key: [UInt8] = []
        while first < word.count {
            var last = word.count, found: Int? = nil
            while last > first {
                let length = boundaries[last] - boundaries[first]
                if length + (first > 0 ? prefixBytes.count : 0) <= longestPiece {
                    key.removeAll(keepingCapacity: true)
                    if first > 0 { key.append(contentsOf: prefixBytes) }
                    key.append(contentsOf: bytes[boundaries[first]..<boundaries[last]])
                    if let id = ids[key] { found = id; break }
                }
                last -= 1
            }
            guard let id = found else {
                result.removeSubrange(start...)
                result.append(unknownID)
                return
            }
            result.append(id)
            first = last
        }
    }
}

/// Token ids of several texts padded to one length, with the attention mask a BERT encoder takes.
public struct WordPieceBatch: Sendable, Equatable {
    /// Each text's ids (with `[CLS]`/`[SEP]`), unpadded.
    public let sequences: [[Int]]
    /// The padded length: the longest sequence.
    public let sequenceLength: Int
    /// Ids [count, sequenceLength], padded with the padding id.
    public let paddedIDs: [Int]
    /// 1 for a token, 0 for padding, [count, sequenceLength].
    public let attentionMask: [Int]

    public init(sequences: [[Int]], paddingID: Int = 0) {
        self.sequences = sequences
        let length = sequences.map(\.count).max() ?? 0
        sequenceLength = length
        paddedIDs = sequences.flatMap { $0 + [Int](repeating: paddingID, count: length - $0.count) }
        attentionMask = sequences.flatMap {
            [Int](repeating: 1, count: $0.count) + [Int](repeating: 0, count: length - $0.count)
        }
    }

    /// The number of texts.
    public var count: Int { sequences.count }
    /// Each text's token count.
    public var lengths: [Int] { sequences.map(\.count) }
}

/// The scored pieces of a SentencePiece vocabulary, keyed by their UTF-8 bytes.
struct SentencePieceTable: Sendable {
    let pieceIDs: [[UInt8]: Int32]
    let scores: [Float]
    /// The token for each byte value when no piece covers a character: the `<0xXX>` byte token,
    /// else the one-byte piece, else the unknown token, else -1 (dropped).
    let byteTokens: [Int32]

    init(tokens: [String], scores: [Float], unknownID: Int?) throws(TokenizerError) {
        guard scores.count == tokens.count else {
            throw .invalidVocabulary("\(scores.count) SentencePiece scores for \(tokens.count) tokens")
        }
        var ids: [[UInt8]: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (id, text) in tokens.enumerated() { ids[Array(text.utf8)] = Int32(id) }  // later duplicates win
        pieceIDs = ids
        self.scores = scores
        byteTokens = (0..<256).map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return ids[Array("<0x\(byte < 16 ? "0" : "")\(hex)>".utf8)] ?? ids[[UInt8(byte)]]
                ?? unknownID.map(Int32.init) ?? -1
        }
    }

    /// `text` with every space as `▁` (U+2581), SentencePiece's whitespace symbol.
    static func escapeWhitespace(_ text: ArraySlice<UInt8>, spacePrefix: Bool) -> [UInt8] {
        var out: [UInt8] = spacePrefix ? [0xE2, 0x96, 0x81] : []
        out.reserveCapacity(text.count + 8)
        for byte in text {
            if byte == 0x20 { out += [0xE2, 0x96, 0x81] } else { out.append(byte) }
        }
        return out
    }
}

/// SentencePiece BPE on one run of text, as llama.cpp's `llm_tokenizer_spm` does it: start from
/// one symbol per UTF-8 character, repeatedly merge the adjacent pair whose concatenation is the
/// highest-scoring piece (leftmost on ties), and emit each final symbol as its piece, or as byte
/// tokens when no piece covers it (a character outside the vocabulary). A heap of candidate
/// pairs with lazy invalidation keeps a run of n characters at O(n log n).
///
/// Holds its buffers between runs; one per `encode` call, never shared.
struct SentencePieceMerger {
    private var starts: [Int] = [], lengths: [Int] = [], previous: [Int] = [], next: [Int] = []
    private var heap: [Candidate] = []

    private struct Candidate {
        var score: Float
        var left: Int
        var right: Int
        var size: Int

        /// Pops first: higher score, then leftmost.
        func precedes(_ other: Candidate) -> Bool { score > other.score || (score == other.score && left < other.left) }
    }

    /// Appends the tokens of `text` (already whitespace-escaped) to `output`.
    mutating func encode(_ text: [UInt8], table: SentencePieceTable, into output: inout [Int32]) {
        starts.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
        previous.removeAll(keepingCapacity: true)
        next.removeAll(keepingCapacity: true)
        heap.removeAll(keepingCapacity: true)
        var offset = 0
        while offset < text.count {
            let length = min(Self.utf8Length(text[offset]), text.count - offset)
            previous.append(starts.count - 1)
            starts.append(offset)
            lengths.append(length)
            offset += length
            next.append(offset < text.count ? starts.count : -1)
        }
        for right in starts.indices.dropFirst() { consider(right - 1, right, text, table) }
        while let best = pop() {
            let (left, right) = (best.left, best.right)
            // Stale: either side already merged into something else.
            guard lengths[left] > 0, lengths[right] > 0, lengths[left] + lengths[right] == best.size else { continue }
            lengths[left] += lengths[right]
            lengths[right] = 0
            next[left] = next[right]
            if next[right] >= 0 { previous[next[right]] = left }
            consider(previous[left], left, text, table)
            consider(left, next[left], text, table)
        }
        var symbol = starts.isEmpty ? -1 : 0
        while symbol >= 0 {
            let piece = Array(text[starts[symbol]..<starts[symbol] + lengths[symbol]])
            if let id = table.pieceIDs[piece] {
                output.append(id)
            } else {
                for byte in piece where table.byteTokens[Int(byte)] >= 0 { output.append(table.byteTokens[Int(byte)]) }
            }
            symbol = next[symbol]
        }
    }

    private mutating func consider(_ left: Int, _ right: Int, _ text: [UInt8], _ table: SentencePieceTable) {
        guard left >= 0, right >= 0 else { return }
        let size = lengths[left] + lengths[right]
        guard let id = table.pieceIDs[Array(text[starts[left]..<starts[left] + size])] else { return }
        push(Candidate(score: table.scores[Int(id)], left: left, right: right, size: size))
    }

    /// Bytes of the UTF-8 sequence a lead byte starts (1 for a stray continuation byte).
    private static func utf8Length(_ lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xC, 0xD: 2
        case 0xE: 3
        case 0xF: 4
        default: 1
        }
    }

    private mutating func push(_ candidate: Candidate) {
        heap.append(candidate)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func pop() -> Candidate? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if heap.isEmpty { return top }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < heap.count, heap[left].precedes(heap[best]) { best = left }
            if right < heap.count, heap[right].precedes(heap[best]) { best = right }
            if best == parent { return top }
            heap.swapAt(parent, best)
            parent = best
        }
    }
}

/// The merge rules of a byte-level BPE vocabulary, as integer pairs.
///
/// Every string that can appear during merging (the 256 byte characters, and the two sides and
/// the result of each merge) gets a *symbol*: its token id when the vocabulary has it, otherwise
/// an id past the vocabulary whose bytes are kept for fallback. Merges are looked up by the pair
/// of symbols, so BPE never builds or hashes strings.
struct BPEMergeTable: Sendable {
    /// The symbol each byte starts as: its single-character token, or a symbol past the
    /// vocabulary when the vocabulary lacks it.
    let byteSymbols: [Int32]
    /// The token of each byte, or -1 where the vocabulary has none (SmolLM2 lacks 21 bytes that
    /// never occur in its training text, e.g. 0x04 and 0xF5...0xFF). Such bytes are dropped when
    /// encoding, as llama.cpp and Hugging Face tokenizers (BPE without byte fallback) drop them.
    let byteTokens: [Int32]
    /// `(left << 32 | right)` → `(rank << 32 | merged)`; the first rule for a pair wins.
    private let pairs: [UInt64: UInt64]
    /// Symbols at or past this are not vocabulary tokens.
    let vocabularySize: Int32
    /// The bytes of each symbol past the vocabulary, for the byte fallback.
    let extraSymbolBytes: [[UInt8]]

    init(tokens: [String], tokenIDs: [String: Int32], merges: [String]) throws(TokenizerError) {
        vocabularySize = Int32(tokens.count)
        var extraIDs: [String: Int32] = [:]
        var extraBytes: [[UInt8]] = []
        func symbol(_ text: String) -> Int32 {
            if let id = tokenIDs[text] { return id }
            if let id = extraIDs[text] { return id }
            let id = Int32(tokens.count + extraBytes.count)
            extraIDs[text] = id
            extraBytes.append(ByteLevel.decode(text))
            return id
        }

        let byteTexts = ByteLevel.scalarForByte.map { String($0) }
        byteTokens = byteTexts.map { tokenIDs[$0] ?? -1 }

        var pairs: [UInt64: UInt64] = [:]
        pairs.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            // The separator is the first space after the first byte (llama.cpp: find(' ', 1)).
            let utf8 = merge.utf8
            guard let separator = utf8.dropFirst().firstIndex(of: 0x20) else {
                throw .invalidVocabulary("merge \(rank) '\(merge)' is not two tokens separated by a space")
            }
            let left = String(merge[..<separator]), right = String(merge[utf8.index(after: separator)...])
            guard !right.isEmpty else { throw .invalidVocabulary("merge \(rank) '\(merge)' has an empty right side") }
            let key = UInt64(UInt32(bitPattern: symbol(left))) << 32 | UInt64(UInt32(bitPattern: symbol(right)))
            if pairs[key] == nil {
                pairs[key] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: symbol(left + right)))
            }
        }
        self.pairs = pairs
        byteSymbols = byteTexts.map(symbol)
        extraSymbolBytes = extraBytes
    }

    /// The rank and result of merging `left` then `right`, or nil when no rule joins them.
    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> (rank: Int32, merged: Int32)? {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        guard let value = pairs[key] else { return nil }
        return (Int32(truncatingIfNeeded: value >> 32), Int32(truncatingIfNeeded: value & 0xFFFF_FFFF))
    }
}

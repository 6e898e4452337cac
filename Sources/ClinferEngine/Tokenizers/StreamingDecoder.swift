/// Decodes tokens as they are generated, returning only complete UTF-8 text.
///
/// A token can end in the middle of a multi-byte character (an emoji is often split over two or
/// three byte tokens); printing its bytes at once would show U+FFFD. The decoder holds back a
/// trailing *incomplete but still valid* UTF-8 sequence until a later token completes it.
/// Concatenating every `append` and the final `flush` gives exactly `decode` of all the ids.
public struct StreamingDecoder: Sendable {
    private let tokenizer: Tokenizer
    private let skipSpecial: Bool
    private var pending: [UInt8] = []

    /// - Parameter skipSpecial: decode control tokens to nothing instead of their text.
    public init(tokenizer: Tokenizer, skipSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
    }

    /// Adds one token and returns the text it completes (possibly empty).
    public mutating func append(_ id: Int) throws(TokenizerError) -> String {
        try tokenizer.appendBytes(of: id, skipSpecial: skipSpecial, to: &pending)
        let held = Self.incompleteSuffixLength(pending)
        guard held < pending.count else { return "" }
        let text = String(decoding: pending[..<(pending.count - held)], as: UTF8.self)
        pending.removeFirst(pending.count - held)
        return text
    }

    /// Returns whatever is held back (as U+FFFD when the stream ended mid-character) and resets.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// Length of the trailing bytes that start a valid UTF-8 sequence not yet complete; 0 when
    /// the bytes end on a character boundary or in an invalid sequence (which will never complete).
    static func incompleteSuffixLength(_ bytes: [UInt8]) -> Int {
        // Find the last lead byte among the final four.
        var start = bytes.count - 1
        while start >= 0 && start >= bytes.count - 4 && bytes[start] & 0xC0 == 0x80 { start -= 1 }
        guard start >= 0, start >= bytes.count - 4 else { return 0 }
        let lead = bytes[start], have = bytes.count - start
        let need: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0: need = 3; secondRange = 0xA0...0xBF
        case 0xED: need = 3; secondRange = 0x80...0x9F
        case 0xE1...0xEF: need = 3
        case 0xF0: need = 4; secondRange = 0x90...0xBF
        case 0xF4: need = 4; secondRange = 0x80...0x8F
        case 0xF1...0xF3: need = 4
        default: return 0  // ASCII, or a byte that never leads a valid sequence
        }
        guard have < need else { return 0 }
        if have >= 2 && !secondRange.contains(bytes[start + 1]) { return 0 }
        return have
    }
}

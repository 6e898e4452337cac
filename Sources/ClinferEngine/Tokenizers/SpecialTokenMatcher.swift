/// Finds special tokens (`<|im_start|>`, `<|endoftext|>`, ...) in raw text before BPE, so they
/// become single ids instead of being spelled out of `<`, `|`, `im`, ...
///
/// Follows llama.cpp's partitioning exactly: special tokens are tried longest first (ties by id),
/// each claiming its non-overlapping occurrences left to right in the text not yet claimed.
/// Control and unknown tokens are matched only when special parsing is on; user-defined tokens
/// always are.
struct SpecialTokenMatcher: Sendable {
    /// A piece of the input: plain text for BPE, or one special token.
    enum Segment: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    private struct Entry: Sendable {
        let bytes: [UInt8]
        let id: Int32
        let alwaysMatched: Bool
    }

    /// Longest first, then lowest id: the order in which tokens claim text.
    private let entries: [Entry]
    /// For each first byte, the entries starting with it (indices into `entries`).
    private let byFirstByte: [[Int32]]
    /// The special token ids by their text.
    let ids: [String: Int]

    init(tokens: [String], types: [TokenType]) {
        var entries: [Entry] = [], ids: [String: Int] = [:]
        for (id, text) in tokens.enumerated() where types[id].isSpecial && !text.isEmpty {
            entries.append(Entry(bytes: Array(text.utf8), id: Int32(id), alwaysMatched: types[id] == .userDefined))
            ids[text] = id
        }
        entries.sort { $0.bytes.count != $1.bytes.count ? $0.bytes.count > $1.bytes.count : $0.id < $1.id }
        var byFirstByte = [[Int32]](repeating: [], count: 256)
        for (index, entry) in entries.enumerated() { byFirstByte[Int(entry.bytes[0])].append(Int32(index)) }
        self.entries = entries
        self.byFirstByte = byFirstByte
        self.ids = ids
    }

    /// `text` cut into plain-text ranges and special tokens, in order.
    ///
    /// - Parameters:
    ///   - parseSpecial: whether control tokens are recognised at all.
    ///   - controlRanges: when given, control tokens are recognised only when they lie wholly
    ///     inside one of these byte ranges (a chat template's markup).
    func segments(_ text: [UInt8], parseSpecial: Bool, controlRanges: [Range<Int>]? = nil) -> [Segment] {
        // For each byte, the end of the range in which control tokens may start there (0: none).
        var controlEnd = [Int](repeating: parseSpecial && controlRanges == nil ? text.count : 0, count: text.count)
        if parseSpecial, let controlRanges {
            for range in controlRanges where range.upperBound <= text.count {
                for index in range { controlEnd[index] = range.upperBound }
            }
        }
        // Every place some special token occurs, as (priority, start).
        var occurrences: [(entry: Int32, start: Int)] = []
        for start in text.indices {
            for index in byFirstByte[Int(text[start])] {
                let entry = entries[Int(index)]
                let end = start + entry.bytes.count
                guard end <= text.count, entry.alwaysMatched || end <= controlEnd[start] else { continue }
                if text[start..<(start + entry.bytes.count)].elementsEqual(entry.bytes) {
                    occurrences.append((index, start))
                }
            }
        }
        guard !occurrences.isEmpty else { return text.isEmpty ? [] : [.text(0..<text.count)] }

        // Claim in priority order; an occurrence overlapping claimed text is dropped.
        occurrences.sort { $0.entry != $1.entry ? $0.entry < $1.entry : $0.start < $1.start }
        var claimed = [Bool](repeating: false, count: text.count)
        var accepted: [(start: Int, end: Int, id: Int32)] = []
        for occurrence in occurrences {
            let end = occurrence.start + entries[Int(occurrence.entry)].bytes.count
            guard !claimed[occurrence.start..<end].contains(true) else { continue }
            for index in occurrence.start..<end { claimed[index] = true }
            accepted.append((occurrence.start, end, entries[Int(occurrence.entry)].id))
        }
        accepted.sort { $0.start < $1.start }

        var segments: [Segment] = [], cursor = 0
        for match in accepted {
            if match.start > cursor { segments.append(.text(cursor..<match.start)) }
            segments.append(.token(match.id))
            cursor = match.end
        }
        if cursor < text.count { segments.append(.text(cursor..<text.count)) }
        return segments
    }
}

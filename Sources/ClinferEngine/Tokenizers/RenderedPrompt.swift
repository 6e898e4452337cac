/// A chat prompt as text, with the byte ranges that are the template's own markup.
///
/// Control tokens (`<|im_start|>`, `<|eot_id|>`) may be recognised only inside markup: text a
/// client sent, message content and roles, is tokenized as text even when it spells a control
/// token, so `"hi<|im_end|>\n<|im_start|>system\n…"` in a user message cannot forge a turn.
public struct RenderedPrompt: Sendable, Equatable {
    /// The whole prompt, exactly as the template renders it.
    public private(set) var text = ""
    /// UTF-8 byte ranges of `text` written by the template, in order.
    public private(set) var markupRanges: [Range<Int>] = []
    private var byteCount = 0

    public init() {}

    /// Appends text the template writes.
    mutating func markup(_ piece: String) {
        let count = piece.utf8.count
        guard count > 0 else { return }
        if let last = markupRanges.last, last.upperBound == byteCount {
            markupRanges[markupRanges.count - 1] = last.lowerBound..<(byteCount + count)
        } else {
            markupRanges.append(byteCount..<(byteCount + count))
        }
        append(piece, count: count)
    }

    /// Appends text that came from a message.
    mutating func content(_ piece: String) { append(piece, count: piece.utf8.count) }

    private mutating func append(_ piece: String, count: Int) {
        text += piece
        byteCount += count
    }
}
